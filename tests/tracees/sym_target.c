/* Symbol target practice.  Prints "ready", then obeys stdin lines: "call"
   calls sym_function() and prints its result; "malloc N" mallocs N bytes
   and prints "malloced"; EOF exits 0.  sym_counter is a global to find by name.
   stdio gets static buffers, so only "malloc N" calls malloc (a lazily
   allocated stdin buffer would race with a breakpoint on malloc). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long sym_counter;

__attribute__((noinline)) long sym_function(long x) {
    sym_counter += x;
    return sym_counter * 2 + 1;
}

int main(void) {
    static char inbuf[4096], outbuf[4096];
    setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);
    setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf);
    printf("ready\n");
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        long n;
        if (strncmp(line, "call", 4) == 0) {
            printf("result %ld\n", sym_function(3));
        } else if (sscanf(line, "malloc %ld", &n) == 1) {
            void *volatile p = malloc((size_t)n);
            free(p);
            printf("malloced\n");
        }
    }
    return 0;
}
