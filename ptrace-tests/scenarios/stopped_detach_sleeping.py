"""stopped-detach-sleeping: attach to a stopped ('T') process and detach it sleeping, not stopped.

A stopped 2-thread process is attached and the debugger continues it
(SIGCONT while attached, then detach): every thread must end up asleep in
its system call ('S'), not stopped; the real parent sees "continued" once.
"""

import os
import signal

from ptlib import ut, util
from ptlib.parent import RealParent
from ptlib.raw import Raw, attach_group_stopped, await_continue_traps, detach_all

from pydbg_utrace import kernel as k

NAME = "stopped-detach-sleeping"
TRACEE = "stopped-child"


def after_detach(p: RealParent, tids: list[int]) -> None:
    # Falling asleep in read()/pause() is not an event anyone is told of:
    # poll the state (bounded).
    for tid in tids:
        util.wait_proc_state(p.child, "S", tid=tid)
    p.expect_wait("continued", block=True)
    p.expect_wait("none")
    p.signal("K")
    p.expect_wait("killed 9", block=True)
    p.quit()


def run_raw(binary: str) -> None:
    r = Raw()
    ppid, io = r.spawn(binary, "stop-sleep", "2")
    p = RealParent(io, ppid)
    tids = p.wait_stopped(2)
    attach_group_stopped(r, tids)
    for tid in tids:
        k.listen(tid)
    os.kill(p.child, signal.SIGCONT)
    await_continue_traps(r, tids)
    detach_all(r, tids)
    after_detach(p, tids)


def run_utrace(binary: str) -> None:
    from attach_wait_on_stopped import attach_stopped_utrace

    popen, io = ut.spawn(binary, "stop-sleep", "2")
    p = RealParent(io, popen.pid)
    tids = p.wait_stopped(2)
    with ut.tracer() as t:
        proc, eng = attach_stopped_utrace(t, p, tids)
        for tid in tids:
            eng.release(tid)
        # The attach's own trap (seizing a stopped thread re-traps it) was taken
        # by attach_process and reached no engine: from here on only the
        # SIGCONT's doing is reported, one CONTINUED per thread.
        util.equal(eng.drain(), [], "reports left from the attach")
        os.kill(p.child, signal.SIGCONT)
        continued = set()
        while continued != set(tids):
            _, tid, what = eng.take_skipping("jctl", within=3.0, why=" after SIGCONT")
            util.check(what == "CONTINUED", f"thread {tid}: jctl {what} after SIGCONT")
            util.check(tid not in continued, f"thread {tid}: a second CONTINUED")
            continued.add(tid)
        proc.detach()
    after_detach(p, tids)
