/* ptrace_event_clone: one thread clone and one fork-like clone with a
 * non-SIGCHLD exit signal: both are PTRACE_EVENT_CLONE. */
#include "common.h"

static char stack1[CHILD_STACK_SIZE] __attribute__((aligned(64)));
static char stack2[CHILD_STACK_SIZE] __attribute__((aligned(64)));
static volatile pid_t ctid;

static int thread_fn(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return 0;
}

static int child_fn(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 9);
	return 0;
}

int main(void)
{
	int status;
	pid_t tid, pid;

	signal(SIGUSR1, SIG_IGN); /* the clone child's exit signal */
	tid = start_thread(thread_fn, NULL, stack1, &ctid);
	CHECK(tid > 0);
	say("thread %d", (int)tid);
	wait_thread(&ctid);
	pid = clone(child_fn, stack2 + CHILD_STACK_SIZE, SIGUSR1, NULL);
	CHECK(pid > 0);
	say("child %d", (int)pid);
	CHECK(waitpid(pid, &status, __WALL) == pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 9 ? 0 : 1;
}
