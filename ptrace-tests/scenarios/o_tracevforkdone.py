"""o_tracevforkdone: VFORK_DONE comes after the child released the parent, with its pid.

With TRACEVFORK|TRACEVFORKDONE: the vfork event, the child's first stop, the
child's exit, and only then the parent's VFORK_DONE stop whose message is the
child's pid.
"""

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume
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


class VforkDone(Observer):
    """Asks, in report_clone of a vfork, for a report once the parent goes on.

    utrace's way to hear of "vfork done" (seed 004, utrace_report_clone and
    utrace_finish_vfork): UTRACE_REPORT from report_clone of a CLONE_VFORK
    makes the parent report_quiesce on its way back to user mode, which is
    after the child released it.
    """

    def __init__(self):
        super().__init__()
        self.vforked = False

    def report_clone(self, att, r):
        self.out.post("clone", r.clone_kind, r.child.tid)
        self.watch(r.child, Event.DEATH | Event.EXIT)
        self.vforked = r.clone_kind == "vfork"
        return Resume.REPORT if self.vforked else None

    def report_quiesce(self, att, r):
        if self.vforked and att.thread.tid == att.thread.process.pid and r.event == Event.NONE:
            self.vforked = False
            self.out.post("parent-quiesce")

    def report_exit(self, att, r):
        # The child's exit stop comes before it gives the borrowed memory back
        # (do_exit reports PTRACE_EVENT_EXIT before exit_mm completes vfork).
        self.out.post("child-exit", att.thread.tid)

    def report_death(self, att, r):
        self.out.post("death", att.thread.tid, r.exit_code)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = VforkDone()
        eng.watch(proc.main_thread, Event.CLONE | Event.QUIESCE)
        proc.start()
        _, kind, child = eng.out.take("clone")
        util.equal(kind, "vfork", "clone kind")
        # The child's death and the parent's vfork-done stop race in the
        # kernel; what must hold is that the parent's report came only after
        # the child let it go, i.e. after the child's exit stop.
        order = []
        got = {}
        for _ in range(3):
            kind_, *rest = eng.out.take("child-exit", "death", "parent-quiesce")
            order.append(kind_)
            got[kind_] = tuple(rest)
        if order.index("parent-quiesce") < order.index("child-exit"):
            raise util.Fail("report_quiesce asked with REPORT at the vfork came while the "
                            f"child still held the parent (order {order})")
        util.equal(got["death"], (child, 5 << 8), "child's death")
        ut.expect_exit(proc, 0, "parent")
        io.expect("vfork_nr")
        util.equal(io.expect_int("child"), child, "pid vfork() returned")

