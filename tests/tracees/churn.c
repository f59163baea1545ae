/* Threads that come and go: argv[1] (default 4) spawner threads each create
   and join short-lived threads (each makes one getppid call) for argv[2]
   seconds (default 3), then stop.  Prints "ready" once they run, then exits 0
   at EOF on stdin.  (The churn ends by itself: under a tracer that serves
   the newest threads first, a churn without end can starve the main thread.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double seconds;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *brief(void *arg) {
    (void)arg;
    syscall(SYS_getppid);
    return NULL;
}

static void *spawner(void *arg) {
    double end = *(double *)arg;
    while (now() < end) {
        pthread_t t;
        if (pthread_create(&t, NULL, brief, NULL) == 0) pthread_join(t, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4;
    seconds = argc > 2 ? atof(argv[2]) : 3;
    static double end;
    end = now() + seconds;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, spawner, &end)) return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    char line[64];
    while (fgets(line, sizeof line, stdin)) {}
    _exit(0);
}
