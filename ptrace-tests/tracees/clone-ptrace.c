/* clone-ptrace: a fork-like clone() with CLONE_PTRACE: the child must start
 * traced by our tracer even though no PTRACE_O_TRACE* option asks for it. */
#include "common.h"

static char stack[CHILD_STACK_SIZE] __attribute__((aligned(64)));

static int child_fn(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 7);
	return 0;
}

int main(void)
{
	int status;
	pid_t pid = clone(child_fn, stack + CHILD_STACK_SIZE, CLONE_PTRACE | SIGCHLD, NULL);

	CHECK(pid > 0);
	say("child %d", (int)pid);
	CHECK(waitpid(pid, &status, 0) == pid);
	say("child status %#x", status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 1;
}
