/* Waits in pause() for SIGUSR1 (an SA_SIGINFO handler), then prints
   "usr1 code=C pid=P" from the siginfo it got and exits 0.  Prints "ready"
   first. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got, code, pid;

static void on_usr1(int sig, siginfo_t *info, void *ctx) {
    (void)sig; (void)ctx;
    code = info->si_code;
    pid = info->si_pid;
    got = 1;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    while (!got) pause();
    printf("usr1 code=%d pid=%d\n", (int)code, (int)pid);
    return 0;
}
