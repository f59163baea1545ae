/* sigint-before-syscall-exit: one getppid(); the debugger sends SIGINT at its
 * entry.  The call must complete with the right result (the debugger checks
 * that its exit stop comes before the signal's delivery) and the handler run
 * once: exit 0. */
#include "common.h"

static volatile int got;

static void handler(int sig)
{
	(void)sig;
	got++;
}

int main(void)
{
	pid_t parent = getppid();
	long result;

	signal(SIGINT, handler);
	say("getppid_nr %d", (int)SYS_getppid);
	result = syscall(SYS_getppid);
	say("result %ld handler %d", result, got);
	return result == parent && got == 1 ? 0 : 1;
}
