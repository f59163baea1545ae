/* Breakpoint target practice.  Prints the address of target(), then obeys
   stdin lines: "threads N M" runs N threads calling target() M times each
   and prints the total; "fork M" forks a child that calls target() M times
   and prints the child's exit status; EOF exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long total;
static int per_thread;

__attribute__((noinline)) void target(void) {
    __atomic_add_fetch(&total, 1, __ATOMIC_SEQ_CST);
}

/* Called through a pointer: on ppc64 ELFv2 a direct call enters a function at
   its local entry point, past the global one whose address %p prints. */
static void (*volatile call_target)(void) = target;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < per_thread; i++) call_target();
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("%p\n", (void *)target);
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        int n, m;
        if (sscanf(line, "threads %d %d", &n, &m) == 2) {
            pthread_t t[64];
            total = 0;
            per_thread = m;
            for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, NULL);
            for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
            printf("total %ld\n", total);
        } else if (sscanf(line, "fork %d", &m) == 1) {
            pid_t pid = fork();
            if (pid == 0) {
                for (int i = 0; i < m; i++) call_target();
                _exit(0);
            }
            int status;
            waitpid(pid, &status, 0);
            printf("child %d\n", status);
        }
    }
    return 0;
}
