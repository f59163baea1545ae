"""signal-loss: no signal is lost while syscall-tracing.

At each of 100 getppid() syscall-exit stops the debugger sends SIGUSR1
(kill) and resumes with PTRACE_SYSCALL; each must come back as a delivery
stop, be delivered, and run the handler: the program counts 100.
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw, nr_of
from ptlib.ut import Observer

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "signal-loss"
ROUNDS = 100


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    getppid_nr = nr_of(pid, "getppid")
    last_nr = -1
    sent = delivered = 0
    k.cont_syscall(pid)
    while True:
        st = r.wait(pid)
        if st.gone:
            break
        sig = 0
        if st.syscall:
            info = k.get_syscall_info(pid)
            if info.op == k.PTRACE_SYSCALL_INFO_ENTRY:
                last_nr = info.nr
            elif last_nr == getppid_nr:
                os.kill(pid, signal.SIGUSR1)
                sent += 1
        elif st.signal_stop:
            sig = st.sig
            delivered += sig == signal.SIGUSR1
        k.cont_syscall(pid, sig)
    util.check(st.exited, f"tracee {st}")
    util.equal(sent, ROUNDS, "signals sent")
    util.equal(delivered, ROUNDS, "delivery stops seen")
    io.expect("getppid_nr")
    util.equal(io.expect_int("got"), ROUNDS, "handler runs counted by the program")
    util.equal(st.code, 0, "exit code")


class SignalAtExit(Observer):
    def __init__(self):
        super().__init__()
        self.nr = None
        self.last = -1
        self.sent = self.delivered = 0

    def report_syscall_entry(self, att, r):
        self.last = r.syscall.nr

    def report_syscall_exit(self, att, r):
        if self.nr is None:
            self.nr = att.thread.arch.syscall_number_of("getppid")
        if self.last == self.nr:
            os.kill(att.thread.tid, signal.SIGUSR1)
            self.sent += 1

    def report_signal(self, att, r):
        if r.signo == signal.SIGUSR1:
            self.delivered += 1
        return None


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = SignalAtExit()
        eng.watch(proc.main_thread, Event.SYSCALL | Event.SIGNAL_ALL)
        proc.start()
        ut.expect_exit(proc, 0)
        util.equal(eng.sent, ROUNDS, "signals sent")
        util.equal(eng.delivered, ROUNDS, "signal reports")
        io.expect("getppid_nr")
        util.equal(io.expect_int("got"), ROUNDS, "handler runs counted by the program")
