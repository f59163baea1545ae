/* A program that execs itself once: gdb follows the exec (`exec-events`), reloads
 * the program and hits its breakpoint in the new image too. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int stage(int n)
{
    return n * 10;
}

int main(int argc, char **argv)
{
    if (argc == 1) {
        stage(1);
        execl("/proc/self/exe", argv[0], "again", (char *)NULL);
        return 1;
    }
    printf("after exec: stage=%d\n", stage(2));
    return 4;
}
