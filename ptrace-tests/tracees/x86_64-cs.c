/* x86_64-cs: stops with SIGUSR1; the debugger then plays with CS. */
#include "common.h"

int main(void)
{
	raise(SIGUSR1);
	for (;;)
		syscall(SYS_getppid);
}
