/* bench/raw_tracer.c: the floor -- a bare PTRACE_SYSCALL + waitpid loop in C.
 *
 * Usage: raw_tracer PROG [ARGS...]
 * Forks, the child does PTRACE_TRACEME and execs PROG; the parent sets
 * TRACESYSGOOD and resumes every stop with PTRACE_SYSCALL until the child
 * exits.  Signal-delivery stops pass their signal on.  Prints the number of
 * syscall stops on stderr ("stops N") and exits with the child's status.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PROG [ARGS...]\n", argv[0]);
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) {
			perror("PTRACE_TRACEME");
			_exit(126);
		}
		execvp(argv[1], argv + 1);
		perror("execvp");
		_exit(127);
	}
	int status;
	/* The first stop: SIGTRAP after execve (TRACEME without SEIZE). */
	if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) {
		fprintf(stderr, "raw_tracer: child did not stop after exec\n");
		return 1;
	}
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
	long stops = 0;
	int sig = 0;
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, 0, sig) < 0) {
			perror("PTRACE_SYSCALL");
			return 1;
		}
		if (waitpid(pid, &status, 0) < 0) {
			perror("waitpid");
			return 1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		sig = 0;
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			stops++;
		else if (WSTOPSIG(status) != SIGTRAP)
			sig = WSTOPSIG(status);
	}
	fprintf(stderr, "stops %ld\n", stops);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
