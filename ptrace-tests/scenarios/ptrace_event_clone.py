"""ptrace_event_clone: PTRACE_EVENT_CLONE for a thread and for a non-SIGCHLD clone, with their ids.

With PTRACE_O_TRACECLONE: the parent stops with PTRACE_EVENT_CLONE whose event
message is the new tid, for a CLONE_THREAD clone and for a fork-like clone
with exit signal SIGUSR1; each child is auto-attached and first reports
PTRACE_EVENT_STOP; the thread shares the parent's tgid, the other does not.
"""

import signal

from ptlib import ut, util
from ptlib.raw import Raw

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "ptrace_event_clone"


def one_clone(r: Raw, pid: int) -> int:
    st = r.wait(pid)
    util.check(st.is_event(k.PTRACE_EVENT_CLONE), f"expected a clone event, got {st}")
    child = k.get_event_msg(pid)
    st = r.wait(child)
    util.check(st.is_event(k.PTRACE_EVENT_STOP), f"new child {child}: {st}")
    return child


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACECLONE | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    tid = one_clone(r, pid)
    util.equal(util.proc_status_field(tid, "Tgid"), str(pid), "thread's tgid")
    k.cont(tid)
    k.cont(pid)
    util.check(r.wait(tid).exited, "thread exit")
    child = one_clone(r, pid)
    util.equal(util.proc_status_field(child, "Tgid"), str(child), "fork-like child's tgid")
    k.cont(child)
    k.cont(pid)
    st = r.wait(child)
    util.check(st.exited and st.code == 9, f"child: {st}")
    st = r.wait_passing(pid, (signal.SIGUSR1,))
    util.check(st.exited and st.code == 0, f"parent: {st}")
    util.equal(io.expect_int("thread"), tid, "tid clone() returned vs event message")
    util.equal(io.expect_int("child"), child, "pid clone() returned vs event message")


def run_utrace(binary: str) -> None:
    from clone_ptrace import FollowChild

    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = FollowChild()
        eng.watch(proc.main_thread, Event.CLONE)
        proc.start()
        # Two clones, two deaths; a death may be reported after the next clone
        # (different threads), but never before its own clone.
        clones: list[tuple[str, int]] = []
        deaths: dict[int, int] = {}
        for _ in range(4):
            item = eng.out.take("clone", "death")
            if item[0] == "clone":
                clones.append(item[1:])
            else:
                util.check(item[1] in [c[1] for c in clones], f"death before its clone: {item}")
                deaths[item[1]] = item[2]
        util.equal([c[0] for c in clones], ["thread", "clone"], "clone kinds (SIGUSR1 exit signal)")
        tid, child = clones[0][1], clones[1][1]
        util.equal(deaths, {tid: 0, child: 9 << 8}, "deaths (wait status)")
        ut.expect_exit(proc, 0, "parent")
        util.equal(io.expect_int("thread"), tid, "tid clone() returned vs report_clone")
        util.equal(io.expect_int("child"), child, "pid clone() returned vs report_clone")
