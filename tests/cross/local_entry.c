/* ppc64le ELFv2 local entry points (tests/test_cross_local_entry_live.py, issue 15).
 *
 * f uses a global, so it sets up its TOC pointer (r2) in two instructions at its
 * global entry, the symbol's value, where calls through a pointer or the PLT come in;
 * a direct call ("bl f", r2 already right) enters past them, at the local entry that
 * the symbol's st_other encodes.  main calls f directly twice and once through a
 * pointer: a breakpoint at the local entry (or later) sees all three calls, one at
 * the symbol's value only the last.
 *
 * cross-nodebug: tools/vm/run also builds it without debug info (local_entry_nodebug),
 * where break f has only the ELF symbol to go by. */
#include <stdio.h>

volatile int counter;

int f(int x)
{
    counter += x;
    return counter * 2;
}

int (*volatile through_pointer)(int) = f;

int main(void)
{
    int total = f(1);
    total += f(2);
    total += through_pointer(3);
    printf("total=%d counter=%d\n", total, counter);
    return 0;
}
