/* waitpid-double-report: a process of two threads that sleep; it stops
 * itself (SIGSTOP) right after creating its second thread, most likely before
 * that thread ever ran: each thread must report the stop exactly once. */
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
	kill(getpid(), SIGSTOP);
	say("continued");
	for (;;)
		pause();
}
