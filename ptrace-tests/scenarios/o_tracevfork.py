"""o_tracevfork: PTRACE_O_TRACEVFORK reports the vfork and the child's pid; the child is traced.

The parent stops with PTRACE_EVENT_VFORK whose message is the child's pid (the
one vfork() returns); the child first reports PTRACE_EVENT_STOP, exits 5 when
resumed, and no VFORK_DONE event is reported (not asked for).
"""

from ptlib import ut, util
from ptlib.raw import Raw

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "o_tracevfork"
TRACEE = "vfork"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACEVFORK | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.is_event(k.PTRACE_EVENT_VFORK), f"expected the vfork event, got {st}")
    child = k.get_event_msg(pid)
    st = r.wait(child)
    util.check(st.is_event(k.PTRACE_EVENT_STOP), f"child's first report: {st}")
    k.cont(child)
    k.cont(pid)
    st = r.wait(child)
    util.check(st.exited and st.code == 5, f"child: {st}")
    st = r.wait_passing(pid)
    util.check(st.exited and st.code == 0, f"parent: {st} (expected no VFORK_DONE)")
    io.expect("vfork_nr")
    util.equal(io.expect_int("child"), child, "pid vfork() returned vs event message")


def run_utrace(binary: str) -> None:
    from clone_ptrace import FollowChild

    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = FollowChild()
        eng.watch(proc.main_thread, Event.CLONE)
        proc.start()
        _, kind, child = eng.out.take("clone")
        util.equal(kind, "vfork", "clone kind")
        util.equal(eng.out.take("death")[1:], (child, 5 << 8), "child's death")
        ut.expect_exit(proc, 0, "parent")
        io.expect("vfork_nr")
        util.equal(io.expect_int("child"), child, "pid vfork() returned vs report_clone")
