"""What the tracer asks ptrace for, and how the stops it gets look.

Shared by the tracer and its two halves (traps, lifecycle); no logic here.
"""

from __future__ import annotations

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
