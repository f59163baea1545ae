"""step-simple: single-stepping a loop never lets it run free.

From a SIGUSR1 stop, step to the end: every stop is a step trap and the loop
counter (read from the tracee's memory at each stop) never moves by more than
one per step, taking every value from 0 to the end.
"""

import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "step-simple"
TIMEOUT = 30  # ~1500 steps: slow under qemu TCG
STEP_BUDGET = 50_000


def read_counter(pid: int, addr: int) -> int:
    return k.peek_data(pid, addr)


class CounterWatch:
    """Checks that a counter in the tracee advances by at most one per step."""

    def __init__(self, addr: int, count: int):
        self.addr, self.count = addr, count
        self.seen: set[int] = set()
        self.last = 0

    def step(self, pid: int) -> None:
        value = read_counter(pid, self.addr)
        if value - self.last not in (0, 1):
            raise util.Fail(f"counter jumped {self.last} -> {value} in one step (ran free)")
        self.last = value
        self.seen.add(value)

    def done(self) -> None:
        util.equal(self.seen, set(range(self.count + 1)), "counter values seen while stepping")


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    io.go()
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    addr, count = io.expect("counter")
    watch = CounterWatch(int(addr, 16), int(count))
    step_to_exit(r, pid, watch)


def step_to_exit(r: Raw, pid: int, watch: CounterWatch) -> None:
    """Raw single steps until the tracee exits 0, the counter checked at each."""
    k.singlestep(pid)
    for _ in range(STEP_BUDGET):
        st = r.wait(pid)
        if st.gone:
            break
        util.check(st.signal_stop and st.sig == signal.SIGTRAP, f"expected a step trap, got {st}")
        watch.step(pid)
        k.singlestep(pid)
    else:
        raise util.Fail("step budget exhausted")
    util.check(st.exited and st.code == 0, f"tracee {st}")
    watch.done()


class LoopStepper(Observer):
    """Steps from the SIGUSR1 stop to the end, checking the counter at every step.

    ``hold_after``: answer STOP (and post "held") after that many steps.
    """

    def __init__(self, io, hold_after: int | None = None, deliver: bool = False):
        super().__init__()
        self.io = io
        self.hold_after = hold_after
        self.deliver = deliver
        self.watcher: CounterWatch | None = None
        self.steps = 0
        self.handler: int | None = None
        self.first_pc: int | None = None

    def report_signal(self, att, r):
        if self.watcher is None and r.signo == signal.SIGUSR1:
            self.setup(self.io)
            return (Resume.SINGLESTEP, SignalAction.DELIVER if self.deliver else SignalAction.IGN)
        self.out.problem(f"signal {r.signo} while stepping (step {self.steps})")

    def setup(self, io) -> None:
        addr, count = io.expect("counter")
        self.watcher = CounterWatch(int(addr, 16), int(count))

    def report_step(self, att, r):
        self.steps += 1
        if self.first_pc is None:
            self.first_pc = r.regs.pc
        try:
            self.watcher.step(att.thread.tid)
        except util.Fail as e:
            self.out.problem(str(e))
            return Resume.DETACH
        if self.steps > STEP_BUDGET:
            self.out.problem("step budget exhausted")
            return Resume.DETACH
        if self.hold_after is not None and self.steps == self.hold_after:
            self.out.post("held", self.steps)
            return Resume.STOP
        return Resume.SINGLESTEP


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = LoopStepper(io)
        eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.STEP)
        proc.start()
        io.go()
        ut.expect_exit(proc, 0)
        eng.out.check()
        util.check(eng.watcher is not None, "the SIGUSR1 stop was never reported")
        eng.watcher.done()
