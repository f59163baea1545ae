/* The guests' trace test (tests/test_cross_trace_vs_strace_live.py): the system calls
 * whose decoding depends on the architecture's ABI, each made once, deterministically.
 *
 * mmap/mprotect/munmap (s390x passes mmap's six arguments through a block in memory),
 * a file created, stat'ed through fstatat (newfstatat on 64-bit) and read back, the
 * socket calls through glibc (which may use socketcall on ppc64 and s390x) and, where
 * the arch has them, the multiplexed socketcall and ipc calls made raw, System V shared
 * memory through glibc (ipc or the direct calls), fork + wait4 (clone's argument order:
 * CLONE_BACKWARDS on powerpc, tls/child_tid swapped on s390x), a thread (clone3), a
 * signal with a handler and one with SA_SIGINFO (struct sigaction's layout, the
 * sigreturn frames), uname, getcwd, clock_nanosleep. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATH "/tmp/abi_calls.txt"

static void on_usr1(int sig) { (void)sig; }
static void on_usr2(int sig, siginfo_t *info, void *uc) { (void)sig; (void)info; (void)uc; }

static void *worker(void *arg) {
    write(1, arg, strlen(arg));
    return NULL;
}

static void memory(void) {
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) _exit(10);
    p[0] = 1;
    mprotect(p, 4096, PROT_READ);
    munmap(p, 8192);
}

static void files(void) {
    char buf[64];
    struct stat st;
    int fd = open(PATH, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(11);
    write(fd, "abi calls\n", 10);
    close(fd);
    fstatat(AT_FDCWD, PATH, &st, 0);
    fd = openat(AT_FDCWD, PATH, O_RDONLY | O_CLOEXEC);
    fstat(fd, &st);
    read(fd, buf, sizeof buf);
    close(fd);
    unlink(PATH);
    access("/nonexistent", F_OK);
}

static void sockets(void) {
    int sv[2];
    char buf[16];
    struct sockaddr_un to = {.sun_family = AF_UNIX, .sun_path = "/nonexistent.sock"};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    connect(s, (struct sockaddr *)&to, sizeof to);
    close(s);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    sendto(sv[0], "ping", 4, 0, NULL, 0);
    recvfrom(sv[1], buf, sizeof buf, 0, NULL, NULL);
    close(sv[0]);
    close(sv[1]);
#ifdef SYS_socketcall
    {   /* the multiplexer itself: SYS_SOCKET (1), SYS_CLOSE does not exist, close() */
        long args[3] = {AF_UNIX, SOCK_DGRAM, 0};
        int r = syscall(SYS_socketcall, 1, args);
        if (r >= 0) close(r);
    }
#endif
}

static void sysv(void) {
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id < 0) return;
    void *at = shmat(id, NULL, 0);
    if (at != (void *)-1) shmdt(at);
    shmctl(id, IPC_RMID, NULL);
#ifdef SYS_ipc
    /* ipc(SEMGET=2, IPC_PRIVATE, 1, IPC_CREAT|0600): then remove it (SEMCTL=3) */
    {
        long sem = syscall(SYS_ipc, 2, IPC_PRIVATE, 1, IPC_CREAT | 0600, 0, 0);
        if (sem >= 0) {
            union { int val; } arg = {0};
            syscall(SYS_ipc, 3, sem, 0, IPC_RMID, &arg, 0);
        }
    }
#endif
}

int main(void) {
    struct sigaction sa;
    struct utsname u;
    struct timespec ts = {0, 1000};
    char cwd[256];
    int status;
    pthread_t t;

    memory();
    files();
    sockets();
    sysv();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    kill(getpid(), SIGUSR1);
    sa.sa_sigaction = on_usr2;  /* SA_SIGINFO: rt_sigreturn (s390x: sigreturn above) */
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    kill(getpid(), SIGUSR2);
    pid_t pid = fork();
    if (pid == 0) _exit(7);
    waitpid(pid, &status, 0);
    if (pthread_create(&t, NULL, worker, "thread\n") == 0) pthread_join(t, NULL);
    uname(&u);
    getcwd(cwd, sizeof cwd);
    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    return WEXITSTATUS(status) == 7 ? 0 : 1;
}
