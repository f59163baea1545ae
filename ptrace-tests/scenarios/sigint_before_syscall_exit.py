"""sigint-before-syscall-exit: a signal sent at a syscall's entry comes after its exit.

SIGINT is sent (tgkill) while the program is stopped at getppid()'s entry:
resumed with PTRACE_SYSCALL, the next stop must be getppid()'s exit with the
right result, and only then the SIGINT delivery stop; delivered, the handler
runs after the call returned (exit 0).
"""

import os
import signal

from ptlib import util
from ptlib.raw import Raw, nr_of, run_to_syscall

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
