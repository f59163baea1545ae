/* vfork: shared by o_tracevfork, o_tracevforkdone and o_tracevfork-parent.
 * The parent vforks; the child _exits 5; the parent reports the child's pid
 * and status and exits 0 if all is as expected. */
#include "common.h"

int main(void)
{
	int status;
	pid_t pid;

	say("vfork_nr %d", (int)SYS_vfork);
	pid = vfork();
	if (pid == 0)
		_exit(5);
	CHECK(pid > 0);
	say("child %d", (int)pid);
	CHECK(waitpid(pid, &status, 0) == pid);
	say("status %#x", status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 5 ? 0 : 1;
}
