/* bench/close.py's tracee: argv[1] threads spin (busy, never blocking) until
   EOF on stdin; prints "ready PID" once they all run, exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int stop;
static volatile int running;

static void *spin(void *arg) {
    __atomic_add_fetch(&running, 1, __ATOMIC_SEQ_CST);
    while (!stop) {}
    return arg;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    pthread_t *threads = calloc(n, sizeof *threads);
    for (int i = 0; i < n; i++) pthread_create(&threads[i], NULL, spin, NULL);
    while (running < n) {}
    printf("ready %d\n", getpid());
    fflush(stdout);
    while (getchar() != EOF) {}
    stop = 1;
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    return 0;
}
