"""detach-sigkill-race: SIGKILL racing with detach leaves no unreapable zombie.

Repeatedly: attach to a sleeping child (of its own real parent) and stop it,
then SIGKILL it and detach at once (both orders).  Whatever the detach
says (if it fails because the tracee is dead, the tracer collects the death
report it still owes), the real parent's waitpid must collect a death by
SIGKILL, and the pid must be gone after.
"""

import os
import signal

from ptlib import ut, util
from ptlib.parent import RealParent
from ptlib.raw import BASE_OPTIONS, Raw
from ptlib.ut import JobWatcher, stop_now

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "detach-sigkill-race"
TRACEE = "stopped-child"
ROUNDS = 20


def check_reaped(p: RealParent) -> None:
    p.expect_wait("killed 9", block=True, why=" (the tracee's death)")
    util.equal(util.proc_state(p.child), "", f"pid {p.child} after its parent reaped it")
    p.quit()


def run_raw(binary: str) -> None:
    r = Raw()
    for i in range(ROUNDS):
        ppid, io = r.spawn(binary, "sleep", "1")
        p = RealParent(io, ppid)
        k.seize(p.child, BASE_OPTIONS)
        k.interrupt(p.child)
        r.expect(p.child, "the interrupt stop", lambda s: s.is_event(k.PTRACE_EVENT_STOP))
        if i % 2:
            os.kill(p.child, signal.SIGKILL)
        try:
            k.detach(p.child)
        except k.NoSuchProcessError:
            # Dead while still ours: the tracer collects the death first
            # (else the real parent waits forever), then it goes to the parent.
            st = r.wait(p.child)
            util.check(st.signaled, f"after a failed detach: {st}")
        if not i % 2:
            os.kill(p.child, signal.SIGKILL)
        check_reaped(p)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        for i in range(ROUNDS):
            popen, io = ut.spawn(binary, "sleep", "1")
            p = RealParent(io, popen.pid)
            proc = t.attach_process(p.child)
            eng = JobWatcher()
            stop_now(eng, eng.watch(proc.main_thread, Event.QUIESCE | Event.DEATH))
            if i % 2:
                os.kill(p.child, signal.SIGKILL)
            proc.detach()
            if not i % 2:
                os.kill(p.child, signal.SIGKILL)
            check_reaped(p)
