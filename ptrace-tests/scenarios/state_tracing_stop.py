"""state-tracing-stop: a tracee in a ptrace stop shows 't (tracing stop)', not 'T'.

At its exec stop and at a signal-delivery stop the tracee's /proc state is
't'; in the group stop it reports after its own SIGSTOP it is 't' too, also
while parked with PTRACE_LISTEN; continued with SIGCONT, it runs to exit 0.
"""

import os
import signal

from ptlib import util
from ptlib.raw import Raw

from pydbg_utrace import kernel as k

NAME = "state-tracing-stop"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    util.equal(util.proc_state(pid), "t", "state at the exec stop")
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    util.equal(util.proc_state(pid), "t", "state at a signal-delivery stop")
    k.cont(pid, signal.SIGUSR1)
    r.expect(pid, "the SIGSTOP stop", lambda s: s.signal_stop and s.sig == signal.SIGSTOP)
    k.cont(pid, signal.SIGSTOP)
    r.expect(pid, "the group stop", lambda s: s.group_stop)
    util.equal(util.proc_state(pid), "t", "state in the group stop")
    k.listen(pid)
    util.equal(util.proc_state(pid), "t", "state while listening")
    os.kill(pid, signal.SIGCONT)
    st = r.wait_exit(pid)
    util.check(st.exited and st.code == 0, f"tracee {st}")
    util.equal(io.readline(), "continued", "program's words")
