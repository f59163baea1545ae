/* step-fork: the tracer single-steps this program straight through a fork.
 *
 * argv[1] = "syscall": fork with syscall(__NR_fork) (seed 001's patch);
 * argv[1] = "glibc":   fork with glibc fork(), with a second thread alive (so
 *                      glibc really takes its locks: single-threaded it skips
 *                      its atomics).  On powerpc plain single-step livelocks in
 *                      a lwarx/stwcx. sequence there (seed 000).
 *
 * The grandchild is not traced and must run free: if it inherited the
 * stepping it would be killed by SIGTRAP.  Exit 44 when the grandchild exited
 * 22 normally; 45 + its signal number if it was killed.
 */
#include "common.h"
#include <pthread.h>

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int use_syscall = argc > 1 && strcmp(argv[1], "syscall") == 0;
	int status;
	pid_t pid;
	sigset_t mask;

	/* Only step traps may be seen: keep the grandchild's SIGCHLD away. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (!use_syscall) {
		pthread_t th;

		if (pthread_create(&th, NULL, idle_thread, NULL) != 0)
			_exit(6);
	}
	/* The tracer starts stepping at this signal's delivery stop. */
	raise(SIGUSR1);
#ifdef SYS_fork
	pid = use_syscall ? syscall(SYS_fork) : fork();
#else
	pid = use_syscall ? syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
#endif
	if (pid == 0) {
		read(-1, NULL, 0);
		_exit(22);
	}
	if (pid < 0)
		_exit(3);
	if (waitpid(pid, &status, 0) != pid)
		_exit(4);
	if (WIFSIGNALED(status))
		_exit(45 + WTERMSIG(status));
	_exit(WIFEXITED(status) && WEXITSTATUS(status) == 22 ? 44 : 5);
}
