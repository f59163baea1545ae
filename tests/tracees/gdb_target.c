/* The program the gdb live tests debug, natively and through pydbg-utrace gdbserver.
 * A function of its own (compute), libc calls (write, puts), a global to watch
 * (counter), a string (greeting), a SIGUSR1 with a handler, exit code 3. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int counter;
const char greeting[] = "hello from gdb_target";
static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen++;
}

int compute(int x)
{
    int y = x * 3;
    counter += y;
    return y + 1;
}

int main(void)
{
    int total = 0;
    signal(SIGUSR1, on_usr1);
    for (int i = 0; i < 3; i++)
        total += compute(i);
    raise(SIGUSR1);
    write(1, greeting, strlen(greeting));
    write(1, "\n", 1);
    printf("total=%d counter=%d usr1=%d\n", total, counter, (int)usr1_seen);
    return 3;
}
