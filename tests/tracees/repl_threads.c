/* Three threads: two workers each call getppid() once, then every thread
   waits in pause() forever (blocked in the kernel: parking must interrupt it). */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *worker(void *arg) {
    (void)arg;
    syscall(SYS_getppid);
    for (;;)
        pause();
    return 0;
}

int main(void) {
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&threads[i], 0, worker, 0);
    for (;;)
        pause();
}
