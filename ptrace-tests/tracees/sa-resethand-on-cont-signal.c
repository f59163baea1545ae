/* sa-resethand-on-cont-signal: SIGUSR1 has a one-shot (SA_RESETHAND) handler;
 * at the SIGUSR2 stop the debugger resumes with SIGUSR1 instead.  The handler
 * runs once and the disposition goes back to SIG_DFL: exit 0. */
#include "common.h"

static volatile int usr1, usr2;

static void handler(int sig)
{
	if (sig == SIGUSR1)
		usr1++;
	else
		usr2++;
}

int main(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESETHAND;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	signal(SIGUSR2, handler);
	raise(SIGUSR2);
	CHECK(sigaction(SIGUSR1, NULL, &old) == 0);
	say("usr1 %d usr2 %d reset %d", usr1, usr2, old.sa_handler == SIG_DFL);
	return usr1 == 1 && usr2 == 0 && old.sa_handler == SIG_DFL ? 0 : 1;
}
