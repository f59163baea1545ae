/* signal-loss: 100 getppid() calls; the debugger sends SIGUSR1 at each
 * syscall exit stop.  Every one must reach the handler: exit 0 when it
 * counted exactly 100. */
#include "common.h"

#define ROUNDS 100
static volatile int got;

static void handler(int sig)
{
	(void)sig;
	got++;
}

int main(void)
{
	int i;

	signal(SIGUSR1, handler);
	say("getppid_nr %d rounds %d", (int)SYS_getppid, ROUNDS);
	for (i = 0; i < ROUNDS; i++)
		syscall(SYS_getppid);
	say("got %d", got);
	return got == ROUNDS ? 0 : 1;
}
