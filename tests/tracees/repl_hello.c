/* The REPL's first tracee: a named function that writes "hello\n" with
   write(2), a global to examine, and exit code 3.  Frame pointers (-O0). */
#include <unistd.h>

volatile unsigned char message[] = "hello\n";
volatile long counter = 0x1122334455667788;

int greet(int fd) {
    counter++;
    return (int)write(fd, (const void *)message, 6);
}

int main(void) {
    greet(1);
    return 3;
}
