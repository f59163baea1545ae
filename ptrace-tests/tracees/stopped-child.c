/* The attach/detach family's tracee: a real parent and its child.
 *
 * usage: stopped-child MODE NTHREADS
 *   MODE "stop":  the child starts NTHREADS-1 extra threads (blocked in
 *                 pause()), stops itself with SIGSTOP, and once continued
 *                 exits 0 (so that "it resumed" is observable).
 *   MODE "sleep": the same threads, then the child blocks in read() forever
 *                 (state S) without stopping itself.
 *   MODE "stop-sleep": stop as "stop", then once continued block in read().
 *
 * The parent says "child PID" and then obeys one-byte commands on stdin,
 * answering each with one line, so that the scenario sees exactly what the
 * *real parent* sees while a debugger attaches and detaches:
 *   w / W  waitpid(WUNTRACED|WCONTINUED) without / with blocking ->
 *          "wait none" | "wait stopped SIG" | "wait continued" |
 *          "wait exited CODE" | "wait killed SIG"
 *   S C K  send SIGSTOP / SIGCONT / SIGKILL to the child -> "sent"
 *   q      exit 0
 */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>

static int never[2];

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void child_main(const char *mode, int nthreads)
{
	pthread_t th;
	char c;
	int i;

	for (i = 1; i < nthreads; i++)
		CHECK(pthread_create(&th, NULL, idle_thread, NULL) == 0);
	if (strcmp(mode, "sleep") != 0)
		raise(SIGSTOP);
	if (strcmp(mode, "stop") == 0)
		_exit(0);
	for (;;)
		if (read(never[0], &c, 1) >= 0)
			_exit(3);
}

static void report(int status)
{
	if (WIFSTOPPED(status))
		say("wait stopped %d", WSTOPSIG(status));
	else if (WIFCONTINUED(status))
		say("wait continued");
	else if (WIFEXITED(status))
		say("wait exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		say("wait killed %d", WTERMSIG(status));
	else
		say("wait odd %#x", status);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "stop";
	int nthreads = argc > 2 ? atoi(argv[2]) : 1;
	int status, r;
	pid_t pid;
	char cmd;

	CHECK(pipe(never) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		child_main(mode, nthreads);
	}
	say("child %d", (int)pid);
	while (read(0, &cmd, 1) == 1) {
		switch (cmd) {
		case 'w':
		case 'W':
			r = waitpid(pid, &status, WUNTRACED | WCONTINUED | (cmd == 'w' ? WNOHANG : 0));
			if (r == 0)
				say("wait none");
			else if (r == pid)
				report(status);
			else
				say("wait error %d", errno);
			break;
		case 'S': kill(pid, SIGSTOP); say("sent"); break;
		case 'C': kill(pid, SIGCONT); say("sent"); break;
		case 'K': kill(pid, SIGKILL); say("sent"); break;
		case 'q': return 0;
		}
	}
	kill(pid, SIGKILL);
	return 0;
}
