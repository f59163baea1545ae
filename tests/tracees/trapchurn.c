/* Threads that run through a breakpoint site while the tracer comes and goes.
   Prints "ADDRESS PID" (ADDRESS: target()), then obeys stdin lines, answering
   each with one line:
     "spin N"     N threads call target() in a loop until "stop"  -> "spinning N"
     "stop"       the spinning threads finish and are joined      -> "stopped TOTAL"
     "vfork N"    vfork(); the child writes "child running", calls target()
                  N times and _exit(7)s; then the reader waits for it
                                          -> "child running", "vfork child STATUS"
     "main-exit"  the main thread calls pthread_exit(); a new thread reads the
                  commands from then on, and answers once the leader is a
                  zombie (State Z in /proc/PID/task/PID/stat)     -> "main gone"
   EOF exits 0 (exit() from whichever thread reads the commands).
   "trapchurn exec N": no commands; N threads call target() in a loop, the
   main thread calls pthread_exit(), and another thread, once the leader is a
   zombie and target() has run 100 times, execs this program again as
   "trapchurn exec-done", which prints "exec done" and exits 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long total;
static volatile int stopping;
static pthread_t workers[64];
static int nworkers;

__attribute__((noinline)) void target(void) {
    __atomic_add_fetch(&total, 1, __ATOMIC_SEQ_CST);
}

/* Called through a pointer: on ppc64 ELFv2 a direct call enters a function at
   its local entry point, past the global one whose address %p prints. */
static void (*volatile call_target)(void) = target;

static void *worker(void *arg) {
    (void)arg;
    while (!stopping) call_target();
    return NULL;
}

static char leader_state(void) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", getpid(), getpid());
    FILE *f = fopen(path, "r");
    if (!f) return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' ? paren[2] : '?';
}

static void *commands(void *arg) {
    int announce_main_gone = arg != NULL;
    if (announce_main_gone) {
        while (leader_state() != 'Z') sched_yield();  /* the leader's exit must come */
        printf("main gone\n");
    }
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        int n;
        if (sscanf(line, "spin %d", &n) == 1 && n > 0 && n <= 64) {
            stopping = 0;
            nworkers = n;
            for (int i = 0; i < n; i++) pthread_create(&workers[i], NULL, worker, NULL);
            printf("spinning %d\n", n);
        } else if (sscanf(line, "vfork %d", &n) == 1 && n > 0) {
            pid_t pid = vfork();
            if (pid == 0) {  /* on the parent's memory: only write(), target(), _exit() */
                if (write(1, "child running\n", 14) != 14) _exit(2);
                for (int i = 0; i < n; i++) call_target();
                _exit(7);
            }
            int status = 0;
            if (pid < 0 || waitpid(pid, &status, 0) != pid) status = -1;
            printf("vfork child %#x\n", status);
        } else if (strncmp(line, "stop", 4) == 0) {
            stopping = 1;
            for (int i = 0; i < nworkers; i++) pthread_join(workers[i], NULL);
            nworkers = 0;
            printf("stopped %ld\n", total);
        } else if (strncmp(line, "main-exit", 9) == 0 && !announce_main_gone) {
            return (void *)1;  /* non-NULL: the caller hands over and exits */
        } else {
            printf("unknown\n");
        }
    }
    exit(0);
}

static char self_path[4096];  /* read at the start: a zombie leader's /proc/self has no exe */

static void *exec_when_ready(void *arg) {
    (void)arg;
    while (leader_state() != 'Z' || __atomic_load_n(&total, __ATOMIC_SEQ_CST) < 100)
        sched_yield();
    execl(self_path, "trapchurn", "exec-done", (char *)NULL);
    perror("execl");
    exit(2);
}

static int exec_from_a_thread(int n) {
    n = n < 1 ? 1 : n > 64 ? 64 : n;
    ssize_t len = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (len < 0) return 2;
    self_path[len] = 0;
    for (int i = 0; i < n; i++) pthread_create(&workers[i], NULL, worker, NULL);
    pthread_t execer;
    pthread_create(&execer, NULL, exec_when_ready, NULL);
    pthread_exit(NULL);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "exec-done") == 0) {
        printf("exec done\n");
        return 0;
    }
    printf("%p %d\n", (void *)target, getpid());
    if (argc > 2 && strcmp(argv[1], "exec") == 0) return exec_from_a_thread(atoi(argv[2]));
    commands(NULL);  /* returns only for "main-exit" */
    pthread_t reader;
    pthread_create(&reader, NULL, commands, (void *)1);
    pthread_exit(NULL);
}
