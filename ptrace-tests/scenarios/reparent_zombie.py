"""reparent-zombie: a tracee reparented to its tracer's process is reaped once, fully.

The debugger's process is a child subreaper.  It traces a grandchild whose
parent then exits: the grandchild is reparented to the debugger's process,
which is now both its tracer and its real parent.  When it exits (7) the
exit is reported once, and then nothing is left: no second report, no
zombie.
"""

import ctypes
import os
import signal

from ptlib import ut, util
from ptlib.raw import BASE_OPTIONS, Raw
from ptlib.ut import Observer

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "reparent-zombie"
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise util.Fail(f"prctl(PR_SET_CHILD_SUBREAPER): errno {ctypes.get_errno()}")


def ppid_of(pid: int) -> int:
    return int(util.proc_status_field(pid, "PPid"))


def run_raw(binary: str) -> None:
    become_subreaper()
    r = Raw()
    parent, io = r.spawn(binary)
    child = io.expect_int("child")
    k.seize(child, BASE_OPTIONS)
    k.interrupt(child)
    r.expect(child, "the interrupt stop", lambda s: s.is_event(k.PTRACE_EVENT_STOP))
    k.cont(child)
    io.go()
    _, status = os.waitpid(parent, 0)
    util.check(os.WIFEXITED(status), f"parent status {status:#x}")
    util.equal(ppid_of(child), os.getpid(), "the orphan's new parent")
    os.kill(child, signal.SIGUSR1)
    st = r.wait_passing(child, (signal.SIGUSR1,))
    util.check(st.exited and st.code == 7, f"child: {st}")
    util.check(r.wait_nohang() is None, "a second report of the same exit")
    util.equal(util.proc_state(child), "", "the child after its exit was collected")


class Death(Observer):
    def report_signal(self, att, r):
        self.out.post("signal", r.signo)

    def report_death(self, att, r):
        self.out.post("death", r.exit_code)

    def report_reap(self, att, r):
        self.out.post("reap")


def run_utrace(binary: str) -> None:
    become_subreaper()
    popen, io = ut.spawn(binary)
    child = io.expect_int("child")
    with ut.tracer() as t:
        proc = t.attach_process(child)
        eng = Death()
        eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.DEATH | Event.REAP)
        io.go()
        util.equal(popen.wait(), 0, "the parent's exit code")
        util.equal(ppid_of(child), os.getpid(), "the orphan's new parent")
        os.kill(child, signal.SIGUSR1)
        util.equal(eng.out.take("signal")[1], signal.SIGUSR1, "signal report")
        util.equal(eng.out.take("death")[1], 7 << 8, "death report (wait status)")
        eng.out.take("reap")
        util.equal(ut.exit_status(proc, 5), 7 << 8, "process status")
    try:
        wpid, status = os.waitpid(child, os.WNOHANG)
    except ChildProcessError:
        wpid = 0
    if wpid:
        raise util.Fail(f"the exit was reported a second time to the real parent ({status:#x})")
    util.equal(util.proc_state(child), "", "the child after its exit was collected")
