/* The gdb fork-event tests' program: fork (or, with argument "v", vfork) a child
 * that calls in_child() and exits 7*3 (with "e": vfork, in_child(), then exec
 * /bin/true); the parent waits, calls in_parent() and exits 6.  Each side
 * prints a line, so a lost or doubled side shows. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int in_child(int n)
{
    return n * 3;
}

int in_parent(int n)
{
    return n + 1;
}

int main(int argc, char **argv)
{
    int use_exec = argc > 1 && strcmp(argv[1], "e") == 0;
    int use_vfork = use_exec || (argc > 1 && strcmp(argv[1], "v") == 0);
    pid_t pid = use_vfork ? vfork() : fork();
    if (pid == 0) {
        int r = in_child(7);
        if (use_exec)
            execl("/bin/true", "true", (char *)NULL);
        if (!use_vfork) {
            printf("child: %d\n", r);
            fflush(stdout);
        }
        _exit(r);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("parent: child exited %d, in_parent %d\n", WEXITSTATUS(status), in_parent(1));
    fflush(stdout);
    return 6;
}
