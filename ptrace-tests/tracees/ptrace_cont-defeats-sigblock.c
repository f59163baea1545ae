/* ptrace_cont-defeats-sigblock: SIGUSR1 is blocked; at the SIGUSR2 stop the
 * debugger resumes with SIGUSR1.  A blocked signal injected that way must stay
 * blocked (pending) until unblocked, then be delivered: exit 0. */
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
	sigset_t set, pending;
	int was_pending, before;

	signal(SIGUSR1, handler);
	signal(SIGUSR2, handler);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	before = usr1;
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	say("usr1 while blocked %d pending %d usr1 after unblock %d usr2 %d",
	    before, was_pending, usr1, usr2);
	return before == 0 && was_pending == 1 && usr1 == 1 && usr2 == 0 ? 0 : 1;
}
