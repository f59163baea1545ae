/* Four threads for `info threads` / `thread N`: three workers wait at a barrier
 * while main stops in all_started(); then everyone finishes. */
#include <pthread.h>
#include <stdio.h>

#define WORKERS 3

static pthread_barrier_t started, finish;
volatile int worker_sum;

void all_started(void)
{
}

void *worker(void *arg)
{
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&finish);
    __sync_fetch_and_add(&worker_sum, (int)(long)arg);
    return arg;
}

int main(void)
{
    pthread_t threads[WORKERS];
    pthread_barrier_init(&started, NULL, WORKERS + 1);
    pthread_barrier_init(&finish, NULL, WORKERS + 1);
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)(i + 1));
    pthread_barrier_wait(&started);
    all_started();
    pthread_barrier_wait(&finish);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    printf("worker_sum=%d\n", worker_sum);
    return 0;
}
