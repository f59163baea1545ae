"""step-into-handler: PTRACE_SINGLESTEP with a signal stops at the handler's first instruction.

At the SIGUSR1 delivery stop, resume by single-step delivering SIGUSR1: the
very next stop is a step trap whose PC is the handler's address; continued,
the program exits 0 (handler ran once).
"""

import signal

from ptlib import util
from ptlib.raw import Raw
from step_through_sigret import parse

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
    util.equal(hex(r.pc(pid)), hex(handler), "pc after the step into the handler")
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.exited and st.code == 0, f"tracee {st}")
