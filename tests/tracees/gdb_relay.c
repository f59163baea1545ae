/* Threads that hand over to one another: argv[1] (default 4) relays, each a
 * chain of threads in which every thread creates its successor and exits, so
 * that a relay's thread ids never stop changing while it runs.  Prints
 * "ready" once they run, then exits 0 at EOF on stdin.  A debugger that
 * misses one thread of a chain (attached after it had handed over) misses the
 * whole chain from then on: a live thread it does not know of. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *relay(void *arg)
{
    pthread_t next;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (pthread_create(&next, &attr, relay, arg) != 0)
        ;  /* (EAGAIN while the thread before is still being reaped) */
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, relay, NULL))
            return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready\n");
    char line[64];
    while (fgets(line, sizeof line, stdin)) {}
    _exit(0);
}
