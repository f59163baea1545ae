"""erestartsys: a blocking read interrupted by the debugger is restarted, not failed.

The program sleeps in read(0) under PTRACE_SYSCALL.  The debugger
interrupts it (PTRACE_INTERRUPT): with syscall tracing on, the interruption
is reported as read's exit stop (ptrace(2)), carrying -ERESTARTSYS (the
kernel's internal "restart me" value, seen only by tracers).  Resumed, the
next syscall stop must be read's entry again (restarted); when a byte is
written, read returns it and the program exits 0 -- no EINTR.
"""

import errno

from ptlib import ut, util
from ptlib.raw import Raw, nr_of, run_to_syscall, syscall_stop
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume
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


class ReadWatch(Observer):
    """Posts read(0)'s entries and exits, and any signal/quiesce report."""

    def __init__(self):
        super().__init__()
        self.in_read = False

    def report_syscall_entry(self, att, r):
        a = att.thread.arch
        if r.syscall.nr == a.syscall_number_of("read") and r.syscall.args[0] == 0:
            self.in_read = True
            self.out.post("entry", "read", r.resumed)
        else:
            self.in_read = False

    def report_syscall_exit(self, att, r):
        if self.in_read:
            self.out.post("exit", r.syscall.rval)

    def report_signal(self, att, r):
        self.out.post("signal", r.signo, r.signal_action)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = ReadWatch()
        att = eng.watch(proc.main_thread, Event.SYSCALL | Event.SIGNAL_ALL)
        proc.start()
        eng.out.take("entry")
        # Falling asleep inside read() is reported to nobody: poll (bounded).
        util.wait_proc_state(proc.pid, "S")
        att.control(Resume.INTERRUPT)
        util.equal(eng.out.take("exit", within=3.0, why=" after control(INTERRUPT)")[1],
                   -ERESTARTSYS, "read's value at its exit report")
        while True:  # the interrupt's own report may come before the restart
            item = eng.out.take("entry", "signal")
            if item[0] == "entry":
                break
        io.expect("read_nr")
        io.go(b"x")
        rval = eng.out.take("exit")[1]
        util.check(rval != -errno.EINTR, "read failed with EINTR instead of restarting")
        util.equal(rval, 1, "read's result")
        ut.expect_exit(proc, 0)
