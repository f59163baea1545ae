"""attach-wait-on-stopped: attaching to an already-stopped process reports its stop at once.

The real parent has already collected the SIGSTOP stop.  Attaching must
produce one prompt stop report (the group stop, no hang), put it in a
tracing stop ('t'), and add nothing to the real parent's view; detached, it
is stopped ('T') as before; SIGCONT from the parent resumes it as usual.
"""

import stopped_detach_sleeping
from ptlib import util
from ptlib.parent import RealParent
from ptlib.raw import Raw, attach_group_stopped, detach_all

NAME = "attach-wait-on-stopped"
TRACEE = "stopped-child"


def after_detach(p: RealParent, tids: list[int]) -> None:
    """The common tail: still stopped, nothing new for the parent, SIGCONT works."""
    # Going back from the tracing stop to the group stop after a detach is not
    # reported to anyone, so the state is polled (bounded).
    for tid in tids:
        util.wait_proc_state(p.child, "T", tid=tid)
    p.expect_wait("none", why=" after detach (a stop reported twice?)")
    p.signal("C")
    stopped_detach_sleeping.after_detach(p, tids)


def run_raw(binary: str) -> None:
    r = Raw()
    ppid, io = r.spawn(binary, "stop-sleep", "1")
    p = RealParent(io, ppid)
    tids = p.wait_stopped(1)
    attach_group_stopped(r, tids)
    util.equal(util.proc_state(p.child), "t", "state while attached")
    p.expect_wait("none", why=" while attached")
    detach_all(r, tids)
    after_detach(p, tids)
