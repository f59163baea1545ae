/* Cross-arch demo tracee for the raw stepper (cross_stepper.c).

   Usage: cross_atomic MODE [N]
     loop     N atomic increments by an explicit load-reserve/store-conditional
              loop (ppc64: lwarx/addi/stwcx./bne-), compare-and-swap loop (s390x: cs),
              or lock xadd (x86_64)
     fork     glibc fork() + waitpid, single-threaded (glibc skips its atomics)
     fork-mt  the same with a second thread alive, so glibc's fork() takes its
              atomic paths (_IO_list_lock, malloc arena locks, ...)
     mutex    N pthread_mutex_lock/unlock pairs with a second thread alive

   The region of interest is bracketed by raise(SIGSTOP): the tracer continues to
   the first stop, single-steps, and the second SIGSTOP tells it the region ended.
   Static, no stdio inside the region. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int counter;
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;

static void atomic_inc(int *p) {
#if defined(__powerpc64__) || defined(__powerpc__)
    int tmp;
    /* The seed's shape: the single-step trap between lwarx and stwcx. clears the
       reservation, so stwcx. fails and bne- loops back for ever. */
    __asm__ volatile("1: lwarx  %0,0,%1\n"
                     "   addi   %0,%0,1\n"
                     "   stwcx. %0,0,%1\n"
                     "   bne-   1b\n"
                     : "=&r"(tmp) : "r"(p) : "cr0", "memory");
#elif defined(__s390x__)
    /* s390 has no reservation: CS compares and swaps in one instruction. */
    int old = *p, new;
    __asm__ volatile("0: lr  %1,%0\n"
                     "   ahi %1,1\n"
                     "   cs  %0,%1,%2\n"
                     "   jl  0b\n"
                     : "+d"(old), "=&d"(new), "+Q"(*p) : : "cc", "memory");
#else
    __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
#endif
}

static void *sleeper(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "loop";
    int n = argc > 2 ? atoi(argv[2]) : 1;
    int rc = 0;
    if (!strcmp(mode, "fork-mt") || !strcmp(mode, "mutex")) {
        pthread_t t;
        if (pthread_create(&t, NULL, sleeper, NULL)) return 2;
    }
    raise(SIGSTOP); /* region starts */
    if (!strcmp(mode, "loop")) {
        for (int i = 0; i < n; i++) atomic_inc(&counter);
    } else if (!strncmp(mode, "fork", 4)) {
        pid_t pid = fork();
        if (pid == 0) _exit(7);
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
            rc = 3;
        counter = 1;
    } else if (!strcmp(mode, "mutex")) {
        for (int i = 0; i < n; i++) {
            pthread_mutex_lock(&mtx);
            counter++;
            pthread_mutex_unlock(&mtx);
        }
    } else {
        rc = 2;
    }
    raise(SIGSTOP); /* region ends */
    printf("cross_atomic: mode=%s counter=%d rc=%d\n", mode, counter, rc);
    return rc;
}
