"""detach-can-signal: detached at a syscall stop, the program can still be signalled.

Detached at the entry of its blocking read(), the program must go on into
the read and sleep there like any untraced process; a plain kill(SIGUSR1)
must then run its handler and make read fail with EINTR (exit 0).
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw, nr_of, run_to_syscall
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume
from pydbg_utrace import kernel as k

NAME = "detach-can-signal"


def signal_after_detach(pid: int) -> None:
    # Going to sleep in read() is reported to nobody: poll (bounded).
    util.wait_proc_state(pid, "S")
    os.kill(pid, signal.SIGUSR1)


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    io.go()
    run_to_syscall(r, pid, nr_of(pid, "read"), arg0=0)  # not ld.so reading libc
    k.detach(pid)
    signal_after_detach(pid)
    status = os.waitpid(pid, 0)[1]
    util.check(os.WIFEXITED(status), f"status {status:#x}")
    io.expect("read_nr")
    util.equal(io.expect("read")[2:], ["4", "got", "1"], "errno and handler count")
    util.equal(os.WEXITSTATUS(status), 0, "exit code")


class HoldAtRead(Observer):
    def report_syscall_entry(self, att, r):
        a = att.thread.arch
        if r.syscall.nr == a.syscall_number_of("read") and r.syscall.args[0] == 0:
            self.out.post("held")
            return Resume.STOP


def run_utrace(binary: str) -> None:
    popen, io = ut.spawn(binary)
    with ut.tracer() as t:
        proc = t.attach_process(popen.pid)
        eng = HoldAtRead()
        eng.watch(proc.main_thread, Event.SYSCALL_ENTRY)
        io.go()
        eng.out.take("held")
        proc.detach()
    signal_after_detach(popen.pid)
    status = popen.wait()
    io.expect("read_nr")
    util.equal(io.expect("read")[2:], ["4", "got", "1"], "errno and handler count")
    util.equal(status, 0, "exit code")
