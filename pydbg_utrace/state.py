"""A thread's per-stop state: what its current ptrace stop made known or asked for.

One :class:`StopState` per thread (``Thread.stop``), reset at every stop by
whoever takes the stop (the stop handlers, the fast lane, a thread let go
after a hold, a stop met while detaching), so that nothing of the last stop
leaks into this one.  Plain data: no back-reference to the thread or the
tracer, no I/O.

What outlives a stop is not here, on purpose: the entry's syscall info
(its exit stop needs it), an abort's result (set at the entry, written at
the exit), ``at_trap`` (set at a stop, consumed by the resume that steps
over the trap, possibly after a deferred stop in between), ``stepping``
(how it was last resumed).
"""

from __future__ import annotations

from typing import Any


class StopState:
    """The current stop of one thread."""

    __slots__ = ("regs", "inject", "event", "jobctl")

    def __init__(self) -> None:
        self.reset(jobctl=False)

    def reset(self, jobctl: bool) -> None:
        """A new stop (``jobctl``: an interrupt or group stop, PTRACE_EVENT_STOP)."""
        self.regs: Any = None  # the registers, read on first use at this stop
        self.inject = 0  # the signal to deliver when it resumes
        self.event = 0  # the Event reported at this stop (0: none yet)
        self.jobctl = jobctl
