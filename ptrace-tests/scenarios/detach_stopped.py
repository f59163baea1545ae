"""detach-stopped: a stopped multithreaded process, attached and detached, stays stopped.

All three threads are attached (each reports the group stop) and left
listening (PTRACE_LISTEN), then detached (a listening tracee must first be
trapped again with PTRACE_INTERRUPT: PTRACE_DETACH refuses it with ESRCH):
every thread must be back in 'T', the real parent must see no new report,
and its SIGCONT resumes the process.
"""

from attach_wait_on_stopped import after_detach
from ptlib import ut
from ptlib.parent import RealParent
from ptlib.raw import Raw, attach_group_stopped, detach_all

from pydbg_utrace import kernel as k

NAME = "detach-stopped"
TRACEE = "stopped-child"


def run_raw(binary: str) -> None:
    r = Raw()
    ppid, io = r.spawn(binary, "stop", "3")
    p = RealParent(io, ppid)
    tids = p.wait_stopped(3)
    attach_group_stopped(r, tids)
    for tid in tids:
        k.listen(tid)
    detach_all(r, tids, listening=True)
    after_detach(p, tids)


def run_utrace(binary: str) -> None:
    from attach_wait_on_stopped import attach_stopped_utrace

    popen, io = ut.spawn(binary, "stop", "3")
    p = RealParent(io, popen.pid)
    tids = p.wait_stopped(3)
    with ut.tracer() as t:
        proc, eng = attach_stopped_utrace(t, p, tids)
        for tid in tids:  # let go again: the multiplexer parks them listening
            eng.release(tid)
        p.expect_wait("none", why=" while attached")
        proc.detach()
    after_detach(p, tids)
