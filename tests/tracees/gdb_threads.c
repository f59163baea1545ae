/* Four threads for `info threads` / `thread N`: three workers block in read(2)
 * on a pipe while main stops in all_started(); then main lets them finish.
 * Main waits until /proc says each worker is inside read (syscall 0 on x86_64)
 * so that every thread's frame is the same in every run. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORKERS 3

static int gate[2];
static volatile pid_t tids[WORKERS];
volatile int worker_sum;

void all_started(void)
{
}

void *worker(void *arg)
{
    char token;
    long n = (long)arg;
    tids[n - 1] = (pid_t)syscall(SYS_gettid);
    if (read(gate[0], &token, 1) != 1)
        abort();
    __sync_fetch_and_add(&worker_sum, (int)n);
    return arg;
}

static int in_read(pid_t tid)
{
    char path[64], line[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int ok = fgets(line, sizeof line, f) != NULL && line[0] == '0' && line[1] == ' ';
    fclose(f);
    return ok;
}

int main(void)
{
    pthread_t threads[WORKERS];
    if (pipe(gate) != 0)
        return 1;
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)(i + 1));
    for (int i = 0; i < WORKERS; i++)
        while (tids[i] == 0 || !in_read(tids[i]))
            sched_yield();
    all_started();
    if (write(gate[1], "xxx", WORKERS) != WORKERS)
        return 1;
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    printf("worker_sum=%d\n", worker_sum);
    return 0;
}
