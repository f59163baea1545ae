/* The main thread starts a worker and calls pthread_exit: the leader is a
   zombie while the worker runs.  The worker prints "ready", reads one line
   from stdin and exits the process with status 0. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *worker(void *arg) {
    (void)arg;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return NULL;
    _exit(0);
}

int main(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL)) return 2;
    pthread_exit(NULL);
}
