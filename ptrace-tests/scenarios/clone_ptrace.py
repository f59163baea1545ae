"""clone-ptrace: a CLONE_PTRACE child starts traced, with no clone event in the parent.

No PTRACE_O_TRACE* option is set; ``clone(CLONE_PTRACE | SIGCHLD)`` alone must
make the child our tracee: it reports its first stop (PTRACE_EVENT_STOP under
PTRACE_SEIZE), runs to exit 7 when resumed, and its real parent still reaps
it with status 7.
"""

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "clone-ptrace"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    k.cont(pid)
    st = r.wait()
    util.check(st.pid != pid, f"parent reported {st} before the child's first stop")
    util.check(st.is_event(k.PTRACE_EVENT_STOP), f"child's first report: {st}")
    child = st.pid
    util.equal(io.expect_int("child"), child, "the tid clone() returned")
    k.cont(child)
    st = r.wait(child)
    util.check(st.exited and st.code == 7, f"child: {st}, expected exit 7")
    st = r.wait_passing(pid)
    util.check(st.exited, f"parent: {st}")
    util.equal(io.expect("child")[1], "0x700", "status the real parent reaped")
    util.equal(st.code, 0, "parent exit code")


class FollowChild(Observer):
    """Reports clones and follows each new child to its death."""

    def __init__(self):
        super().__init__()
        self.deaths: dict[int, int] = {}

    def report_clone(self, att, r):
        self.out.post("clone", r.clone_kind, r.child.tid)
        self.watch(r.child, Event.DEATH)

    def report_death(self, att, r):
        self.deaths[att.thread.tid] = r.exit_code
        self.out.post("death", att.thread.tid, r.exit_code)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = FollowChild()
        eng.watch(proc.main_thread, Event.CLONE)
        proc.start()
        _, kind, child = eng.out.take("clone")
        util.check(kind in ("fork", "clone"), f"clone kind {kind!r}")
        util.check(child != proc.pid, "report_clone's child is the parent")
        _, tid, status = eng.out.take("death")
        util.equal((tid, status), (child, 7 << 8), "the child's death (tid, wait status)")
        ut.expect_exit(proc, 0, "parent")
        util.equal(io.expect_int("child"), child, "the pid clone() returned vs report_clone")
        util.equal(io.expect("child")[1], "0x700", "status the real parent reaped")
