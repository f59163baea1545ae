/* detach-parting-signal: handlers for SIGUSR1 and SIGUSR2; raises SIGUSR2.
 * The debugger detaches at that stop with SIGUSR1 as the parting signal.
 * Exit code: bit 0 = SIGUSR1's handler ran, bit 1 = SIGUSR2's. */
#include "common.h"

static volatile int got;

static void handler(int sig)
{
	got |= sig == SIGUSR1 ? 1 : sig == SIGUSR2 ? 2 : 4;
}

int main(void)
{
	await_go();
	signal(SIGUSR1, handler);
	signal(SIGUSR2, handler);
	raise(SIGUSR2);
	say("got %d", got);
	_exit(got);
}
