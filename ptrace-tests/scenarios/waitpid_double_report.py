"""waitpid-double-report: a group stop is reported once per thread, never twice, never lost.

A process stops itself (SIGSTOP) right after creating its second thread:
once before that thread ever ran (pinned to one CPU), so the new thread's
very first stop is the group stop; once after it ran; once stopped by the
debugger at the clone event; and twenty times with the two racing.  Each
time each thread must report the group stop exactly once; no further report
is pending afterwards (not even after PTRACE_LISTEN); after SIGCONT each
reports the continuation once.
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "waitpid-double-report"
TIMEOUT = 30  # 22 launches: slow under qemu TCG
# The process stops itself before / after its new thread ran / racing with
# it; or the debugger stops it at the clone event ("external").
ORDERS = ("before", "after", "external") + ("race",) * 20


def run_raw(binary: str) -> None:
    for order in ORDERS:
        raw_order(binary, order)


def raw_order(binary: str, order: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, order, options=k.PTRACE_O_TRACECLONE | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    tid = None
    reports: dict[int, int] = {pid: 0}
    while sum(reports.values()) < 2:
        st = r.wait()
        if st.is_event(k.PTRACE_EVENT_CLONE):
            tid = k.get_event_msg(pid)
            if order == "external":
                os.kill(pid, signal.SIGSTOP)
            reports.setdefault(tid, 0)
            k.cont(pid)
        elif st.group_stop:
            reports[st.pid] = reports.get(st.pid, 0) + 1
        elif st.is_event(k.PTRACE_EVENT_STOP):  # the new thread's birth trap
            k.cont(st.pid)
        elif st.signal_stop and st.sig == signal.SIGSTOP:
            k.cont(st.pid, signal.SIGSTOP)
        else:
            raise util.Fail(f"unexpected {st}")
    util.equal(reports, {pid: 1, tid: 1}, f"group-stop reports per thread ({order})")
    util.check(r.wait_nohang() is None, "a second report is pending")
    for t in (pid, tid):
        k.listen(t)
    util.check(r.wait_nohang() is None, "a report after PTRACE_LISTEN")
    os.kill(pid, signal.SIGCONT)
    for t in (pid, tid):
        st = r.wait_passing(t, (signal.SIGCONT,), resume=k.cont)
        util.check(st.is_event(k.PTRACE_EVENT_STOP) and st.sig == signal.SIGTRAP,
                   f"thread {t} after SIGCONT: {st}")
    util.check(r.wait_nohang() is None, "a second report after SIGCONT")
    os.kill(pid, signal.SIGKILL)
    for t in (tid, pid):
        util.check(r.wait(t).signaled, f"thread {t} after SIGKILL")


class JobFollower(Observer):
    stop_at_clone = False

    def report_clone(self, att, r):
        self.watch(r.child, Event.JCTL)
        if self.stop_at_clone:
            os.kill(att.thread.process.pid, signal.SIGSTOP)
        self.out.post("clone", r.child.tid)

    def report_jctl(self, att, r):
        self.out.post("jctl", att.thread.tid, r.jctl.name)


def run_utrace(binary: str) -> None:
    for order in ORDERS:
        utrace_order(binary, order)


def utrace_order(binary: str, order: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary, order)
        eng = JobFollower()
        eng.stop_at_clone = order == "external"
        eng.watch(proc.main_thread, Event.CLONE | Event.JCTL)
        proc.start()
        tid = eng.out.take("clone")[1]
        stops = []
        try:
            for _ in range(2):
                stops.append(eng.out.take("jctl", within=3.0, why=" after SIGSTOP")[1:])
        except util.Fail as e:
            states = {t: util.proc_state(proc.pid, t) for t in (proc.pid, tid)}
            raise util.Fail(f"order {order!r}: {e}; got {stops}; "
                            f"thread states {states}") from None
        util.equal(sorted(stops), sorted([(proc.pid, "STOPPED"), (tid, "STOPPED")]),
                   "job-control stop reports")
        os.kill(proc.pid, signal.SIGCONT)
        conts = sorted(eng.out.take("jctl", within=3.0, why=" after SIGCONT")[1:]
                       for _ in range(2))
        util.equal(conts, sorted([(proc.pid, "CONTINUED"), (tid, "CONTINUED")]),
                   "reports after SIGCONT (a second STOPPED would be a double report)")
        util.equal(io.readline(), "continued", "program's words")
        proc.kill()
        ut.exit_status(proc)
