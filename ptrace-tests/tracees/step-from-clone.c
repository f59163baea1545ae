/* step-from-clone: the parent is single-stepped through a thread clone; the
 * new thread (raw clone, no TLS) counts and exits; it must not inherit the
 * stepping.  The main thread joins it and exits 0. */
#include "common.h"

static char stack[CHILD_STACK_SIZE] __attribute__((aligned(64)));
static volatile pid_t ctid;
static volatile long counter;

static int thread_fn(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 1000; i++)
		counter++;
	syscall(SYS_exit, 0);
	return 0;
}

int main(void)
{
	pid_t tid;

	raise(SIGUSR1);
	tid = start_thread(thread_fn, NULL, stack, &ctid);
	CHECK(tid > 0);
	wait_thread(&ctid);
	say("thread %d counted %ld", (int)tid, counter);
	return counter == 1000 ? 0 : 1;
}
