/* waitpid-double-report: a process of two threads that sleep; it stops
 * itself (SIGSTOP) right after creating its second thread.
 *
 * argv[1] "before": pinned to one CPU, the new thread has (almost always) not
 *                   run yet, so its very first stop is the group stop;
 * argv[1] "after":  the main thread waits until the new thread has run (a
 *                   byte on a pipe) before stopping itself;
 * argv[1] "race":   neither: the stop races with the new thread's start;
 * argv[1] "external": it does not stop itself (the debugger sends SIGSTOP
 *                   at the clone event), it only says when it goes on.
 *
 * Each thread must report the stop exactly once. */
#include "common.h"
#include <pthread.h>

static int ran[2];

static void *idle_thread(void *arg)
{
	(void)arg;
	CHECK(write(ran[1], "r", 1) == 1);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *order = argc > 1 ? argv[1] : "race";
	int after = strcmp(order, "after") == 0;
	pthread_t th;
	cpu_set_t one;
	char c;

	CHECK(pipe(ran) == 0);
	if (strcmp(order, "before") == 0) {
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		sched_setaffinity(0, sizeof one, &one);	/* best effort */
	}
	CHECK(pthread_create(&th, NULL, idle_thread, NULL) == 0);
	if (after)
		CHECK(read(ran[0], &c, 1) == 1);
	if (strcmp(order, "external") != 0)
		kill(getpid(), SIGSTOP);
	say("continued");
	for (;;)
		pause();
}
