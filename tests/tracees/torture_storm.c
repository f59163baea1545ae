/* The torture suite's storm (tests/torture/, docs/torture.md): a seeded
   program that does many things a debugger finds hard, at once, and prints a
   checksum of its own work that depends only on the seed.

     torture_storm SEED [-r ROUNDS] [-t THREADS] [-c CALLS] [-z] [-x] [-d] [-F] [-w]
     torture_storm --child CODE     exit CODE (what fork+exec children run)
     torture_storm --final HEX      print "checksum HEX", exit 23 (after -x)

   Each round starts 1..THREADS worker threads that call storm_target() (the
   breakpoint target) CALLS/2..3*CALLS/2 times and then exit, and meanwhile
   does one of: fork a child that calls storm_target() and exits; fork+exec
   this program with --child; vfork+exec it; or a signal ping-pong (SIGUSR1
   sent with pthread_kill to a thread with a handler, each one acknowledged
   by the handler through a semaphore, so the count is exact).  Everything
   the checksum adds up is a function of the seed: the order threads finish
   in does not matter (it is a sum), and no signal can be lost or merged.

   -z: the main thread calls pthread_exit() once the storm thread runs (a
       zombie leader for the rest of the program's life).
   -x: the end is an execve from a non-leader thread, while another thread
       still calls storm_target(); the new image prints the checksum.
   -F: fork instead of vfork for the vfork+exec rounds (same checksum): to
       tell a vfork problem from the others.
   -w: warm-up churn: threads are created and exit (uncounted) until a byte
       or EOF arrives on stdin; then the storm proper.  A debugger attached
       during the warm-up attaches to a process whose threads come and go.
   -d: first print the signal dispositions and mask the program started with
       ("start ignored=HEX blocked=HEX"): a debugger must not leak its own.

   Output: [the -d line] "checksum %016llx"; exit status 23.  Any internal
   failure prints "storm: ..." on stderr and exits 2. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STATUS 23
#define MAX_THREADS 16

static unsigned long long checksum;
static int rounds = 6, max_threads = 4, calls = 200, zombie_leader, exec_from_thread, no_vfork,
    warm_up;
static unsigned long long seed;

static void die(const char *what) {
    dprintf(2, "storm: %s: %s\n", what, strerror(errno));
    _exit(2);
}

static unsigned long long splitmix(unsigned long long *state) {
    unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void add(unsigned long long value) {
    __atomic_add_fetch(&checksum, value, __ATOMIC_SEQ_CST);
}

/* The breakpoint target. */
__attribute__((noinline)) unsigned long long storm_target(unsigned long long acc,
                                                          unsigned long long j) {
    return (acc ^ (acc >> 29)) * 0x5851f42d4c957f2dULL + j;
}

/* Called through a pointer: on ppc64 ELFv2 a direct call enters a function at
   its local entry point, past the global one the symbol table names. */
static unsigned long long (*volatile call_target)(unsigned long long,
                                                  unsigned long long) = storm_target;

static unsigned long long work(unsigned long long key, int n) {
    unsigned long long acc = key;
    for (int j = 0; j < n; j++) acc = call_target(acc, (unsigned long long)j);
    return acc;
}

struct job { unsigned long long key; int n; };

static void *worker(void *arg) {
    struct job *job = arg;
    add(work(job->key, job->n));
    return NULL;
}

/* -- signal ping-pong ------------------------------------------------------- */
static sem_t acked;
static volatile int stop_receiver;
static unsigned long long handled;

static void on_usr1(int sig) {
    (void)sig;
    __atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
    sem_post(&acked);  /* async-signal-safe */
}

static void *receiver(void *arg) {
    unsigned long long acc = (unsigned long long)(unsigned long)arg;
    while (!stop_receiver) acc = call_target(acc, 1);  /* not counted: timing-dependent */
    return NULL;
}

static void ping_pong(int pings) {
    pthread_t t;
    stop_receiver = 0;
    __atomic_store_n(&handled, 0, __ATOMIC_SEQ_CST);
    if (pthread_create(&t, NULL, receiver, (void *)7UL)) die("pthread_create");
    for (int i = 0; i < pings; i++) {
        if (pthread_kill(t, SIGUSR1)) die("pthread_kill");
        while (sem_wait(&acked) != 0)
            if (errno != EINTR) die("sem_wait");
    }
    stop_receiver = 1;
    pthread_join(t, NULL);
    add(__atomic_load_n(&handled, __ATOMIC_SEQ_CST) * 1000003ULL);
}

/* -- children ---------------------------------------------------------------- */
static char self_path[4096];

static unsigned long long reap(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) != pid)
        if (errno != EINTR) die("waitpid");
    if (!WIFEXITED(status)) {
        dprintf(2, "storm: child %d ended with status %#x\n", pid, status);
        _exit(2);
    }
    return (unsigned long long)WEXITSTATUS(status) << 8;
}

static unsigned long long fork_child(unsigned long long key) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) _exit((int)(work(key, calls / 4) & 0x7f));
    return reap(pid);
}

static unsigned long long exec_child(unsigned long long key, int use_vfork) {
    char code[16];
    snprintf(code, sizeof code, "%d", (int)(key & 0x7f));
    char *argv[] = {self_path, "--child", code, NULL};
    pid_t pid = use_vfork ? vfork() : fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        execv(self_path, argv);
        _exit(127);
    }
    return reap(pid);
}

