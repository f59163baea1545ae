"""The vocabulary of the engine API: events, actions and attach flags.

Values and order follow ``include/linux/utrace.h`` (seed 004) so that a reader
of the kernel documentation finds the same names here.
"""

from __future__ import annotations

import enum
from typing import NamedTuple


class Event(enum.IntFlag):
    """What an engine can ask to hear about (``set_events``), in utrace bit order."""

    QUIESCE = 1 << 0
    REAP = 1 << 1
    CLONE = 1 << 2
    EXEC = 1 << 3
    EXIT = 1 << 4
    DEATH = 1 << 5
    SYSCALL_ENTRY = 1 << 6
    SYSCALL_EXIT = 1 << 7
    SIGNAL = 1 << 8  # a signal whose disposition is a handler
    SIGNAL_IGN = 1 << 9  # ... is to ignore it
    SIGNAL_STOP = 1 << 10  # ... is the default stop action
    SIGNAL_TERM = 1 << 11  # ... is the default terminate action
    SIGNAL_CORE = 1 << 12  # ... is the default core-dump action
    JCTL = 1 << 13  # job control: the group stopped or continued
    # Added by this project (no kernel counterpart):
    STEP = 1 << 14  # a SINGLESTEP/BLOCKSTEP this engine asked for finished
    BREAKPOINT = 1 << 15  # a software breakpoint this engine owns was hit

    NONE = 0
    SIGNAL_ALL = SIGNAL | SIGNAL_IGN | SIGNAL_STOP | SIGNAL_TERM | SIGNAL_CORE
    SYSCALL = SYSCALL_ENTRY | SYSCALL_EXIT


class Resume(enum.IntEnum):
    """How the thread goes on.  The order *is* the priority: the smallest wins."""

    STOP = 0  # stay stopped until this engine resumes it (sticky)
    INTERRUPT = 1  # stop soon, even from a blocking system call, and report
    REPORT = 2  # report (report_quiesce) before going back to user mode
    SINGLESTEP = 3  # run one instruction, then report_step
    BLOCKSTEP = 4  # run to the next branch, then report_step
    RESUME = 5  # run freely
    DETACH = 6  # this engine is done with the thread: no more callbacks


class SignalAction(enum.IntEnum):
    """What happens to a signal (kernel encoding ``UTRACE_SIGNAL_*``)."""

    DELIVER = 0x00  # deliver as the tracee's disposition says
    IGN = 0x10  # discard it
    TERM = 0x20  # terminate the process (as SIGTERM's default)
    CORE = 0x30  # terminate with core (as SIGQUIT's default)
    STOP = 0x40  # job-control stop (as SIGSTOP's default)
    TSTP = 0x50  # job-control stop (as SIGTSTP's default)
    REPORT = 0x60  # no signal: a report caused by INTERRUPT or REPORT
    HANDLER = 0x70  # a handler was just set up (reported after stepping into it)


class SyscallAction(enum.IntEnum):
    """What happens to a system call at its entry."""

    RUN = 0
    ABORT = 1  # skip it; the program sees the result set at exit (default ENOSYS)


class AttachFlags(enum.IntFlag):
    """Flags of :meth:`Tracer.attach` (``UTRACE_ATTACH_*``)."""

    NONE = 0
    MATCH_OPS = 1  # match an attachment with the same engine (ops) object
    MATCH_DATA = 2  # match an attachment with the same data
    CREATE = 0x10  # attach a new one (unless EXCLUSIVE finds a match)
    EXCLUSIVE = 0x20  # with CREATE: fail with ExistsError if one matches


class JobControl(enum.IntEnum):
    """``report_jctl``'s type: the group stopped or continued (``CLD_*``)."""

    STOPPED = 5
    CONTINUED = 6


class Action(NamedTuple):
    """A callback's answer: a resume action and, where utrace has one, a disposition.

    Callbacks may return ``None`` (resume), a bare :class:`Resume`, a plain
    tuple ``(Resume, disposition)`` or an ``Action``.  ``hold=True`` with a
    signal disposition puts the signal back on the queue (``UTRACE_SIGNAL_HOLD``).
    """

    resume: Resume = Resume.RESUME
    disposition: SignalAction | SyscallAction | None = None
    hold: bool = False
