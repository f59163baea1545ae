/* bench/seccomp_tracee.c: N raw getppid(2) with M openat(2) spread evenly among them.
 *
 * Usage: seccomp_tracee [N [M]]   (default 200000 100)
 * Prints "work_ns T": the wall time (CLOCK_MONOTONIC) of its own loop, so a
 * tracer's start-up and the program's exec and exit are not in the figure;
 * and "block_median_ns B blocks K": the loop is K blocks (one openat and the
 * getppid calls up to the next), and B the median of their times.  On a
 * shared machine a whole run of tens of ms is rarely left alone, but most of
 * its sub-millisecond blocks are: K * B is the run's time undisturbed.
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

static int by_value(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static void open_close(void)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	if (fd >= 0)
		syscall(SYS_close, fd);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	long m = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
	long every = m > 0 ? n / m : 0;
	long opened = 0, blocks = 0;
	long long *marks = calloc((size_t)(m > 0 ? m : 0) + 2, sizeof *marks);
	if (!marks)
		return 1;
	long long start = now_ns();
	for (long i = 0; i < n; i++) {
		if (every && i % every == 0 && opened < m) {
			marks[blocks++] = now_ns();
			open_close();
			opened++;
		}
		syscall(SYS_getppid);
	}
	for (; opened < m; opened++)  /* m > n: the rest */
		open_close();
	long long end = now_ns();
	if (blocks == 0)
		marks[blocks++] = start;
	marks[blocks] = end;
	for (long k = 0; k < blocks; k++)
		marks[k] = marks[k + 1] - marks[k];
	qsort(marks, (size_t)blocks, sizeof *marks, by_value);
	printf("work_ns %lld\nblock_median_ns %lld blocks %ld\n", end - start,
	       marks[blocks / 2], blocks);
	return 0;
}
