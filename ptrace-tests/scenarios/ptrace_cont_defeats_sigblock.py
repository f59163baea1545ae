"""ptrace_cont-defeats-sigblock: a blocked signal injected by the debugger stays blocked.

SIGUSR1 is blocked; at the SIGUSR2 delivery stop the debugger resumes with
SIGUSR1 instead.  The injected signal must not run its handler while blocked
(it is queued: pending), must be reported again when the program unblocks
it, and then delivered once (exit 0).
"""

import signal

from ptlib import util
from ptlib.raw import Raw

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
