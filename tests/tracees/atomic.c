/* Stepping through atomic sequences.  A second thread is started first (so
   glibc takes its atomic paths), then getppid() marks the start of the
   region a test steps: argv[1] increments through an explicit
   load-reserve/store-conditional loop (lwarx/stwcx. on ppc64; a locked add
   elsewhere), a pthread_mutex_lock/unlock, and with argv[2] == "fork" a
   glibc fork() whose child exits 0.  Exit code 0 when all went right. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void atomic_inc(int *p) {
#if defined(__powerpc64__)
    int tmp;
    __asm__ volatile("1: lwarx %0,0,%1\n\taddi %0,%0,1\n\tstwcx. %0,0,%1\n\tbne- 1b"
                     : "=&r"(tmp) : "r"(p) : "cr0", "memory");
#else
    __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
#endif
}

static void *sleeper(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 3;
    int do_fork = argc > 2 && strcmp(argv[2], "fork") == 0;
    pthread_t t;
    if (pthread_create(&t, NULL, sleeper, NULL)) return 2;
    syscall(SYS_getppid);  /* the stepped region starts here */
    for (int i = 0; i < n; i++) atomic_inc(&counter);
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
    if (do_fork) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        int status;
        if (waitpid(pid, &status, 0) != pid || status != 0) return 3;
    }
    syscall(SYS_exit_group, counter == n ? 0 : 1);
    return 4;
}
