/* bench/bp_tracee.c: the tracee of bench/breakpoints_steps.py.
 *
 * Usage: bp_tracee HITS SPIN
 * Calls bench_mark() once (where single-stepping starts), then the noinline
 * function bench_hit() HITS times (where the breakpoint goes), then spins
 * SPIN iterations of a loop that bumps a volatile counter (bench_spun): the
 * straight-line code the single-steppers walk through.  Exits 0.
 *
 * Built with -O2 -no-pie -fcf-protection=none: the addresses that `nm`
 * prints are the run-time addresses (no load bias to add), and the first
 * instruction of each function is its own (no endbr64 for gdb to skip).
 */
#include <stdlib.h>

volatile long bench_calls;
volatile long bench_spun;

__attribute__((noinline, noipa)) void bench_mark(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline, noipa)) void bench_hit(void)
{
	bench_calls++;
}

int main(int argc, char **argv)
{
	long hits = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	long spin = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	bench_mark();
	for (long i = 0; i < hits; i++)
		bench_hit();
	for (long i = 0; i < spin; i++)
		bench_spun++;
	return 0;
}
