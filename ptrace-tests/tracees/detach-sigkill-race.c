/* detach-sigkill-race: just sleeps; the debugger attaches, then SIGKILL and
 * PTRACE_DETACH race. */
#include "common.h"

int main(void)
{
	for (;;)
		pause();
}
