"""o_tracevfork-parent: the vfork parent stays blocked while its traced child is held.

With TRACEVFORK and syscall tracing on the parent: after the vfork event the
parent is resumed but must neither return from vfork() nor report anything
while the child is held at its first stop (it sleeps in the kernel, 'D');
once the child exits, the parent's next stop is vfork's syscall exit with
the child's pid as return value.
"""

from ptlib import util
from ptlib.raw import Raw

from pydbg_utrace import kernel as k

NAME = "o_tracevfork-parent"
TRACEE = "vfork"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACEVFORK | k.PTRACE_O_TRACESYSGOOD
                       | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.is_event(k.PTRACE_EVENT_VFORK), f"expected the vfork event, got {st}")
    child = k.get_event_msg(pid)
    util.check(r.wait(child).is_event(k.PTRACE_EVENT_STOP), "child's first stop")
    k.cont_syscall(pid)
    # The kernel reports nothing when the parent goes to sleep waiting for the
    # vfork child, so poll its state (bounded) to know it got there.
    util.wait_proc_state(pid, "D")
    util.check(r.wait_nohang(pid) is None, "the parent reported while its vfork child was held")
    k.cont(child)
    util.check(r.wait(child).exited, "child exit")
    st = r.wait(pid)
    util.check(st.syscall, f"parent's next stop: {st}, expected vfork's syscall exit")
    info = k.get_syscall_info(pid)
    util.equal(info.op, k.PTRACE_SYSCALL_INFO_EXIT, "syscall stop kind")
    util.equal(info.rval, child, "vfork's return value")
    k.cont(pid)
    st = r.wait_passing(pid)
    util.check(st.exited and st.code == 0, f"parent: {st}")
    io.expect("vfork_nr")
    util.equal(io.expect_int("child"), child, "pid vfork() returned")
