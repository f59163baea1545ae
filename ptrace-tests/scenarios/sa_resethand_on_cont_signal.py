"""sa-resethand-on-cont-signal: a one-shot handler is reset when the debugger injects its signal.

SIGUSR1 has an SA_RESETHAND handler; at the SIGUSR2 delivery stop the
debugger resumes with SIGUSR1 instead: SIGUSR1's handler runs once, SIGUSR2's
never, and SIGUSR1's disposition is SIG_DFL afterwards (exit 0).
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "sa-resethand-on-cont-signal"


def check_output(io, code: int) -> None:
    words = io.expect("usr1")
    util.equal(code, 0, f"exit code (program says: usr1 {' '.join(words)})")


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    k.cont(pid)
    r.expect(pid, "the SIGUSR2 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR2)
    k.cont(pid, signal.SIGUSR1)
    st = r.wait(pid)
    util.check(st.exited, f"tracee {st}")
    check_output(io, st.code)


def run_utrace(binary: str) -> None:
    from ptrace_cont_defeats_sigblock import SwapSignal

    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = SwapSignal()
        eng.watch(proc.main_thread, Event.SIGNAL_ALL)
        proc.start()
        status = ut.exit_status(proc)
        util.equal(eng.seen, [signal.SIGUSR2], "signal reports")
        check_output(io, os.WEXITSTATUS(status))
