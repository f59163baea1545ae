/* argv[1] raw getppid() calls, then exit 0: a thread that is nearly always in, or
   about to make, a system call (so a PTRACE_INTERRUPT meets a syscall stop first). */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return 0;
}
