/* Threads and fork children created all the time, all calling target(), for a
   tracer that plants a breakpoint there and closes while they come and go.
   Prints "ADDRESS PID" (ADDRESS: target()), then until EOF on stdin two
   spawner threads each create a thread that calls target() 50 times and
   join it, and every 8th round fork a child that does the same and exits 7.
   Exits 0, or 3 if a child did not exit 7 (a stray trap kills it with
   SIGTRAP; in a thread it kills the whole program).  argv[1]: that many more
   threads spin meanwhile (busy, so that stopping them all takes a while);
   argv[2]: fork every that many rounds instead of 8; argv[3]: that many
   spawner threads instead of 2; argv[4]: that many more open descriptors (a
   slower fork: the descriptor table is copied before the memory). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop, failed;
static int fork_every = 8;

__attribute__((noinline)) void target(void) { __asm__ volatile("" ::: "memory"); }
static void (*volatile call_target)(void) = target;

static void *calls(void *arg) {
    for (int i = 0; i < 50; i++) call_target();
    return arg;
}

static void *spin(void *arg) {
    while (!stop) {}
    return arg;
}

static void *spawner(void *arg) {
    (void)arg;
    for (int round = 0; !stop; round++) {
        pthread_t t;
        if (pthread_create(&t, NULL, calls, NULL) == 0) pthread_join(t, NULL);
        if (round % fork_every == 0) {
            pid_t pid = fork();
            if (pid == 0) {
                calls(NULL);
                _exit(7);
            }
            int status = 0;
            pid_t got = pid < 0 ? -1 : waitpid(pid, &status, 0);
            if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7) {
                /* say how, on stderr: a signal (a stray trap), a wrong code, or an error */
                dprintf(2, "closechurn: child %d: waitpid %d, status %#x, errno %d\n",
                        pid, got, status, got == pid ? 0 : errno);
                failed = 1;
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("%p %d\n", (void *)target, getpid());
    pthread_t s[16], spinners[64];
    int spawners = argc > 3 ? atoi(argv[3]) : 2;
    /* argv[4]: that many more open descriptors, so that each fork takes a while
       (copying the descriptor table comes before copying the memory) */
    for (int i = argc > 4 ? atoi(argv[4]) : 0; i > 0; i--)
        if (dup(2) < 0) break;
    spawners = spawners < 1 ? 1 : spawners > 16 ? 16 : spawners;
    int n = argc > 1 ? atoi(argv[1]) : 0;
    n = n < 0 ? 0 : n > 64 ? 64 : n;
    if (argc > 2 && atoi(argv[2]) > 0) fork_every = atoi(argv[2]);
    for (int i = 0; i < n; i++) pthread_create(&spinners[i], NULL, spin, NULL);
    for (int i = 0; i < spawners; i++) pthread_create(&s[i], NULL, spawner, NULL);
    while (getchar() != EOF) {}
    stop = 1;
    for (int i = 0; i < spawners; i++) pthread_join(s[i], NULL);
    for (int i = 0; i < n; i++) pthread_join(spinners[i], NULL);
    return failed ? 3 : 0;
}
