"""detach-sigkill-race: SIGKILL racing with detach leaves no unreapable zombie.

Repeatedly: attach to a sleeping child and stop it, then SIGKILL it and
detach at once (both orders).  Whatever the detach returns, the real parent's
waitpid must collect a death by SIGKILL, and the pid must be gone after.
"""

import os
import signal

from ptlib import util
from ptlib.raw import BASE_OPTIONS, Raw

from pydbg_utrace import kernel as k

NAME = "detach-sigkill-race"
ROUNDS = 20


def check_reaped(pid: int, status: int) -> None:
    util.check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
               f"pid {pid}: wait status {status:#x}, expected death by SIGKILL")
    util.equal(util.proc_state(pid), "", f"pid {pid} after it was reaped")


def run_raw(binary: str) -> None:
    r = Raw()
    for i in range(ROUNDS):
        pid, _ = r.spawn(binary)
        k.seize(pid, BASE_OPTIONS)
        k.interrupt(pid)
        r.expect(pid, "the interrupt stop", lambda s: s.is_event(k.PTRACE_EVENT_STOP))
        if i % 2:
            os.kill(pid, signal.SIGKILL)
        try:
            k.detach(pid)
        except k.NoSuchProcessError:
            pass
        if not i % 2:
            os.kill(pid, signal.SIGKILL)
        status = os.waitpid(pid, 0)[1]
        check_reaped(pid, status)
