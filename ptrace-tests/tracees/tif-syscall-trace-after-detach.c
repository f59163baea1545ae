/* tif-syscall-trace-after-detach: makes many system calls; detached in the
 * middle of syscall tracing it must run them to the end untraced and exit 0
 * (a leftover syscall-trace flag would stop it with no tracer: SIGTRAP). */
#include "common.h"

int main(void)
{
	int i;

	await_go();
	for (i = 0; i < 2000; i++)
		syscall(SYS_getppid);
	say("done");
	return 0;
}
