/* Long loops with line info, for the progress of next/step/until: a loop on one
   line (one step range), and a loop on one line that calls a function (step
   ranges and step-overs taking turns).  ROUNDS from argv[1] (default 2**40). */
#include <stdlib.h>

volatile unsigned long spins;

static void tick(void) {
    spins++;
}

int main(int argc, char **argv) {
    unsigned long rounds = argc > 1 ? strtoul(argv[1], 0, 0) : 1UL << 40;
    for (unsigned long i = 0; i < rounds; i++) spins++;
    for (unsigned long i = 0; i < rounds; i++) tick();
    return 0;
}
