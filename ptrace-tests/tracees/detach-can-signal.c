/* detach-can-signal: blocks in read(0) (no SA_RESTART handler for SIGUSR1);
 * detached at that read's entry, it must still be interruptible by a plain
 * kill(SIGUSR1): the handler runs, read fails with EINTR, exit 0. */
#include "common.h"

static volatile int got;

static void handler(int sig)
{
	(void)sig;
	got++;
}

int main(void)
{
	struct sigaction sa;
	char c;
	int n;

	await_go();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;	/* no SA_RESTART: read returns EINTR */
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	say("read_nr %d", (int)SYS_read);
	n = read(0, &c, 1);
	say("read %d errno %d got %d", n, n < 0 ? errno : 0, got);
	_exit(n < 0 && errno == EINTR && got == 1 ? 0 : 1);
}
