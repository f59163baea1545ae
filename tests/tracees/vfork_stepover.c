/* FOUND.md, finding A: a breakpoint step-over while a thread waits in vfork().
   Two threads call target() in a loop; the main thread vforks 20 children
   that sleep 20 ms (in the child, before execve) and exec /proc/self/exe
   with an argument (exit 0 at once).  Prints "done", exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
__attribute__((noinline)) void target(void) { __asm__ volatile("" ::: "memory"); }
static void (*volatile call_target)(void) = target;

static void *loop(void *arg) {
    (void)arg;
    while (!stop) call_target();
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) return 0;
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, loop, NULL);
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 20; i++) {
        pid_t pid = vfork();
        if (pid == 0) {
            nanosleep(&pause, NULL);
            execl("/proc/self/exe", "vfork_stepover", "child", (char *)NULL);
            _exit(127);
        }
        waitpid(pid, NULL, 0);
    }
    stop = 1;
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    puts("done");
    return 0;
}
