/* bench/seccomp_tracee.c: N raw getppid(2) with M openat(2) spread evenly among them.
 *
 * Usage: seccomp_tracee [N [M]]   (default 200000 100)
 * Prints "work_ns T": the wall time (CLOCK_MONOTONIC) of its own loop, so a
 * tracer's start-up and the program's exec and exit are not in the figure.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);  /* the vDSO: no system call */
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	long m = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
	long every = m > 0 ? n / m : 0;
	long opened = 0;
	long long start = now_ns();
	for (long i = 0; i < n; i++) {
		syscall(SYS_getppid);
		if (every && i % every == 0 && opened < m) {
			long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
			if (fd >= 0)
				syscall(SYS_close, fd);
			opened++;
		}
	}
	for (; opened < m; opened++) {  /* m > n: the rest */
		long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
		if (fd >= 0)
			syscall(SYS_close, fd);
	}
	printf("work_ns %lld\n", now_ns() - start);
	return 0;
}
