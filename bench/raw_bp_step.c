/* bench/raw_bp_step.c: the floor for breakpoint hits and single steps -- bare ptrace in C.
 *
 * Usage: raw_bp_step bp ADDR PROG [ARGS...]
 *        raw_bp_step step ADDR STEPS PROG [ARGS...]
 *
 * Forks; the child does PTRACE_TRACEME and execs PROG (a -no-pie program, so
 * ADDR, in hex, is the run-time address).  At the exec stop the parent plants
 * int3 (0xcc) at ADDR with PEEKTEXT/POKETEXT.
 *
 * bp:   on each hit (SIGTRAP with rip == ADDR + 1): GETREGS, rip = ADDR,
 *       SETREGS, restore the original word, PTRACE_SINGLESTEP + waitpid,
 *       re-plant int3, PTRACE_CONT.  The same steps as a debugger's step-over,
 *       and nothing else.
 * step: on the first hit: restore the byte for good, rewind rip, then STEPS
 *       times PTRACE_SINGLESTEP + waitpid; then PTRACE_CONT to the end.
 *
 * Prints "hits N" or "steps N" on stderr and exits with the child's status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t pid;

static void die(const char *what)
{
	perror(what);
	kill(pid, SIGKILL);
	exit(1);
}

static int wait_stop(void)
{
	int status;
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return status;
}

static void poke(unsigned long addr, long word)
{
	if (ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)word) < 0)
		die("PTRACE_POKETEXT");
}

static int finish(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[1], "bp") && strcmp(argv[1], "step"))) {
		fprintf(stderr, "usage: %s bp ADDR PROG [ARGS...] | step ADDR STEPS PROG [ARGS...]\n",
			argv[0]);
		return 2;
	}
	int stepping = !strcmp(argv[1], "step");
	unsigned long addr = strtoul(argv[2], NULL, 16);
	long steps = stepping ? strtol(argv[3], NULL, 10) : 0;
	char **prog = argv + (stepping ? 4 : 3);
	if (!*prog) {
		fprintf(stderr, "raw_bp_step: no program\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) {
			perror("PTRACE_TRACEME");
			_exit(126);
		}
		execvp(prog[0], prog);
		perror("execvp");
		_exit(127);
	}
	int status = wait_stop(); /* SIGTRAP after execve */
	if (!WIFSTOPPED(status)) {
		fprintf(stderr, "raw_bp_step: child did not stop after exec\n");
		return 1;
	}
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL);
	errno = 0;
	long original = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, 0);
	if (errno)
		die("PTRACE_PEEKTEXT");
	long trapped = (original & ~0xffL) | 0xcc;
	poke(addr, trapped);

	long hits = 0, stepped = 0;
	int sig = 0;
	struct user_regs_struct regs;
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, 0, sig) < 0)
			die("PTRACE_CONT");
		sig = 0;
		status = wait_stop();
		if (!WIFSTOPPED(status))
			break;
		if (WSTOPSIG(status) != SIGTRAP) {
			sig = WSTOPSIG(status);
			continue;
		}
		if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
			die("PTRACE_GETREGS");
		if (regs.rip != addr + 1) {
			continue; /* not ours */
		}
		hits++;
		regs.rip = addr;
		if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0)
			die("PTRACE_SETREGS");
		poke(addr, original);
		if (stepping) {
			for (long i = 0; i < steps; i++) {
				if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0)
					die("PTRACE_SINGLESTEP");
				status = wait_stop();
				if (!WIFSTOPPED(status))
					goto gone;
				stepped++;
			}
			continue; /* the trap stays lifted: run to the end */
		}
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0)
			die("PTRACE_SINGLESTEP");
		status = wait_stop();
		if (!WIFSTOPPED(status))
			break;
		poke(addr, trapped);
	}
gone:
	if (stepping)
		fprintf(stderr, "steps %ld\n", stepped);
	else
		fprintf(stderr, "hits %ld\n", hits);
	return finish(status);
}
