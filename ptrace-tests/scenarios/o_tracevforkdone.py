"""o_tracevforkdone: VFORK_DONE comes after the child released the parent, with its pid.

With TRACEVFORK|TRACEVFORKDONE: the vfork event, the child's first stop, the
child's exit, and only then the parent's VFORK_DONE stop whose message is the
child's pid.
"""

from ptlib import util
from ptlib.raw import Raw

from pydbg_utrace import kernel as k

NAME = "o_tracevforkdone"
TRACEE = "vfork"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACEVFORK | k.PTRACE_O_TRACEVFORKDONE
                       | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.is_event(k.PTRACE_EVENT_VFORK), f"expected the vfork event, got {st}")
    child = k.get_event_msg(pid)
    util.check(r.wait(child).is_event(k.PTRACE_EVENT_STOP), "child's first stop")
    k.cont(pid)  # it cannot return from vfork() before the child lets go
    util.check(r.wait_nohang(pid) is None, "the parent reported while its vfork child was held")
    k.cont(child)
    st = r.wait(child)
    util.check(st.exited and st.code == 5, f"child: {st}")
    st = r.wait(pid)
    util.check(st.is_event(k.PTRACE_EVENT_VFORK_DONE), f"expected VFORK_DONE, got {st}")
    util.equal(k.get_event_msg(pid), child, "VFORK_DONE message")
    k.cont(pid)
    st = r.wait_passing(pid)
    util.check(st.exited and st.code == 0, f"parent: {st}")
    io.expect("vfork_nr")
    util.equal(io.expect_int("child"), child, "pid vfork() returned")
