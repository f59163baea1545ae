/* syscall-reset: two invalid system calls, number -1 and number 100000; the
 * debugger sets the return-value register to 42 at each entry.  Says what
 * the program got back. */
#include "common.h"

int main(void)
{
	long r;

	say("start");
	errno = 0;
	r = syscall(-1L);
	say("minus1 %ld errno %d", r, errno);
	errno = 0;
	r = syscall(100000L);
	say("big %ld errno %d", r, errno);
	return 0;
}
