"""step-from-clone: a thread cloned while its parent is single-stepped inherits no stepping.

Step the parent from its SIGUSR1 stop through clone() (the clone event comes
in the middle), keep stepping it a little, then let everything run: the new
thread, resumed with PTRACE_CONT, must run its loop and exit without a single
step trap; the main thread joins it and exits 0.
"""

import signal

from ptlib import util
from ptlib.raw import Raw

from pydbg_utrace import kernel as k

NAME = "step-from-clone"
STEP_BUDGET = 20_000


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACECLONE | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    k.singlestep(pid)
    child = None
    for _ in range(STEP_BUDGET):
        st = r.wait(pid)
        if st.is_event(k.PTRACE_EVENT_CLONE):
            child = k.get_event_msg(pid)
            break
        util.check(st.signal_stop and st.sig == signal.SIGTRAP, f"parent: {st}")
        k.singlestep(pid)
    util.check(child is not None, "no clone event while stepping")
    for _ in range(5):
        k.singlestep(pid)
        r.expect(pid, "a step trap", lambda s: s.signal_stop and s.sig == signal.SIGTRAP)
    r.expect(child, "the new thread's first stop", lambda s: s.is_event(k.PTRACE_EVENT_STOP))
    k.cont(child)
    st = r.wait(child)
    util.check(st.exited, f"new thread: {st} (stepping inherited?)")
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.exited and st.code == 0, f"parent: {st}")
