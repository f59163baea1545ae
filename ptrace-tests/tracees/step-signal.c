/* step-through-sigret and step-into-handler: a SIGUSR1 handler to step into
 * and out of through sigreturn, then a counting loop that must still be
 * stepped (not run free) after the sigreturn.  Exits 0 if the handler ran
 * exactly once and the loop finished. */
#include "common.h"

#define COUNT 100
static volatile long counter;
static volatile int handled;

static void handler(int sig)
{
	(void)sig;
	handled++;
}

int main(void)
{
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	say("handler %p counter %p %d", (void *)handler, (void *)&counter, COUNT);
	raise(SIGUSR1);
	for (i = 0; i < COUNT; i++)
		counter++;
	_exit(handled == 1 && counter == COUNT ? 0 : 1);
}
