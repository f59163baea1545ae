/* Watchpoint target practice.  Prints the address of the global `watched`,
   then obeys stdin lines: "write N" stores N into it and prints "wrote";
   "read" loads it and prints "read V"; "threads N" runs N threads that each
   add 1 to it (one store each) and prints "joined V"; "fork" forks a child
   that writes it and prints the child's wait status; EOF exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long watched;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* "write N" stores through here: one store instruction a test can find. */
__attribute__((noinline)) void set_watched(long value) {
    watched = value;
}

static void *adder(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    watched = watched + 1;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("%p\n", (void *)&watched);
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        long n;
        if (sscanf(line, "write %ld", &n) == 1) {
            set_watched(n);
            printf("wrote\n");
        } else if (strncmp(line, "read", 4) == 0) {
            long v = watched;
            printf("read %ld\n", v);
        } else if (sscanf(line, "threads %ld", &n) == 1) {
            pthread_t t[16];
            for (long i = 0; i < n && i < 16; i++) pthread_create(&t[i], NULL, adder, NULL);
            for (long i = 0; i < n && i < 16; i++) pthread_join(t[i], NULL);
            printf("joined %ld\n", (long)watched);
        } else if (strncmp(line, "fork", 4) == 0) {
            pid_t pid = fork();
            if (pid == 0) {
                watched = 99;
                _exit(0);
            }
            int status;
            waitpid(pid, &status, 0);
            printf("child %d\n", status);
        }
    }
    return 0;
}
