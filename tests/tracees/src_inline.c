/* Inlined calls: gdb shows them as frames of their own. */
__attribute__((noinline)) void marker(int value) { asm volatile("" : : "r"(value) : "memory"); }

static inline int helper(int x)
{
    int doubled = x * 2;
    marker(doubled);
    return doubled + 1;
}

static inline int outer(int a)
{
    int result = helper(a + 1);
    return result * 3;
}

int main(int argc, char **argv)
{
    (void)argv;
    return outer(argc + 4) == 0;
}
