/* bench/tracee.c: make N cheap system calls, then exit 0.
 *
 * Usage: tracee [N]   (default 200000)
 * Each iteration is one raw getppid(2): no libc caching, no I/O, so under a
 * PTRACE_SYSCALL tracer each call costs exactly two stops (entry and exit).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}
