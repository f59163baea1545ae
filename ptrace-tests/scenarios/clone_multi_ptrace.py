"""clone-multi-ptrace: 32 no-TLS thread clones, each reported once, each held at exit's entry.

With PTRACE_O_TRACECLONE every new thread must be announced exactly once (a
clone event in the parent carrying its tid, and the new thread's own first
stop), then, resumed with syscall tracing, stop at the entry of ``exit`` and
stay there -- not run past it -- until we let it go.  Then every thread
exits, the main thread joins them all and exits 0.
"""

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume
from pydbg_utrace import kernel as k

NAME = "clone-multi-ptrace"
TIMEOUT = 20
NTHREADS = 32


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACESYSGOOD | k.PTRACE_O_TRACECLONE
                       | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    exit_nr = None
    announced: list[int] = []  # tids from clone events
    first_stop: set[int] = set()
    held: set[int] = set()
    while len(held) < NTHREADS:
        st = r.wait()
        if st.pid == pid:
            if st.is_event(k.PTRACE_EVENT_CLONE):
                if exit_nr is None:  # said before the first clone
                    exit_nr = io.expect_int("exit_nr")
                announced.append(k.get_event_msg(pid))
                k.cont(pid)
            elif st.gone:
                raise util.Fail(f"main thread {st} with {len(held)} threads held")
            else:
                raise util.Fail(f"unexpected main-thread stop {st}")
        elif st.is_event(k.PTRACE_EVENT_STOP):
            util.check(st.pid not in first_stop, f"thread {st.pid} reported its start twice")
            first_stop.add(st.pid)
            k.cont_syscall(st.pid)
        elif st.syscall:
            info = k.get_syscall_info(st.pid)
            util.check(info.op == k.PTRACE_SYSCALL_INFO_ENTRY and info.nr == exit_nr,
                       f"thread {st.pid}: syscall stop op {info.op} nr {info.nr}, "
                       f"expected the entry of exit ({exit_nr})")
            held.add(st.pid)  # do not resume: it must stay at exit's entry
        else:
            raise util.Fail(f"unexpected stop {st}")
    util.equal(len(announced), NTHREADS, "clone events")
    util.equal(len(set(announced)), NTHREADS, "distinct tids in clone events")
    util.equal(set(announced), first_stop, "threads whose start was reported vs clone events")
    util.equal(held, first_stop, "threads held at exit entry")
    # Nobody ran past exit's entry: each is still in a tracing stop, still a thread.
    for tid in held:
        util.equal(util.proc_state(pid, tid), "t", f"thread {tid} state")
    util.check(r.wait_nohang() is None, "a report arrived while every thread was held")
    for tid in held:
        k.cont(tid)
    exited = set()
    while True:
        st = r.wait()
        if st.pid in held and st.exited:
            exited.add(st.pid)
        elif st.pid == pid and st.gone:
            break
        elif st.pid == pid and st.stopped:
            raise util.Fail(f"unexpected main-thread stop {st}")
        else:
            raise util.Fail(f"unexpected report {st}")
    util.equal(exited, held, "threads that exited")
    util.equal(st.code, 0, "main thread exit code")
    util.equal(len(io.rest().split("thread ")) - 1, NTHREADS, "threads the tracee saw")


class HoldAtExit(Observer):
    """Follows every new thread and holds it (STOP) at its first syscall entry."""

    def __init__(self):
        super().__init__()
        self.announced: list[int] = []
        self.entries: dict[int, int] = {}  # tid -> syscall nr at the held entry
        self.deaths: list[int] = []

    def report_clone(self, att, r):
        if r.clone_kind != "thread":
            self.out.problem(f"clone of kind {r.clone_kind}")
            return None
        self.announced.append(r.child.tid)
        self.watch(r.child, Event.SYSCALL_ENTRY | Event.DEATH)
        return None

    def report_syscall_entry(self, att, r):
        tid = att.thread.tid
        if tid in self.entries:
            self.out.problem(f"thread {tid} ran past its held exit entry (nr {r.syscall.nr})")
            return None
        self.entries[tid] = r.syscall.nr
        self.out.post("held", tid)
        return Resume.STOP

    def report_death(self, att, r):
        if att.thread.tid != att.thread.process.pid:
            self.deaths.append(att.thread.tid)
        return None


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = HoldAtExit()
        eng.watch(proc.main_thread, Event.CLONE)
        proc.start()
        held = [eng.out.take("held")[1] for _ in range(NTHREADS)]
        exit_nr = io.expect_int("exit_nr")
        util.equal(len(eng.announced), NTHREADS, "threads reported by report_clone")
        util.equal(len(set(eng.announced)), NTHREADS, "distinct threads reported")
        util.equal(set(held), set(eng.announced), "threads held vs reported")
        bad = {tid: nr for tid, nr in eng.entries.items() if nr != exit_nr}
        util.check(not bad, f"held at other syscalls than exit ({exit_nr}): {bad}")
        for tid in held:
            util.equal(util.proc_state(proc.pid, tid), "t", f"thread {tid} state while held")
        util.check(proc.returncode is None, "the process ended while every thread was held")
        for tid in held:
            eng.atts[tid].control(Resume.RESUME)
        ut.expect_exit(proc, 0)
        eng.out.check()
        util.equal(sorted(eng.deaths), sorted(held), "thread deaths reported")
