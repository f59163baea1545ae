"""signal-loss: no signal is lost while syscall-tracing.

At each of 100 getppid() syscall-exit stops the debugger sends SIGUSR1
(kill) and resumes with PTRACE_SYSCALL; each must come back as a delivery
stop, be delivered, and run the handler: the program counts 100.
"""

import os
import signal

from ptlib import util
from ptlib.raw import Raw, nr_of

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
