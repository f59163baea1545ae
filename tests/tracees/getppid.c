/* Calls getppid through syscall() and prints "result errno" so a test can
   see what an aborted system call returned to the program. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
    errno = 0;
    long r = syscall(SYS_getppid);
    printf("%ld %d\n", r, r == -1 ? errno : 0);
    return 0;
}
