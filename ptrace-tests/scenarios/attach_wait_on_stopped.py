"""attach-wait-on-stopped: attaching to an already-stopped process reports its stop at once.

The real parent has already collected the SIGSTOP stop.  Attaching must
produce one prompt stop report (the group stop, no hang), put it in a
tracing stop ('t'), and add nothing to the real parent's view; detached, it
is stopped ('T') as before; SIGCONT from the parent resumes it as usual.
"""

from ptlib import ut, util
from ptlib.parent import RealParent
from ptlib.raw import Raw, attach_group_stopped, detach_all
from ptlib.ut import JobWatcher, stop_now

from pydbg_utrace import Event, NoSuchThreadError

NAME = "attach-wait-on-stopped"
TRACEE = "stopped-child"


def after_detach(p: RealParent, tids: list[int]) -> None:
    """The common tail: still stopped, nothing new for the parent, SIGCONT works.

    The child ("stop" mode) exits 0 as soon as it runs: had anyone resumed it
    behind the parent's back, the parent would already see it exited.
    """
    # Going back from the tracing stop to the group stop after a detach is not
    # reported to anyone, so the state is polled (bounded).
    for tid in tids:
        util.wait_proc_state(p.child, "T", tid=tid)
    p.expect_wait("none", why=" after detach (a stop reported twice, or it ran?)")
    p.signal("C")
    # "continued" may be overtaken by the exit it leads to: waitpid reports
    # the exit first once there is one.
    got = p.wait(block=True)
    if got == "continued":
        got = p.wait(block=True)
    util.equal(got, "exited 0", "real parent's waitpid after SIGCONT")
    p.quit()


def run_raw(binary: str) -> None:
    r = Raw()
    ppid, io = r.spawn(binary, "stop", "1")
    p = RealParent(io, ppid)
    tids = p.wait_stopped(1)
    attach_group_stopped(r, tids)
    util.equal(util.proc_state(p.child), "t", "state while attached")
    p.expect_wait("none", why=" while attached")
    detach_all(r, tids)
    after_detach(p, tids)


def attach_stopped_utrace(t, p: RealParent, tids: list[int]):
    """attach_process, an engine on every thread, each held with control(STOP)."""
    proc = t.attach_process(p.child)
    eng = JobWatcher()
    try:
        for tid in tids:
            eng.watch(t.thread(tid), Event.QUIESCE | Event.JCTL | Event.SIGNAL_ALL | Event.DEATH)
        for tid in tids:
            # attach_process has taken the trap that seizing a stopped thread
            # makes (no engine hears it): each thread is listening in its group
            # stop, and control(STOP) interrupts it into a stop of ours, told by
            # its report_quiesce.
            util.check(t.thread(tid).group_stopped, f"thread {tid} not group-stopped")
            stop_now(eng, eng.atts[tid])
            util.equal(util.proc_state(p.child, tid), "t", f"thread {tid} once held")
    except (KeyError, NoSuchThreadError, util.Fail) as e:
        # The child runs to exit 0 the moment anything resumes it.
        seen = p.wait()
        raise util.Fail(f"attaching resumed the stopped process (real parent's waitpid "
                        f"now says {seen!r}; {type(e).__name__}: {e})") from None
    return proc, eng


def run_utrace(binary: str) -> None:
    popen, io = ut.spawn(binary, "stop", "1")
    p = RealParent(io, popen.pid)
    tids = p.wait_stopped(1)
    with ut.tracer() as t:
        proc, eng = attach_stopped_utrace(t, p, tids)
        util.equal(util.proc_state(p.child), "t", "state while held")
        p.expect_wait("none", why=" while attached")
        proc.detach()
    after_detach(p, tids)
