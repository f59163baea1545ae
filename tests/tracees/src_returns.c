/* Source-level tracee for tests/test_repl_vs_gdb_live.py: functions returning
   floating point and small structs (finish's "Value returned"), and a loop whose
   lines carry breakpoints that next/step/until land on. */
#include <stdio.h>

struct pair { int a; int b; };
struct mixed { double x; long n; };
struct floats { float f; float g; };
struct big { long v[4]; };
struct twin { double x; double y; };

volatile int sink;

__attribute__((noinline)) double half_of(int n) { return n / 2.0; }
__attribute__((noinline)) float third_of(int n) { return n / 3.0f; }
__attribute__((noinline)) struct pair make_pair(int a, int b) { struct pair p = {a, b}; return p; }
__attribute__((noinline)) struct mixed make_mixed(int n) { struct mixed m = {n * 0.25, n}; return m; }
__attribute__((noinline)) struct floats make_floats(int n) { struct floats f = {n, -n}; return f; }
__attribute__((noinline)) struct big make_big(int n) { struct big b = {{n, n + 1, n + 2, n + 3}}; return b; }
__attribute__((noinline)) struct twin make_twin(int n) { struct twin t = {n, n * 1.5}; return t; }
__attribute__((noinline)) long double quarter_of(int n) { return n / 4.0L; }
__attribute__((noinline)) char initial(const char *s) { return s[0]; }

int main(void)
{
    int total = 0;
    for (int i = 0; i < 6; i++) {
        total += i;
        sink = total;
        total += 1;
    }
    double h = half_of(3);
    float t = third_of(4);
    struct pair p = make_pair(1, 2);
    struct mixed m = make_mixed(6);
    struct floats f = make_floats(5);
    struct big b = make_big(7);
    struct twin w = make_twin(2);
    long double q = quarter_of(3);
    char c = initial("xyz");
    printf("%d %g %g %d %g %d %g %Lg %c\n", total, h, t, p.a + p.b, m.x,
           (int)b.v[0] + (int)f.f, w.y, q, c);
    return 0;
}
