/* reparent-zombie: the parent forks a child, says its pid, and exits when told
 * (without reaping it).  The traced child, reparented to the debugger's
 * process (a subreaper), exits 7 on SIGUSR1. */
#include "common.h"

static void on_usr1(int sig)
{
	(void)sig;
	_exit(7);
}

int main(void)
{
	pid_t pid;

	signal(SIGUSR1, on_usr1);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(0);
		for (;;)
			pause();
	}
	say("child %d", (int)pid);
	await_go();
	return 0;
}
