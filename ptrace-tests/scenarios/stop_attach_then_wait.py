"""stop-attach-then-wait: SIGSTOP, attach at once, wait: the stop is reported, once, never lost.

The classic debugger attach sequence against a running (sleeping) process:
``kill(SIGSTOP)`` then attach without waiting, then wait.  Whether the stop
had happened before the attach or not, the debugger must end up seeing the
group stop (passing the SIGSTOP on if it sees its delivery), the real parent
sees "stopped" exactly once, and after detach the process stays stopped
until the parent's SIGCONT.  Repeated to catch both sides of the race.
"""

import os
import signal

from ptlib import ut, util
from ptlib.parent import RealParent
from ptlib.raw import BASE_OPTIONS, Raw
from ptlib.ut import JobWatcher, stop_now
from stopped_detach_sleeping import after_detach

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "stop-attach-then-wait"
TRACEE = "stopped-child"
ROUNDS = 10


def one_round_raw(r: Raw, binary: str) -> None:
    ppid, io = r.spawn(binary, "sleep", "1")
    p = RealParent(io, ppid)
    util.wait_proc_state(p.child, "S")  # started and asleep: no event tells us
    os.kill(p.child, signal.SIGSTOP)
    k.seize(p.child, BASE_OPTIONS)
    while True:
        st = r.wait(p.child)
        if st.group_stop:
            break
        util.check(st.signal_stop and st.sig == signal.SIGSTOP, f"after attach: {st}")
        k.cont(p.child, signal.SIGSTOP)
    p.expect_wait("stopped 19", block=True)
    p.expect_wait("none", why=" (stop reported twice)")
    k.detach(p.child)
    util.wait_proc_state(p.child, "T")
    p.expect_wait("none", why=" after detach")
    p.signal("C")
    after_detach(p, [p.child])


def run_raw(binary: str) -> None:
    r = Raw()
    for _ in range(ROUNDS):
        one_round_raw(r, binary)


def one_round_utrace(t, binary: str) -> None:
    popen, io = ut.spawn(binary, "sleep", "1")
    p = RealParent(io, popen.pid)
    util.wait_proc_state(p.child, "S")  # started and asleep: no event tells us
    os.kill(p.child, signal.SIGSTOP)
    proc = t.attach_process(p.child)
    eng = JobWatcher()
    att = eng.watch(proc.main_thread, Event.QUIESCE | Event.JCTL | Event.SIGNAL_ALL)
    # The stop may have happened before the engine attached (then it is told
    # nothing of it) or after (then report_jctl): either way the real parent
    # sees it exactly once, and control(STOP) gets hold of the thread.
    p.expect_wait("stopped 19", block=True)
    stop_now(eng, att)
    p.expect_wait("none", why=" (stop reported twice)")
    proc.detach()
    util.wait_proc_state(p.child, "T")
    p.expect_wait("none", why=" after detach")
    p.signal("C")
    after_detach(p, [p.child])


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        for _ in range(ROUNDS):
            one_round_utrace(t, binary)
