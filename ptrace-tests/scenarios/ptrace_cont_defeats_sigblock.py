"""ptrace_cont-defeats-sigblock: a blocked signal injected by the debugger stays blocked.

SIGUSR1 is blocked; at the SIGUSR2 delivery stop the debugger resumes with
SIGUSR1 instead.  The injected signal must not run its handler while blocked
(it is queued: pending), must be reported again when the program unblocks
it, and then delivered once (exit 0).
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "ptrace_cont-defeats-sigblock"


def check_output(io, code: int) -> None:
    words = io.expect("usr1")
    util.equal(code, 0, f"exit code (program says: usr1 {' '.join(words)})")


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    k.cont(pid)
    r.expect(pid, "the SIGUSR2 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR2)
    k.cont(pid, signal.SIGUSR1)
    st = r.expect(pid, "SIGUSR1 again once unblocked",
                  lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    k.cont(pid, signal.SIGUSR1)
    st = r.wait(pid)
    util.check(st.exited, f"tracee {st}")
    check_output(io, st.code)


class SwapSignal(Observer):
    """At SIGUSR2's report make it SIGUSR1 (deliver); record every signal report."""

    def __init__(self):
        super().__init__()
        self.seen: list[int] = []

    def report_signal(self, att, r):
        self.seen.append(r.signo)
        if r.signo == signal.SIGUSR2 and len(self.seen) == 1:
            r.siginfo.signo = signal.SIGUSR1
        return (Resume.RESUME, SignalAction.DELIVER)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = SwapSignal()
        eng.watch(proc.main_thread, Event.SIGNAL_ALL)
        proc.start()
        status = ut.exit_status(proc)
        util.equal(eng.seen, [signal.SIGUSR2, signal.SIGUSR1], "signal reports")
        check_output(io, os.WEXITSTATUS(status))
