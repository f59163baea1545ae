"""What the tracer asks ptrace for, and how the stops it gets look.

Shared by the tracer's parts; pure (no ptrace).  :func:`stop_kind` is the
whole stop -> kind mapping, as a table (``KIND_OF_EVENT``) and two rules
the table cannot say: a syscall stop is known by its signal (SIGTRAP|0x80,
``PTRACE_O_TRACESYSGOOD``), and under ``PTRACE_SEIZE`` a group stop is a
``PTRACE_EVENT_STOP`` carrying the stopping signal where the other event
stops (interrupt, listen's notification, a new thread's first stop) carry
SIGTRAP.  Each kind has one handler in :mod:`pydbg_utrace.tracer.stops`.
"""

from __future__ import annotations

import enum
import os
import signal

from . import kernel

# Every tracee gets the same options: events the multiplexer itself needs to
# follow threads and hold new children.  They cost a stop only when they
# happen (clone, exec, exit), never per syscall.
TRACE_OPTIONS = (
    kernel.PTRACE_O_TRACESYSGOOD | kernel.PTRACE_O_TRACECLONE | kernel.PTRACE_O_TRACEFORK
    | kernel.PTRACE_O_TRACEVFORK | kernel.PTRACE_O_TRACEEXEC | kernel.PTRACE_O_TRACEEXIT
    | kernel.PTRACE_O_TRACEVFORKDONE
)
SYSCALL_STOP = signal.SIGTRAP | 0x80
#: The whole wait status of a syscall stop: stopped (0x7f) by SIGTRAP|0x80, no
#: PTRACE_EVENT (the fast lane tests this one int before anything else).
LANE_STATUS = SYSCALL_STOP << 8 | 0x7F
GROUP_STOP_SIGNALS = {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
WAKE_SIGNAL = signal.SIGURG  # ignored by default: harmless if it ever escapes
LAUNCH_HOLD = "launch"  # an internal hold: launched, waiting for start()
CLONE_HOLD = "clone"  # an internal hold: child waiting for its parent's report_clone
CLONE_EVENTS = {
    kernel.PTRACE_EVENT_FORK: "fork",
    kernel.PTRACE_EVENT_VFORK: "vfork",
    kernel.PTRACE_EVENT_CLONE: "clone",
}


class StopKind(enum.Enum):
    """What a ptrace stop is (its handler's name in tracer.stops says what is done)."""

    SYSCALL = "syscall"  # a syscall entry or exit stop
    SIGNAL = "signal"  # a signal-delivery stop (SIGTRAP included: hits, steps)
    GROUP_STOP = "group stop"  # PTRACE_EVENT_STOP with a stopping signal
    EVENT_STOP = "event stop"  # PTRACE_EVENT_STOP with SIGTRAP: interrupt, listen, birth
    CLONE = "clone"  # PTRACE_EVENT_FORK / VFORK / CLONE
    EXEC = "exec"
    EXIT = "exit"
    VFORK_DONE = "vfork done"
    SECCOMP = "seccomp"
    OTHER = "other"  # an event we did not ask for: resumed, nothing reported


#: The PTRACE_EVENT_* of a stop status (``status >> 16``) -> its kind.
KIND_OF_EVENT: dict[int, StopKind] = {
    0: StopKind.SIGNAL,
    kernel.PTRACE_EVENT_STOP: StopKind.EVENT_STOP,
    kernel.PTRACE_EVENT_FORK: StopKind.CLONE,
    kernel.PTRACE_EVENT_VFORK: StopKind.CLONE,
    kernel.PTRACE_EVENT_CLONE: StopKind.CLONE,
    kernel.PTRACE_EVENT_EXEC: StopKind.EXEC,
    kernel.PTRACE_EVENT_EXIT: StopKind.EXIT,
    kernel.PTRACE_EVENT_VFORK_DONE: StopKind.VFORK_DONE,
    kernel.PTRACE_EVENT_SECCOMP: StopKind.SECCOMP,
}


def stop_kind(status: int) -> StopKind:
    """The kind of the ptrace stop whose wait status is ``status`` (WIFSTOPPED)."""
    sig = os.WSTOPSIG(status)
    if sig == SYSCALL_STOP:
        return StopKind.SYSCALL
    kind = KIND_OF_EVENT.get(kernel.event_of(status), StopKind.OTHER)
    if kind is StopKind.EVENT_STOP and sig in GROUP_STOP_SIGNALS:
        return StopKind.GROUP_STOP
    return kind