/* -- the storm ------------------------------------------------------------- */
static void round_of(unsigned long long *rng) {
    pthread_t t[MAX_THREADS];
    struct job jobs[MAX_THREADS];
    int n = 1 + (int)(splitmix(rng) % (unsigned)max_threads);
    for (int i = 0; i < n; i++) {
        jobs[i].key = splitmix(rng);
        jobs[i].n = calls / 2 + (int)(splitmix(rng) % (unsigned)(calls + 1));
        if (pthread_create(&t[i], NULL, worker, &jobs[i])) die("pthread_create");
    }
    unsigned long long key = splitmix(rng);
    switch (splitmix(rng) % 4) {
    case 0: add(fork_child(key)); break;
    case 1: add(exec_child(key, 0)); break;
    case 2: add(exec_child(key, !no_vfork)); break;
    default: ping_pong(1 + (int)(key % 8)); break;
    }
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
}

static void *spinner(void *arg) {
    (void)arg;
    for (unsigned long long acc = 1;;) acc = call_target(acc, 2);
    return NULL;
}

static void *exec_final(void *arg) {
    (void)arg;
    char hex[32];
    snprintf(hex, sizeof hex, "%016llx", checksum);
    char *argv[] = {self_path, "--final", hex, NULL};
    execv(self_path, argv);
    die("execv");
    return NULL;
}

static void finish(void) {
    if (!exec_from_thread) {
        dprintf(1, "checksum %016llx\n", checksum);
        exit(STATUS);
    }
    pthread_t spin, execer;
    if (pthread_create(&spin, NULL, spinner, NULL)) die("pthread_create");
    if (pthread_create(&execer, NULL, exec_final, NULL)) die("pthread_create");
    pthread_join(execer, NULL);  /* never returns: the exec ends this image */
    die("exec from a thread returned");
}

/* -- the warm-up: uncounted thread churn until stdin says go -------------------- */
static volatile int warming = 1;

static void *short_lived(void *arg) {
    (void)arg;
    work(1, 2000);
    return NULL;
}

static void *churn(void *arg) {
    (void)arg;
    while (warming) {
        pthread_t t[8];
        for (int i = 0; i < 8; i++)
            if (pthread_create(&t[i], NULL, short_lived, NULL)) die("pthread_create");
        for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
        /* Breathe: on a one-CPU emulated guest a busy churn would starve the
           debugger that is starting up to attach to it. */
        struct timespec pause = {0, 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static void warm_up_until_stdin(void) {
    pthread_t t;
    char go;
    if (pthread_create(&t, NULL, churn, NULL)) die("pthread_create");
    while (read(0, &go, 1) < 0)
        if (errno != EINTR) die("read stdin");
    warming = 0;
    pthread_join(t, NULL);
}

static void *storm(void *arg) {
    (void)arg;
    unsigned long long rng = seed;
    for (int r = 0; r < rounds; r++) round_of(&rng);
    finish();
    return NULL;
}

static void print_start_dispositions(void) {
    unsigned long long ignored = 0, blocked = 0;
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    for (int sig = 1; sig < 64; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            ignored |= 1ULL << (sig - 1);
        if (sigismember(&mask, sig) == 1) blocked |= 1ULL << (sig - 1);
    }
    dprintf(1, "start ignored=%016llx blocked=%016llx\n", ignored, blocked);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return atoi(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--final") == 0) {
        dprintf(1, "checksum %s\n", argv[2]);
        return STATUS;
    }
    if (argc < 2) {
        dprintf(2, "usage: %s SEED [-r ROUNDS] [-t THREADS] [-c CALLS] [-z] [-x] [-d] [-F] [-w]\n",
                argv[0]);
        return 2;
    }
    seed = strtoull(argv[1], NULL, 0);
    int show_dispositions = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) max_threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) calls = atoi(argv[++i]);
        else if (strcmp(argv[i], "-z") == 0) zombie_leader = 1;
        else if (strcmp(argv[i], "-x") == 0) exec_from_thread = 1;
        else if (strcmp(argv[i], "-d") == 0) show_dispositions = 1;
        else if (strcmp(argv[i], "-F") == 0) no_vfork = 1;
        else if (strcmp(argv[i], "-w") == 0) warm_up = 1;
        else { dprintf(2, "storm: bad argument %s\n", argv[i]); return 2; }
    }
    if (max_threads < 1 || max_threads > MAX_THREADS || calls < 1 || rounds < 0) {
        dprintf(2, "storm: -t must be 1..%d, -c >= 1, -r >= 0\n", MAX_THREADS);
        return 2;
    }
    if (show_dispositions) print_start_dispositions();
    ssize_t len = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (len < 0) die("readlink /proc/self/exe");
    self_path[len] = 0;
    if (sem_init(&acked, 0, 0)) die("sem_init");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL)) die("sigaction");
    if (warm_up) warm_up_until_stdin();
    if (!zombie_leader) {
        storm(NULL);
        return 2;  /* not reached */
    }
    pthread_t t;
    if (pthread_create(&t, NULL, storm, NULL)) die("pthread_create");
    pthread_exit(NULL);
}
