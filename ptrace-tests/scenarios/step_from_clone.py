"""step-from-clone: a thread cloned while its parent is single-stepped inherits no stepping.

Step the parent from its SIGUSR1 stop through clone() (the clone event comes
in the middle), keep stepping it a little, then let everything run: the new
thread, resumed with PTRACE_CONT, must run its loop and exit without a single
step trap; the main thread joins it and exits 0.
"""

import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "step-from-clone"
STEP_BUDGET = 20_000


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACECLONE | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    k.singlestep(pid)
    child = None
    for _ in range(STEP_BUDGET):
        st = r.wait(pid)
        if st.is_event(k.PTRACE_EVENT_CLONE):
            child = k.get_event_msg(pid)
            break
        util.check(st.signal_stop and st.sig == signal.SIGTRAP, f"parent: {st}")
        k.singlestep(pid)
    util.check(child is not None, "no clone event while stepping")
    for _ in range(5):
        k.singlestep(pid)
        r.expect(pid, "a step trap", lambda s: s.signal_stop and s.sig == signal.SIGTRAP)
    r.expect(child, "the new thread's first stop", lambda s: s.is_event(k.PTRACE_EVENT_STOP))
    k.cont(child)
    st = r.wait(child)
    util.check(st.exited, f"new thread: {st} (stepping inherited?)")
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.exited and st.code == 0, f"parent: {st}")


class StepThroughClone(Observer):
    def __init__(self):
        super().__init__()
        self.started = False
        self.child: int | None = None
        self.after = 0

    def report_signal(self, att, r):
        if att.thread.tid != att.thread.process.pid:
            self.out.problem(f"new thread got signal {r.signo} (stepping inherited?)")
            return None
        if not self.started and r.signo == signal.SIGUSR1:
            self.started = True
            return (Resume.SINGLESTEP, SignalAction.IGN)
        self.out.problem(f"parent got signal {r.signo}")

    def report_clone(self, att, r):
        self.child = r.child.tid
        self.watch(r.child, Event.SIGNAL_ALL | Event.STEP | Event.DEATH)
        return Resume.SINGLESTEP

    def report_step(self, att, r):
        if att.thread.tid != att.thread.process.pid:
            self.out.problem("the new thread reported a step")
            return None
        if self.child is None:
            return Resume.SINGLESTEP
        self.after += 1
        return Resume.SINGLESTEP if self.after < 5 else Resume.RESUME

    def report_death(self, att, r):
        self.out.post("death", att.thread.tid, r.exit_code)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = StepThroughClone()
        eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.STEP | Event.CLONE)
        proc.start()
        _, tid, status = eng.out.take("death")
        util.equal((tid, status), (eng.child, 0), "the new thread's death")
        ut.expect_exit(proc, 0)
        eng.out.check()
        util.check(eng.after >= 5, f"only {eng.after} steps after the clone")
