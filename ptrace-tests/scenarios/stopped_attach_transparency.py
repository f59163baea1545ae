"""stopped-attach-transparency: a debugger leaves the real parent's view of a stop unchanged.

A stopped 3-thread process is attached (all threads) and left listening.
The real parent sees no new report; its SIGCONT reaches the process and it
sees "continued" as without a debugger, while the debugger is told of the
continuation by a PTRACE_EVENT_STOP trap on every thread; the process then
runs on (exit 0) and the parent reaps it normally.
"""

import signal

from ptlib import ut, util
from ptlib.parent import RealParent
from ptlib.raw import Raw, attach_group_stopped, await_continue_traps

from pydbg_utrace import kernel as k

NAME = "stopped-attach-transparency"
TRACEE = "stopped-child"


def run_raw(binary: str) -> None:
    r = Raw()
    ppid, io = r.spawn(binary, "stop", "3")
    p = RealParent(io, ppid)
    tids = p.wait_stopped(3)
    attach_group_stopped(r, tids)
    for tid in tids:
        k.listen(tid)
    p.expect_wait("none", why=" while attached")
    p.signal("C")
    await_continue_traps(r, tids)
    p.expect_wait("continued", block=True, why=" (SIGCONT while traced)")
    # The leader last: once it runs it exits, taking the other threads along.
    # (Its exit is also reported only after every other thread's.)
    order = sorted(tids, key=lambda t: t == p.child)
    for tid in order:
        k.cont(tid)
    # Any thread may now stop for the SIGCONT's delivery (the leader too,
    # holding up everyone's exit): take the reports as they come.
    alive = set(tids)
    while alive:
        st = r.wait()
        util.check(st.pid in alive, f"report of a stranger: {st}")
        if st.signal_stop and st.sig == signal.SIGCONT:
            try:
                k.cont(st.pid, signal.SIGCONT)
            except k.NoSuchProcessError:
                pass  # the group exit's SIGKILL took it out of the stop already
            continue
        util.check(st.exited, f"thread {st.pid}: {st}")
        alive.discard(st.pid)
    p.expect_wait("exited 0", block=True)
    p.quit()


def run_utrace(binary: str) -> None:
    from attach_wait_on_stopped import attach_stopped_utrace

    popen, io = ut.spawn(binary, "stop", "3")
    p = RealParent(io, popen.pid)
    tids = p.wait_stopped(3)
    with ut.tracer() as t:
        proc, eng = attach_stopped_utrace(t, p, tids)
        eng.hold_continued = True  # like the raw run: hold them until the parent looked
        for tid in tids:
            eng.release(tid)
        p.expect_wait("none", why=" while attached")
        # The attach's own traps reached no engine (attach_process took them)
        # and each stop_now took its thread's quiesce: nothing may be waiting.
        # What comes from here on is the doing of the SIGCONT.
        util.equal(eng.drain(), [], "reports left from the attach")
        p.signal("C")
        # Each thread is held where it first hears of the SIGCONT: its
        # CONTINUED report, or (the one that dequeues it) the signal's report.
        told = set()
        while told != set(tids):
            item = eng.out.take("jctl", "signal", "death", "quiesce", within=3.0,
                                why=" after SIGCONT")
            if item[0] == "death" or (item[0] == "jctl" and item[2] != "CONTINUED"):
                raise util.Fail(f"after SIGCONT: {item}")
            if item[0] != "quiesce":
                told.add(item[1])
        p.expect_wait("continued", block=True, why=" (SIGCONT while traced)")
        eng.hold_continued = False
        for tid in sorted(tids, key=lambda x: x == p.child):  # the leader last
            eng.release(tid)
        p.expect_wait("exited 0", block=True)
        ut.exit_status(proc, 5)
    p.quit()
