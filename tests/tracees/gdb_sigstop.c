/* A program that stops itself (raise(SIGSTOP)), for gdb's `continue` that passes the
 * SIGSTOP on: the group stop that follows is a stop gdb is told of, and the next
 * `continue` lets the program go on (as natively). */
#include <signal.h>
#include <stdio.h>

int main(void)
{
    raise(SIGSTOP);
    printf("went on after SIGSTOP\n");
    return 5;
}
