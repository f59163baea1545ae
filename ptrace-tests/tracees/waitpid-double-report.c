/* waitpid-double-report: a process of two threads that sleep; stopped with
 * SIGSTOP, each thread must report the stop exactly once. */
#include "common.h"
#include <pthread.h>

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void)
{
	pthread_t th;

	CHECK(pthread_create(&th, NULL, idle_thread, NULL) == 0);
	say("ready");
	for (;;)
		pause();
}
