/* Helpers shared by the ptrace-tests tracees.
 *
 * Rules (seed 001): the runner links with -Wl,-z,now so that no lazy PLT
 * resolution runs in the dynamic linker behind a clone() child's back, and
 * code run by a raw clone() child (no TLS set up) calls nothing but raw
 * syscall() that cannot fail -- syscall() sets errno (TLS) on failure.
 *
 * Output goes through say(): one write(2) per line, unbuffered, so a line is
 * in the pipe before the tracee stops at the next event.
 */
#ifndef PTRACE_TESTS_COMMON_H
#define PTRACE_TESTS_COMMON_H

#define _GNU_SOURCE 1
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	if (write(1, buf, n) != n)
		_exit(120);
}

/* A failed check inside the tracee: say why and exit with a code the
 * scenario reports. */
#define CHECK(cond) do { if (!(cond)) { \
	say("tracee check failed: %s at %s:%d (errno %d)", #cond, __FILE__, __LINE__, errno); \
	_exit(121); } } while (0)

/* Wait for a byte on fd 0: the scenario's "go on". */
static __attribute__((unused)) void await_go(void)
{
	char c;
	CHECK(read(0, &c, 1) == 1);
}

/* Stack for raw clone() children: no TLS, no libc inside. */
#define CHILD_STACK_SIZE (64 * 1024)

/* Thread-like clone flags used by the multi-thread tracees. */
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
		      CLONE_THREAD | CLONE_SYSVSEM)

static inline long raw_gettid(void)
{
	return syscall(SYS_gettid);
}


/* ---- raw clone() threads -------------------------------------------------
 * Thread-like children made with glibc's clone() wrapper (assembly, no TLS
 * use), running only raw syscalls.  The parent learns of their exit through
 * CLONE_CHILD_CLEARTID: the kernel zeroes *ctid and wakes the futex.
 */
#include <linux/futex.h>

static __attribute__((unused)) pid_t start_thread(int (*fn)(void *), void *arg, char *stack, volatile pid_t *ctid)
{
	return clone(fn, stack + CHILD_STACK_SIZE,
		     THREAD_FLAGS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
		     arg, (pid_t *)ctid, NULL, (pid_t *)ctid);
}

static __attribute__((unused)) void wait_thread(volatile pid_t *ctid)
{
	pid_t v;

	while ((v = *ctid) != 0)
		syscall(SYS_futex, ctid, FUTEX_WAIT, v, NULL, NULL, 0);
}

#endif
