/* Counts SIGUSR1 in a handler.  Sends itself SIGUSR1 argv[1] times (default 3)
   with kill(), then ignores SIGUSR2 and sends it once, and prints
   "usr1 N".  Exit code is the count. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t count;

static void on_usr1(int sig) { (void)sig; count++; }

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 3;
    signal(SIGUSR1, on_usr1);
    for (int i = 0; i < n; i++) kill(getpid(), SIGUSR1);
    signal(SIGUSR2, SIG_IGN);
    kill(getpid(), SIGUSR2);
    printf("usr1 %d\n", (int)count);
    return count;
}
