"""erestartsys: a blocking read interrupted by the debugger is restarted, not failed.

The program sleeps in read(0) under PTRACE_SYSCALL.  The debugger
interrupts it (PTRACE_INTERRUPT): with syscall tracing on, the interruption
is reported as read's exit stop (ptrace(2)), carrying -ERESTARTSYS (the
kernel's internal "restart me" value, seen only by tracers).  Resumed, the
next syscall stop must be read's entry again (restarted); when a byte is
written, read returns it and the program exits 0 -- no EINTR.
"""

import errno

from ptlib import util
from ptlib.raw import Raw, nr_of, run_to_syscall, syscall_stop

from pydbg_utrace import kernel as k

NAME = "erestartsys"
ERESTARTSYS = 512  # include/linux/errno.h (kernel-internal)


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    read_nr = nr_of(pid, "read")
    run_to_syscall(r, pid, read_nr, arg0=0)  # not ld.so reading libc
    k.cont_syscall(pid)
    # Falling asleep inside read() is reported to nobody: poll (bounded).
    util.wait_proc_state(pid, "S")
    k.interrupt(pid)
    st = r.wait(pid)
    util.check(st.syscall, f"after PTRACE_INTERRUPT: {st}, expected read's exit stop")
    info = k.get_syscall_info(pid)
    util.equal(info.op, k.PTRACE_SYSCALL_INFO_EXIT, "stop kind")
    util.equal(info.rval, -ERESTARTSYS, "read's value at its exit stop")
    info = syscall_stop(r, pid)  # an interrupt trap in between would be passed
    util.check(info.op == k.PTRACE_SYSCALL_INFO_ENTRY and info.nr == read_nr,
               f"after the trap: syscall stop op {info.op} nr {info.nr}, expected read restarted")
    io.expect("read_nr")
    io.go(b"x")
    info = syscall_stop(r, pid)
    util.equal(info.op, k.PTRACE_SYSCALL_INFO_EXIT, "stop kind")
    util.check(info.rval != -errno.EINTR, "read failed with EINTR instead of restarting")
    util.equal(info.rval, 1, "read's result")
    st = r.wait_exit(pid, resume=True)
    util.equal(st.code, 0, f"exit code (program says {io.readline()!r})")
