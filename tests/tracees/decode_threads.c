/* The differential test's pthreads program (tests/test_decode_vs_strace_live.py):
   two threads each write one line and exit; main joins them in order. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *worker(void *arg) {
    const char *line = arg;
    write(1, line, strlen(line));
    return NULL;
}

int main(void) {
    pthread_t a, b;
    if (pthread_create(&a, NULL, worker, "thread a\n")) return 2;
    if (pthread_join(a, NULL)) return 3;
    if (pthread_create(&b, NULL, worker, "thread b\n")) return 2;
    if (pthread_join(b, NULL)) return 3;
    write(1, "joined\n", 7);
    return 0;
}
