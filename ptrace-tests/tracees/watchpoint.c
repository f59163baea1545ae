/* watchpoint: says where `var` is, stops with SIGUSR1, then writes var = 1
 * (the debugger has set an x86 debug-register write watch on it), exits 0. */
#include "common.h"

static volatile int var;
static volatile int other;

int main(void)
{
	say("var %p", (void *)&var);
	raise(SIGUSR1);
	other = 5;	/* not watched: must not trigger */
	var = 1;
	other = 6;
	say("var %d", var);
	return 0;
}
