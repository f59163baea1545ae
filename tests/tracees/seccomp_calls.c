/* seccomp_calls: system calls for the seccomp fast-path tests, driven by argv.
 *
 * Each argument is one step, in order:
 *   ppid:N      N raw getppid(2)
 *   open:N      N raw openat(AT_FDCWD, "/dev/null", O_RDONLY) + close
 *   fork:STEPS  fork; the child runs STEPS (comma-separated, same words) and _exits
 *               with the errno of its last openat; the parent waits for it
 *   thread:STEPS  the same STEPS in a new thread (pthread), joined
 *   exec:PROG   execv(PROG, {PROG, remaining args...}): the rest runs in PROG
 *   signal      raise SIGUSR1 (handled: counted), then one openat
 *   sleep       nanosleep 20 ms, again for the rest if a (handled) SIGALRM cuts it short
 *   pause       block in read(2) on a pipe nobody writes (until killed)
 * It prints "openat=R errno=E handled=H child=S" (the last openat's result and errno,
 * the signals handled, the last fork child's exit code), so a test sees what an
 * aborted call returned, then "done".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long last_open = 0;
static int last_errno = 0;
static volatile int handled = 0;
static int child_status = -1;

static void on_signal(int sig) { (void)sig; handled++; }

static void do_open(long n) {
	for (long i = 0; i < n; i++) {
		errno = 0;
		last_open = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
		last_errno = last_open < 0 ? errno : 0;
		if (last_open >= 0)
			syscall(SYS_close, last_open);
	}
}

static void step(char *word, char **rest);

static void steps(char *list) {
	char *save = NULL;
	for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save))
		step(w, NULL);
}

static void *run_steps(void *list) {
	steps(list);
	return NULL;
}

static void step(char *word, char **rest) {
	if (!strncmp(word, "ppid:", 5)) {
		long n = strtol(word + 5, NULL, 10);
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strncmp(word, "open:", 5)) {
		do_open(strtol(word + 5, NULL, 10));
	} else if (!strncmp(word, "fork:", 5)) {
		pid_t pid = fork();
		if (pid == 0) {
			steps(word + 5);
			_exit(last_errno);
		}
		int status;
		waitpid(pid, &status, 0);
		child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	} else if (!strncmp(word, "thread:", 7)) {
		pthread_t t;
		pthread_create(&t, NULL, run_steps, word + 7);
		pthread_join(t, NULL);
	} else if (!strncmp(word, "exec:", 5)) {
		rest[0] = word + 5;
		execv(word + 5, rest);
		perror("execv");
		exit(127);
	} else if (!strcmp(word, "signal")) {
		signal(SIGUSR1, on_signal);
		raise(SIGUSR1);
		do_open(1);
	} else if (!strcmp(word, "sleep")) {
		struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
		sigaction(SIGALRM, &sa, NULL);
		struct timespec ts = {0, 20 * 1000 * 1000};
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	} else if (!strcmp(word, "pause")) {
		int fds[2];
		char c;
		if (pipe(fds) == 0)
			(void)!read(fds[0], &c, 1);
	} else {
		fprintf(stderr, "seccomp_calls: unknown step %s\n", word);
		exit(2);
	}
}

int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++)
		step(argv[i], argv + i);
	printf("openat=%ld errno=%d handled=%d child=%d\n", last_open, last_errno, handled,
	       child_status);
	printf("done\n");
	return 0;
}
