"""detach-parting-signal: the signal given at detach is delivered to the former tracee.

At the SIGUSR2 delivery stop the debugger detaches giving SIGUSR1: the
program must run SIGUSR1's handler (and not SIGUSR2's, which the detach
replaced) and exit with code 1.
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "detach-parting-signal"


def check_status(status: int) -> None:
    if os.WIFSIGNALED(status):
        raise util.Fail(f"killed by {signal.Signals(os.WTERMSIG(status)).name}")
    code = os.WEXITSTATUS(status)
    util.equal(code, 1, "handlers that ran (1 = SIGUSR1 only, 2 = SIGUSR2 only)")


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    io.go()
    k.cont(pid)
    r.expect(pid, "the SIGUSR2 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR2)
    k.detach(pid, signal.SIGUSR1)
    check_status(os.waitpid(pid, 0)[1])


class PartingSignal(Observer):
    """At SIGUSR2's report: make it SIGUSR1 and hold the thread there."""

    def report_signal(self, att, r):
        if r.signo == signal.SIGUSR2:
            r.siginfo.signo = signal.SIGUSR1
            self.out.post("held")
            return (Resume.STOP, SignalAction.DELIVER)
        self.out.problem(f"unexpected signal {r.signo}")


def run_utrace(binary: str) -> None:
    # Our own child, attached to: after the detach we are the one to reap it.
    popen, io = ut.spawn(binary)
    with ut.tracer() as t:
        proc = t.attach_process(popen.pid)
        eng = PartingSignal()
        eng.watch(proc.main_thread, Event.SIGNAL_ALL)
        io.go()
        eng.out.take("held")
        proc.detach()
    status = popen.wait()
    check_status(status << 8 if status >= 0 else -status)
