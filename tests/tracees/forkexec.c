/* fork(); the child marks its start with getpid via syscall() (so a tracer
   attached in report_clone must see it), then execs argv[1] (default
   /bin/true).  The parent waits and exits with the child's exit code. */
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *prog = argc > 1 ? argv[1] : "/bin/true";
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        syscall(SYS_getpid);  /* the child's first system call */
        execl(prog, prog, (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) return 3;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}
