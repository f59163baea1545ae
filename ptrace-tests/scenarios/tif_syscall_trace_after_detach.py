"""tif-syscall-trace-after-detach: detach in the middle of syscall tracing leaves none behind.

After some PTRACE_SYSCALL stops the debugger detaches at a syscall entry:
the program must make its remaining 2000-odd system calls untraced and exit
0 -- a syscall-trace flag left on would trap it with no tracer (SIGTRAP).
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw, syscall_stop
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume
from pydbg_utrace import kernel as k

NAME = "tif-syscall-trace-after-detach"


def check_status(status: int) -> None:
    if os.WIFSIGNALED(status):
        raise util.Fail(f"detached program killed by {signal.Signals(os.WTERMSIG(status)).name}")
    util.equal(os.WEXITSTATUS(status), 0, "detached program's exit code")


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    io.go()
    entries = 0
    while entries < 20:
        if syscall_stop(r, pid).op == k.PTRACE_SYSCALL_INFO_ENTRY:
            entries += 1
    k.detach(pid)
    check_status(os.waitpid(pid, 0)[1])
    util.equal(io.readline(), "done", "program's last words")


class CountThenHold(Observer):
    def __init__(self):
        super().__init__()
        self.entries = 0

    def report_syscall_entry(self, att, r):
        self.entries += 1
        if self.entries == 20:
            self.out.post("held")
            return Resume.STOP


def run_utrace(binary: str) -> None:
    popen, io = ut.spawn(binary)
    with ut.tracer() as t:
        proc = t.attach_process(popen.pid)
        eng = CountThenHold()
        eng.watch(proc.main_thread, Event.SYSCALL)
        io.go()
        eng.out.take("held")
        proc.detach()
    status = popen.wait()
    check_status(status << 8 if status >= 0 else -status)
    util.equal(io.readline(), "done", "program's last words")
