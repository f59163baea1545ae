/* Source-level tracee for tests/test_source_gdb.py: types, globals, a recursive
   function, a libc leaf (write), a signal handler, -O2 locals. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

enum color { RED, GREEN, BLUE = 4 };
enum flags { F_READ = 1, F_WRITE = 2, F_EXEC = 4 };
typedef unsigned int uint_t;
typedef int (*binop_t)(int, int);

struct point { int x; int y; };
struct shape {
    const char *name;
    struct point corner[2];
    enum color color;
    unsigned int visible : 1;
    unsigned int layer : 4;
    double scale;
    binop_t op;
    struct { short a; char tag; } inner;
    union { int i; float f; } u;
    struct shape *next;
};

int counter = 42;
long big = -1234567890123L;
unsigned char byte = 200;
char letter = 'A';
double ratio = 3.14;
float half = 0.5f;
const char *greeting = "hello, debugger";
char buffer[16] = "hi";
int zeros[16];
int matrix[2][3] = {{1, 2, 3}, {4, 5, 6}};
short shorts[4] = {-1, 0, 1, 32767};
enum color paint = BLUE;
enum flags perms = F_READ | F_EXEC;
uint_t count_u = 7;
static int hidden = -5;
volatile sig_atomic_t got_signal;

static int add(int a, int b) { return a + b; }

struct shape shapes[2] = {
    {"square", {{0, 0}, {2, 2}}, GREEN, 1, 3, 1.5, add, {7, 'q'}, {.i = 65}, &shapes[1]},
    {"dot", {{5, 6}, {5, 6}}, RED, 0, 15, 0.25, 0, {-2, 0}, {.i = -1}, 0},
};
struct shape *first = &shapes[0];
int *counter_ptr = &counter;
void *nothing;

__attribute__((noinline)) void marker(int value) { asm volatile("" : : "r"(value) : "memory"); }

int fact(int n)
{
    int result;
    if (n <= 1) {
        write(1, "leaf\n", 5);
        return 1;
    }
    result = n * fact(n - 1);
    return result;
}

void on_signal(int signo)
{
    int seen = signo + 1;
    got_signal = seen;
    marker(seen);
}

__attribute__((noinline)) int sum_first(const int *values, int n)
{
    int total = 0;
    int squares = 0;
    for (int i = 0; i < n; i++) {
        total += values[i];
        squares += values[i] * values[i];
    }
    marker(total);
    return total + squares;
}

int main(void)
{
    int local_numbers[5] = {3, 1, 4, 1, 5};
    struct point here = {10, -20};
    char name[8] = "main";
    struct shape *cursor = first;
    int result = fact(5);
    signal(SIGUSR1, on_signal);
    kill(getpid(), SIGUSR1);
    result += sum_first(local_numbers, 5);
    cursor = cursor->next;
    marker(result + here.x + name[0] + (cursor != 0) + hidden + (int)count_u);
    return got_signal == SIGUSR1 + 1 ? 0 : 1;
}
