/* event-exit-proc-maps: exits 3; at its PTRACE_EVENT_EXIT stop its maps and
 * memory must still be there. */
#include "common.h"

static volatile unsigned long marker = 0x5eed5eedUL;

int main(void)
{
	say("marker %p %#lx", (void *)&marker, marker);
	exit(3);
}
