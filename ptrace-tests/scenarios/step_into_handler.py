"""step-into-handler: PTRACE_SINGLESTEP with a signal stops at the handler's first instruction.

At the SIGUSR1 delivery stop, resume by single-step delivering SIGUSR1: the
very next stop is a step trap whose PC is the handler's address; continued,
the program exits 0 (handler ran once).
"""

import signal

from ppc_ptrace_exec_full_regs import mapping_of
from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer
from step_through_sigret import parse

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "step-into-handler"
TRACEE = "step-signal"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    handler, _ = parse(io)
    k.singlestep(pid, signal.SIGUSR1)
    r.expect(pid, "a step trap", lambda s: s.signal_stop and s.sig == signal.SIGTRAP)
    pc = r.pc(pid)
    if pc != handler:
        raise util.Fail(f"pc after the step into the handler: {pc:#x} "
                        f"({mapping_of(pid, pc)}), want the handler {handler:#x}")
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.exited and st.code == 0, f"tracee {st}")


class IntoHandler(Observer):
    def __init__(self, io):
        super().__init__()
        self.io = io
        self.handler: int | None = None
        self.pcs: list[int] = []

    def report_signal(self, att, r):
        if self.handler is None and r.signo == signal.SIGUSR1:
            self.handler, _ = parse(self.io)
            return (Resume.SINGLESTEP, SignalAction.DELIVER)
        self.out.problem(f"unexpected signal {r.signo}")

    def report_step(self, att, r):
        self.pcs.append((r.regs.pc, mapping_of(att.thread.tid, r.regs.pc)))
        return Resume.RESUME


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = IntoHandler(io)
        eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.STEP)
        proc.start()
        ut.expect_exit(proc, 0)
        eng.out.check()
        util.equal(len(eng.pcs), 1, "step reports")
        pc, where = eng.pcs[0]
        if pc != eng.handler:
            raise util.Fail(f"pc after the step into the handler: {pc:#x} ({where}), "
                            f"want the handler {eng.handler:#x}")
