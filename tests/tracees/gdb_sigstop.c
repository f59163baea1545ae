/* A program that stops itself (raise(SIGSTOP)), for gdb's `continue` that passes the
 * SIGSTOP on: the group stop that follows is a stop gdb is told of, and the next
 * `continue` lets the program go on (as natively).  With an argument, a second
 * thread sleeps in pause() meanwhile (it takes part in the group stop too). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    (void)argv;
    pthread_t t;
    if (argc > 1 && pthread_create(&t, NULL, sleeper, NULL))
        return 2;
    raise(SIGSTOP);
    printf("went on after SIGSTOP\n");
    return 5;
}
