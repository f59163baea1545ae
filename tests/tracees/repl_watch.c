/* For watchpoints, signals, fork and exec: a global that changes twice after
   a getpid() (a place to stop first), then with argv[1] == "fork" a child
   that execs /bin/true; exit code = the counter. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int counter;

static void bump(void) { counter += 10; }

int main(int argc, char **argv) {
    getpid();
    counter = 1;
    bump();
    if (argc > 1 && strcmp(argv[1], "fork") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            execl("/bin/true", "true", (char *)0);
            _exit(127);
        }
        waitpid(pid, 0, 0);
    }
    if (argc > 1 && strcmp(argv[1], "usr1") == 0)
        raise(SIGUSR1);  /* default action: terminate */
    return counter;
}
