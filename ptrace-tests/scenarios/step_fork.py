"""step-fork: single-step straight through syscall(__NR_fork); the grandchild runs free.

Every stop while stepping must be a plain step trap (SIGTRAP), the untraced
grandchild must not inherit the stepping (it would die of SIGTRAP), and the
child exits 44.  A step budget turns a livelock (seed 000: powerpc glibc fork()
under plain single-step) into a failure instead of a hang.
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "step-fork"
TRACEE = "step-fork"
ARGS = ["syscall"]
TIMEOUT = 60
STEP_BUDGET = 300_000
LIVELOCK = 3_000  # times one PC may be stepped before we call it a livelock


class PcCounter:
    """Turns a stepping livelock (the same few PCs forever) into a verdict."""

    def __init__(self):
        self.seen: dict[int, int] = {}

    def step(self, pc: int) -> str | None:
        n = self.seen[pc] = self.seen.get(pc, 0) + 1
        if n > LIVELOCK:
            loop = sorted(p for p, c in self.seen.items() if c > LIVELOCK // 2)
            return (f"livelock: pc {pc:#x} stepped {n} times (loop over "
                    f"{', '.join(hex(p) for p in loop[:8])}; a load-reserve/store-"
                    f"conditional sequence stepped one instruction at a time?)")
        return None


def check_exit(code: int | None, steps: int) -> None:
    if code is not None and code >= 45:
        sig = signal.Signals(code - 45).name
        raise util.Fail(f"the untraced grandchild was killed by {sig} (stepping inherited)")
    util.equal(code, 44, "child exit code")
    util.log(f"{steps} steps")


def raw_variant(binary: str, variant: str) -> None:
    r = Raw()
    pid, _ = r.launch(binary, variant)
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    steps = 0
    pcs = PcCounter()
    k.singlestep(pid)
    while True:
        st = r.wait(pid)
        if st.gone:
            break
        if not (st.signal_stop and st.sig == signal.SIGTRAP):
            raise util.Fail(f"after {steps} steps: {st}, expected only step traps")
        steps += 1
        why = pcs.step(r.pc(pid))
        if why:
            raise util.Fail(f"after {steps} steps: {why}")
        if steps > STEP_BUDGET:
            raise util.Fail(f"still stepping after {steps} steps at pc {r.pc(pid):#x} (livelock)")
        k.singlestep(pid)
    if st.signaled:
        raise util.Fail(f"child {st}")
    check_exit(st.code, steps)


def run_raw(binary: str) -> None:
    raw_variant(binary, ARGS[0])


class ForkStepper(Observer):
    """From the SIGUSR1 stop on, answer every report with SINGLESTEP."""

    def __init__(self):
        super().__init__()
        self.started = False
        self.steps = 0
        self.pcs = PcCounter()

    def report_signal(self, att, r):
        if not self.started and r.signo == signal.SIGUSR1:
            self.started = True
            return (Resume.SINGLESTEP, SignalAction.IGN)
        self.out.problem(f"after {self.steps} steps: signal {r.signo} reported")
        return None

    def report_step(self, att, r):
        self.steps += 1
        why = self.pcs.step(r.regs.pc)
        if why:
            self.out.problem(f"after {self.steps} steps: {why}")
            return Resume.DETACH
        if self.steps > STEP_BUDGET:
            self.out.problem(f"still stepping after {self.steps} steps (livelock)")
            return Resume.DETACH
        return Resume.SINGLESTEP


def utrace_variant(binary: str, variant: str) -> None:
    with ut.tracer() as t:
        proc, _ = ut.launch(t, binary, variant)
        eng = ForkStepper()
        eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.STEP | Event.QUIESCE)
        proc.start()
        status = ut.exit_status(proc, TIMEOUT - 10)
        eng.out.check()
        util.check(os.WIFEXITED(status), f"child wait status {status:#x}")
        util.check(eng.steps > 10, f"only {eng.steps} step reports")
        check_exit(os.WEXITSTATUS(status), eng.steps)


def run_utrace(binary: str) -> None:
    utrace_variant(binary, ARGS[0])
