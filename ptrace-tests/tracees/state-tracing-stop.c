/* state-tracing-stop: raises SIGUSR1 (handled) then stops itself with
 * SIGSTOP; exits 0 once continued. */
#include "common.h"

static void handler(int sig)
{
	(void)sig;
}

int main(void)
{
	signal(SIGUSR1, handler);
	raise(SIGUSR1);
	raise(SIGSTOP);
	say("continued");
	return 0;
}
