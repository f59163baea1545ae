"""o_tracevfork-parent: the vfork parent stays blocked while its traced child is held.

With TRACEVFORK and syscall tracing on the parent: after the vfork event the
parent is resumed but must neither return from vfork() nor report anything
while the child is held at its first stop (it sleeps in the kernel, 'D');
once the child exits, the parent's next stop is vfork's syscall exit with
the child's pid as return value.
"""

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, InProgressError, Resume
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


class HoldVforkChild(Observer):
    """Holds the vfork child stopped from report_clone on; watches the parent's syscall exits."""

    def __init__(self):
        super().__init__()
        self.child_att = None
        self.holding = True  # until the scenario lets the child go

    def report_clone(self, att, r):
        self.child_att = self.watch(r.child, Event.QUIESCE | Event.DEATH)
        try:
            self.child_att.control(Resume.STOP)
        except InProgressError:
            pass  # not stopped yet: it stops at its first chance, told by report_quiesce
        self.out.post("clone", r.clone_kind, r.child.tid)

    def report_quiesce(self, att, r):
        # The child's: the answer here is this engine's last, so it must say STOP
        # again to keep holding (a resume answer would let go, as in utrace).
        if att is self.child_att and self.holding:
            return Resume.STOP

    def report_syscall_exit(self, att, r):
        if att.thread.tid == att.thread.process.pid:
            self.out.post("parent-exit", r.syscall.rval)

    def report_death(self, att, r):
        self.out.post("death", att.thread.tid)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = HoldVforkChild()
        eng.watch(proc.main_thread, Event.CLONE | Event.SYSCALL_EXIT)
        proc.start()
        while True:  # syscall exits of the start-up, until the vfork
            item = eng.out.take("parent-exit", "clone")
            if item[0] == "clone":
                break
        _, kind, child = item
        util.equal(kind, "vfork", "clone kind")
        # The parent going to sleep for its vfork child is reported to nobody:
        # poll its state (bounded).
        util.wait_proc_state(proc.pid, "D")
        util.check(eng.out.q.empty(), f"a report while the vfork child was held: "
                   f"{eng.out.q.queue[0] if eng.out.q.queue else ''}")
        eng.holding = False
        eng.child_att.control(Resume.RESUME)
        # Two threads report now, in whatever order waitpid gives them (and
        # the parent may already be at its next syscalls).
        got: dict[str, int] = {}
        while len(got) < 2:
            kind, value = eng.out.take("death", "parent-exit")
            got.setdefault(kind, value)
        util.equal(got, {"death": child, "parent-exit": child},
                   "the child's death and vfork's return value at the parent's syscall exit")
        ut.expect_exit(proc, 0, "parent")
