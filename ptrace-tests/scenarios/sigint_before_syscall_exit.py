"""sigint-before-syscall-exit: a signal sent at a syscall's entry comes after its exit.

SIGINT is sent (tgkill) while the program is stopped at getppid()'s entry:
resumed with PTRACE_SYSCALL, the next stop must be getppid()'s exit with the
right result, and only then the SIGINT delivery stop; delivered, the handler
runs after the call returned (exit 0).
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw, nr_of, run_to_syscall
from ptlib.ut import Observer

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "sigint-before-syscall-exit"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    getppid_nr = nr_of(pid, "getppid")
    # The program's own getppid() comes first: skip past its say() to the marker.
    run_to_syscall(r, pid, getppid_nr)
    run_to_syscall(r, pid, getppid_nr)
    k.tgkill(pid, pid, signal.SIGINT)
    k.cont_syscall(pid)
    st = r.wait(pid)
    util.check(st.syscall, f"after SIGINT at the entry: {st}, expected the syscall exit")
    info = k.get_syscall_info(pid)
    util.equal(info.op, k.PTRACE_SYSCALL_INFO_EXIT, "stop kind")
    util.equal(info.rval, os.getpid(), "getppid() result at its exit stop")
    k.cont_syscall(pid)
    st = r.wait(pid)
    util.check(st.signal_stop and st.sig == signal.SIGINT, f"after the exit: {st}")
    k.cont(pid, signal.SIGINT)
    st = r.wait(pid)
    util.check(st.exited, f"tracee {st}")
    io.expect("getppid_nr")
    words = io.expect("result")
    util.equal(st.code, 0, f"exit code (program says {' '.join(words)})")


class SigintAtEntry(Observer):
    """Sends SIGINT at the second getppid() entry; records what follows."""

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.after: list[tuple] = []

    def report_syscall_entry(self, att, r):
        if r.syscall.nr == att.thread.arch.syscall_number_of("getppid"):
            self.calls += 1
            if self.calls == 2:
                k.tgkill(att.thread.tid, att.thread.tid, signal.SIGINT)
                self.after.append(("entry", r.syscall.nr))
                return None
        if self.after:
            self.after.append(("entry", r.syscall.nr))

    def report_syscall_exit(self, att, r):
        if self.after:
            self.after.append(("exit", r.syscall.rval))

    def report_signal(self, att, r):
        if self.after:
            self.after.append(("signal", r.signo))


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = SigintAtEntry()
        eng.watch(proc.main_thread, Event.SYSCALL | Event.SIGNAL_ALL)
        proc.start()
        ut.expect_exit(proc, 0)
        got = eng.after[:3]
        util.equal(got[1:], [("exit", os.getpid()), ("signal", signal.SIGINT)],
                   "reports after SIGINT was sent at getppid()'s entry")
