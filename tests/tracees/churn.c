/* Threads that come and go: argv[1] (default 4) spawner threads each create
   and join short-lived threads in a loop (each makes one getppid call).
   Prints "ready" once they run, then exits 0 at EOF on stdin. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *brief(void *arg) {
    (void)arg;
    syscall(SYS_getppid);
    return NULL;
}

static void *spawner(void *arg) {
    (void)arg;
    for (;;) {
        pthread_t t;
        if (pthread_create(&t, NULL, brief, NULL) == 0) pthread_join(t, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, spawner, NULL)) return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    char line[64];
    while (fgets(line, sizeof line, stdin)) {}
    _exit(0);
}
