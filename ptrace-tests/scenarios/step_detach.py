"""step-detach: detaching right after a single-step leaves no trap behind.

Step the counting loop a few times, then PTRACE_DETACH with no signal: the
former tracee must run to its normal exit 0, not die of a stray SIGTRAP.
"""

import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "step-detach"
TRACEE = "step-simple"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    io.go()
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    for _ in range(10):
        k.singlestep(pid)
        r.expect(pid, "a step trap", lambda s: s.signal_stop and s.sig == signal.SIGTRAP)
    k.detach(pid)
    _, status = os.waitpid(pid, 0)  # we are still its real parent
    if os.WIFSIGNALED(status):
        raise util.Fail(f"detached tracee killed by {signal.Signals(os.WTERMSIG(status)).name}")
    util.equal(os.WEXITSTATUS(status), 0, "detached tracee's exit code")


def run_utrace(binary: str) -> None:
    from step_simple import LoopStepper

    # Our own child, attached to: after the detach we are the one to reap it.
    popen, io = ut.spawn(binary)
    with ut.tracer() as t:
        proc = t.attach_process(popen.pid)
        eng = LoopStepper(io, hold_after=10)
        eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.STEP)
        io.go()
        eng.out.take("held")
        proc.detach()
    status = popen.wait()
    if status < 0:
        raise util.Fail(f"detached tracee killed by {signal.Signals(-status).name}")
    util.equal(status, 0, "detached tracee's exit code")
    eng.out.check()
