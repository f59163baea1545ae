"""state-tracing-stop: a tracee in a ptrace stop shows 't (tracing stop)', not 'T'.

At its exec stop and at a signal-delivery stop the tracee's /proc state is
't'; in the group stop it reports after its own SIGSTOP it is 't' too, also
while parked with PTRACE_LISTEN; continued with SIGCONT, it runs to exit 0.
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, SignalAction
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


class HoldAtSignals(Observer):
    def report_signal(self, att, r):
        self.out.post("signal", r.signo)
        return (Resume.STOP, SignalAction.DELIVER) if r.signo == signal.SIGUSR1 else None

    def report_jctl(self, att, r):
        self.out.post("jctl", r.jctl.name)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        util.equal(util.proc_state(proc.pid), "t", "state held at launch")
        eng = HoldAtSignals()
        att = eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.JCTL)
        proc.start()
        util.equal(eng.out.take("signal")[1], signal.SIGUSR1, "first signal")
        util.equal(util.proc_state(proc.pid), "t", "state while an engine holds it")
        att.control(Resume.RESUME)
        util.equal(eng.out.take("signal")[1], signal.SIGSTOP, "second signal")
        util.equal(eng.out.take("jctl", within=3.0, why=" after the SIGSTOP was delivered")[1],
                   "STOPPED", "job-control report")
        util.equal(util.proc_state(proc.pid), "t", "state in the group stop")
        os.kill(proc.pid, signal.SIGCONT)
        ut.expect_exit(proc, 0)
        util.equal(io.readline(), "continued", "program's words")
