/* Two debuggers, two functions: alpha() and beta() alternate ROUNDS times once a
 * byte arrives on stdin (so both gdbs can plant their breakpoints first).  Each
 * round also makes a write(2), for the syscall logger and the counting probe. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef ROUNDS
#define ROUNDS 5
#endif

volatile int alpha_calls, beta_calls;

void alpha(void)
{
    alpha_calls++;
}

void beta(void)
{
    beta_calls++;
}

int main(void)
{
    char go;
    if (read(0, &go, 1) != 1)
        return 2;
    for (int i = 0; i < ROUNDS; i++) {
        char line[32];
        alpha();
        beta();
        int n = snprintf(line, sizeof line, "round %d\n", i);
        write(1, line, (size_t)n);
    }
    printf("alpha=%d beta=%d\n", alpha_calls, beta_calls);
    return 0;
}
