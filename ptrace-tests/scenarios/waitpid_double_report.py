"""waitpid-double-report: a group stop is reported once per thread, never twice.

A two-thread process is stopped with SIGSTOP: after the delivery stop is
passed on, each thread reports the group stop exactly once; no further
report is pending afterwards (waitpid WNOHANG finds nothing), not even after
PTRACE_LISTEN.
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "waitpid-double-report"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACECLONE | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.is_event(k.PTRACE_EVENT_CLONE), f"expected the thread's clone event: {st}")
    tid = k.get_event_msg(pid)
    r.expect(tid, "the thread's first stop", lambda s: s.is_event(k.PTRACE_EVENT_STOP))
    k.cont(tid)
    k.cont(pid)
    io.expect("ready")
    os.kill(pid, signal.SIGSTOP)
    reports: dict[int, int] = {pid: 0, tid: 0}
    while sum(reports.values()) < 2:
        st = r.wait()
        if st.signal_stop and st.sig == signal.SIGSTOP:
            k.cont(st.pid, signal.SIGSTOP)
            continue
        util.check(st.group_stop, f"unexpected {st}")
        reports[st.pid] += 1
    util.equal(reports, {pid: 1, tid: 1}, "group-stop reports per thread")
    util.check(r.wait_nohang() is None, "a second report is pending")
    for t in (pid, tid):
        k.listen(t)
    util.check(r.wait_nohang() is None, "a report after PTRACE_LISTEN")
    os.kill(pid, signal.SIGKILL)
    for t in (tid, pid):
        util.check(r.wait(t).signaled, f"thread {t} after SIGKILL")


class JobFollower(Observer):
    def report_clone(self, att, r):
        self.watch(r.child, Event.JCTL)
        self.out.post("clone", r.child.tid)

    def report_jctl(self, att, r):
        self.out.post("jctl", att.thread.tid, r.jctl.name)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = JobFollower()
        eng.watch(proc.main_thread, Event.CLONE | Event.JCTL)
        proc.start()
        tid = eng.out.take("clone")[1]
        io.expect("ready")
        os.kill(proc.pid, signal.SIGSTOP)
        stops = sorted(eng.out.take("jctl", within=3.0, why=" after SIGSTOP")[1:]
                       for _ in range(2))
        util.equal(stops, sorted([(proc.pid, "STOPPED"), (tid, "STOPPED")]),
                   "job-control stop reports")
        os.kill(proc.pid, signal.SIGCONT)
        conts = sorted(eng.out.take("jctl", within=3.0, why=" after SIGCONT")[1:]
                       for _ in range(2))
        util.equal(conts, sorted([(proc.pid, "CONTINUED"), (tid, "CONTINUED")]),
                   "reports after SIGCONT (a second STOPPED would be a double report)")
        proc.kill()
        ut.exit_status(proc)
