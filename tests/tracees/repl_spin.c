/* Says "spinning" on stdout, then loops forever without system calls:
   only an interrupt (or a kill) can stop it. */
#include <unistd.h>

volatile unsigned long spins;

int main(void) {
    write(1, "spinning\n", 9);
    for (;;)
        spins++;
}
