"""step-through-sigret: stepping into a handler, out through sigreturn, and on.

At the SIGUSR1 stop, step with the signal into the handler (where that first
step lands is step-into-handler's business; here it is only logged), keep
stepping through the handler's return and ``rt_sigreturn``: the stepping must
survive the sigreturn (it restores the flags from the signal frame): the
loop after ``raise`` is stepped value by value, and the program exits 0
(handler ran once).
"""

import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer
from step_simple import CounterWatch, step_to_exit

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "step-through-sigret"
TIMEOUT = 30  # ~700 steps: slow under qemu TCG
TRACEE = "step-signal"
STEP_BUDGET = 50_000


def parse(io) -> tuple[int, CounterWatch]:
    words = io.expect("handler")
    return int(words[0], 16), CounterWatch(int(words[2], 16), int(words[3]))


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    handler, watch = parse(io)
    k.singlestep(pid, signal.SIGUSR1)
    r.expect(pid, "a step trap", lambda s: s.signal_stop and s.sig == signal.SIGTRAP)
    util.log(f"first step after the signal at {r.pc(pid):#x} (handler {handler:#x})")
    step_to_exit(r, pid, watch)


class SigretStepper(Observer):
    """Steps into the handler (delivering SIGUSR1), through sigreturn, and on to the end."""

    def __init__(self, io):
        super().__init__()
        self.io = io
        self.handler: int | None = None
        self.watcher: CounterWatch | None = None
        self.first_pc: int | None = None
        self.steps = 0

    def report_signal(self, att, r):
        if self.handler is None and r.signo == signal.SIGUSR1:
            self.handler, self.watcher = parse(self.io)
            return (Resume.SINGLESTEP, SignalAction.DELIVER)
        self.out.problem(f"signal {r.signo} while stepping (step {self.steps})")

    def report_step(self, att, r):
        self.steps += 1
        if self.first_pc is None:
            self.first_pc = r.regs.pc
            return Resume.SINGLESTEP
        try:
            self.watcher.step(att.thread.tid)
        except util.Fail as e:
            self.out.problem(str(e))
            return Resume.DETACH
        if self.steps > STEP_BUDGET:
            self.out.problem("step budget exhausted")
            return Resume.DETACH
        return Resume.SINGLESTEP


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = SigretStepper(io)
        eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.STEP)
        proc.start()
        ut.expect_exit(proc, 0)
        eng.out.check()
        util.check(eng.handler is not None, "the SIGUSR1 stop was never reported")
        util.log(f"first step report at {eng.first_pc or 0:#x} (handler {eng.handler:#x})")
        eng.watcher.done()
