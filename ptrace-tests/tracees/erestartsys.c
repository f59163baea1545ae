/* erestartsys: blocks in read(0) with no signal handler; the debugger
 * interrupts it (PTRACE_INTERRUPT) and resumes.  The read must be restarted
 * transparently and return the byte written later: exit 0. */
#include "common.h"

int main(void)
{
	char c = 0;
	int n;

	say("read_nr %d", (int)SYS_read);
	n = read(0, &c, 1);
	say("read %d %c errno %d", n, c ? c : '-', n < 0 ? errno : 0);
	return n == 1 && c == 'x' ? 0 : 1;
}
