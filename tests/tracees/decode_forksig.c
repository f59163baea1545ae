/* The differential test's program that forks, execs and gets signals
   (tests/test_decode_vs_strace_live.py): a SIGUSR1 handler, a child that
   execs /bin/echo, a child killed by SIGKILL, and a SIGUSR1 to itself. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int sig) {
    (void)sig;
    write(1, "usr1\n", 5);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    int status;
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/echo", "echo", "child", (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    pid = fork();
    if (pid == 0) {
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    waitpid(pid, &status, 0);
    kill(getpid(), SIGUSR1);
    return WIFSIGNALED(status) ? 0 : 1;
}
