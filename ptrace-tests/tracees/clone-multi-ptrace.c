/* clone-multi-ptrace: 32 thread clones (no TLS), each exiting at once with a
 * raw exit syscall; the main thread waits for all of them and exits 0. */
#include "common.h"

#define NTHREADS 32
static char stacks[NTHREADS][CHILD_STACK_SIZE] __attribute__((aligned(64)));
static volatile pid_t ctids[NTHREADS];

static int thread_fn(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return 0;
}

int main(void)
{
	int i;

	say("exit_nr %d", (int)SYS_exit);
	for (i = 0; i < NTHREADS; i++)
		CHECK(start_thread(thread_fn, NULL, stacks[i], &ctids[i]) > 0);
	for (i = 0; i < NTHREADS; i++)
		say("thread %d", (int)ctids[i]);
	for (i = 0; i < NTHREADS; i++)
		wait_thread(&ctids[i]);
	say("all joined");
	return 0;
}
