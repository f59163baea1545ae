/* Threads and fork children created all the time, all calling target(), for a
   tracer that plants a breakpoint there and closes while they come and go.
   Prints "ADDRESS PID" (ADDRESS: target()), then until EOF on stdin two
   spawner threads each create a thread that calls target() 50 times and
   join it, and every 8th round fork a child that does the same and exits 7.
   Exits 0, or 3 if a child did not exit 7 (a stray trap kills it with
   SIGTRAP; in a thread it kills the whole program).  argv[1]: that many more
   threads spin meanwhile (busy, so that stopping them all takes a while). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop, failed;

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
        if (round % 8 == 0) {
            pid_t pid = fork();
            if (pid == 0) {
                calls(NULL);
                _exit(7);
            }
            int status;
            if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
                || WEXITSTATUS(status) != 7)
                failed = 1;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("%p %d\n", (void *)target, getpid());
    pthread_t s[2], spinners[64];
    int n = argc > 1 ? atoi(argv[1]) : 0;
    n = n < 0 ? 0 : n > 64 ? 64 : n;
    for (int i = 0; i < n; i++) pthread_create(&spinners[i], NULL, spin, NULL);
    for (int i = 0; i < 2; i++) pthread_create(&s[i], NULL, spawner, NULL);
    while (getchar() != EOF) {}
    stop = 1;
    for (int i = 0; i < 2; i++) pthread_join(s[i], NULL);
    for (int i = 0; i < n; i++) pthread_join(spinners[i], NULL);
    return failed ? 3 : 0;
}
