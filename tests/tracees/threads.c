/* Start N threads (argv[1], default 50); each makes one getppid call and exits.
   Prints "joined N" and exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *worker(void *arg) {
    (void)arg;
    syscall(SYS_getppid);
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 50;
    pthread_t *t = calloc(n, sizeof *t);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, worker, NULL)) return 2;
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    printf("joined %d\n", n);
    return 0;
}
