"""detach-parting-signal: the signal given at detach is delivered to the former tracee.

At the SIGUSR2 delivery stop the debugger detaches giving SIGUSR1: the
program must run SIGUSR1's handler (and not SIGUSR2's, which the detach
replaced) and exit with code 1.
"""

import os
import signal

from ptlib import util
from ptlib.raw import Raw

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
