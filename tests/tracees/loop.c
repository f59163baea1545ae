/* A known loop for stepping: argv[1] iterations of a tiny counted loop,
   then exit.  Built -O0 so each iteration is a fixed instruction sequence. */
#include <stdlib.h>

int main(int argc, char **argv) {
    volatile long n = argc > 1 ? atol(argv[1]) : 10, i;
    for (i = 0; i < n; i++) {
    }
    return 0;
}
