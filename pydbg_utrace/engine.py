"""The engine API: what a tracing engine implements and what it is handed.

An :class:`Engine` is utrace's ``struct utrace_engine_ops``: a set of
callbacks, shared by every thread it is attached to.  Each attachment to one
thread is an :class:`Attachment` (utrace's ``struct utrace_engine``), with its
own event mask and ``data``.

Every callback runs on the tracer thread while the thread being reported is
stopped in a ptrace stop.  Each receives the attachment and a :class:`Report`
and returns an answer: ``None`` (= ``Resume.RESUME``), a :class:`Resume`, or
``(Resume, disposition)`` where utrace has a disposition (signal and syscall
entry).  A callback must not block: it delays every traced thread.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .errors import InvalidError
from .events import Action, Event, JobControl, Resume, SignalAction, SyscallAction
from .process import State

if TYPE_CHECKING:
    from pydbg_utrace.arch.base import Registers

    from .breakpoints import Breakpoint
    from .kernel import Siginfo, SyscallInfo
    from .process import Thread
    from .seams import TracerSide as Tracer
    from .watchpoints import Watchpoint, WatchSlot

Answer = Resume | Action | tuple | None
_DEFINED_EVENTS = functools.reduce(operator.or_, (int(e) for e in Event), 0)


class Report:
    """What a callback is told about the event being reported.

    ``action`` is the combination (minimum) of the answers of the engines
    called before this one; ``signal_action`` / ``syscall_action`` are the
    disposition chosen so far.  Event-specific fields are ``None`` where they
    do not apply.
    """

    __slots__ = (
        "event", "thread", "action", "signal_action", "syscall_action", "resumed",
        "siginfo", "syscall", "child", "clone_kind", "exit_code", "group_dead",
        "jctl", "old_tid", "address", "watchpoint", "_tracer",
    )

    def __init__(self, tracer: Tracer, thread: Thread, event: Event):
        self._tracer = tracer
        self.event = event
        self.thread = thread
        self.action = Resume.RESUME
        self.signal_action: SignalAction | None = None
        self.syscall_action: SyscallAction | None = None
        self.resumed = False  # syscall entry reported again after a STOP
        self.siginfo: Siginfo | None = None  # signals: may be rewritten
        self.syscall: SyscallInfo | None = None  # syscall entry/exit
        self.child: Thread | None = None  # clone: the new thread, held until we return
        self.clone_kind: str | None = None  # "thread", "fork", "vfork" or "clone"
        self.exit_code: int | None = None  # exit/death: the wait status
        self.group_dead: bool | None = None  # death: the last thread of its process
        self.jctl: JobControl | None = None
        self.old_tid: int | None = None  # exec: the tid that called execve
        self.address: int | None = None  # breakpoint: where; watchpoint: the watched address
        self.watchpoint: WatchSlot | None = None  # watchpoint hit: what fired (else None)

    @property
    def regs(self) -> Registers:
        """The thread's registers, read on first use (once per stop); writes go back on resume."""
        return self._tracer.registers(self.thread)

    def set_syscall_result(self, value: int = 0, errno: int | None = None) -> None:
        """Choose what the program sees this system call return.

        At the exit stop it is written now; at the entry stop (typically with
        ``SyscallAction.ABORT``) it is written when the exit stop comes.
        ``errno`` makes it a failure (-1 and ``errno`` in C).
        """
        self._tracer.set_syscall_result(self.thread, value, errno)

    @property
    def signo(self) -> int:
        return self.siginfo.signo if self.siginfo is not None else 0

    def __repr__(self) -> str:
        return f"<Report {self.event!r} tid={self.thread.tid} action={self.action.name}>"


class Engine:
    """Subclass and override the ``report_*`` callbacks you ask for with ``set_events``.

    A callback only runs if the attachment's event mask has its event (or,
    for ``report_quiesce``, ``Event.QUIESCE``).  The default implementations
    answer "resume".
    """

    #: A name for ``info engines`` and logs; defaults to the class name.
    name: str | None = None

    def report_quiesce(self, att: Attachment, report: Report) -> Answer:
        """Before any other callback of this engine, when QUIESCE is in its events.

        ``report.event`` is the event about to be reported (``Event.NONE`` for a
        stop with no event: after ``control(STOP)``/``REPORT``).  May be called for
        events this engine did not ask for, because another engine did.
        """

    def report_signal(self, att: Attachment, report: Report) -> Answer:
        """A signal is about to be delivered (``report.siginfo``; may be rewritten).

        ``report.signal_action`` is the disposition so far: DELIVER, or the default
        action (IGN/TERM/CORE/STOP) the kernel would take, or REPORT when there is
        no signal (after ``control(INTERRUPT)``).  Return ``(Resume, SignalAction)``
        to change it; ``Action(..., hold=True)`` re-queues the signal.  SIGKILL is
        never reported.
        """

    def report_clone(self, att: Attachment, report: Report) -> Answer:
        """The thread created ``report.child`` (``clone_kind``: thread/fork/vfork/clone).

        The child is held stopped until every engine's ``report_clone`` returned,
        so attaching an engine to it here misses nothing it does.
        """

    def report_jctl(self, att: Attachment, report: Report) -> Answer:
        """The thread group stopped (``JobControl.STOPPED``) or continued."""

    def report_exec(self, att: Attachment, report: Report) -> Answer:
        """The thread finished an ``execve``; the old address space is gone."""

    def report_syscall_entry(self, att: Attachment, report: Report) -> Answer:
        """A system call is about to run (``report.syscall.nr``/``.args``).

        Engines are called in *reverse* attach order.  Return
        ``(Resume, SyscallAction.ABORT)`` to skip it; the last engine's
        disposition wins.  ``report.resumed`` is set when the entry is reported
        again after the thread was held in STOP here.
        """

    def report_syscall_exit(self, att: Attachment, report: Report) -> Answer:
        """A system call returned (``report.syscall.rval``, ``.is_error``)."""

    def report_exit(self, att: Attachment, report: Report) -> Answer:
        """The thread is exiting with wait status ``report.exit_code`` (read-only)."""

    def report_death(self, att: Attachment, report: Report) -> Answer:
        """The thread is dead.  Only ``Resume.DETACH`` means anything here."""

    def report_reap(self, att: Attachment, report: Report) -> None:
        """The last callback: the thread is gone; the attachment is detached after it."""

    def report_step(self, att: Attachment, report: Report) -> Answer:
        """A SINGLESTEP/BLOCKSTEP that this engine asked for has finished."""

    def report_breakpoint(self, att: Attachment, report: Report) -> Answer:
        """A breakpoint owned by this engine was hit at ``report.address``.

        Also called for a hardware watchpoint hit: then ``report.watchpoint``
        is set (the slot: ``address``, ``size``, ``access``) and the thread
        stopped just *after* the instruction that accessed the memory.
        """

    def display_name(self) -> str:
        return self.name or type(self).__name__


class Attachment:
    """One engine attached to one thread (utrace's ``struct utrace_engine``).

    Every method may be called from any Python thread; calls from other
    threads are carried out by the tracer thread, between callbacks.
    """

    __slots__ = ("engine", "thread", "data", "events", "detached", "syscall_filter", "_tracer")

    def __init__(self, tracer: Tracer, thread: Thread, engine: Engine, data: Any):
        self._tracer = tracer
        self.engine = engine
        self.thread = thread
        self.data = data
        self.events = Event.NONE
        self.detached = False
        self.syscall_filter: frozenset[int] | None = None  # None: every system call

    def set_events(self, events: Event) -> None:
        """Set the event mask (utrace_set_events); InvalidError for bits no Event has."""
        undefined = int(events) & ~_DEFINED_EVENTS
        if undefined:
            raise InvalidError(f"set_events: no event has the bits {undefined:#x}")
        self._tracer.set_events(self, Event(events))

    def set_syscall_filter(self, numbers: Iterable[int] | None) -> None:
        """Narrow SYSCALL_ENTRY/EXIT reports to the calls ``numbers`` (None: all).

        The numbers are the tracee's ABI's (``thread.arch.syscall_number_of``).
        Calls outside them reach no callback of this engine, on any path.  In a
        program launched with a seccomp filter that covers them the thread stops
        only at those calls; wanting more than the filter gives puts the thread
        back on the full path (every call stops).  TypeError/ValueError if not
        a set of non-negative ints.
        """
        self._tracer.set_syscall_filter(self, _syscall_numbers(numbers))

    def control(self, action: Resume) -> None:
        """Ask the thread to stop, step, report or resume (utrace_control).

        Raises :class:`InProgressError` when the action takes effect later.
        """
        self._tracer.control(self, Resume(action))

    def barrier(self) -> None:
        """Return once no callback of this engine is running (utrace_barrier)."""
        self._tracer.barrier(self)

    def holds_thread(self) -> bool:
        """Does this engine hold its thread stopped now (in a stop, this engine's STOP
        standing)?  From any thread: the tracer thread answers, between two callbacks."""
        return self._tracer.call(self._holds_thread)

    def _holds_thread(self) -> bool:
        return self.thread.state == State.STOPPED and self in self.thread.holds

    def insert_breakpoint(self, address: int, condition: Callable[[Report], bool] | None = None,
                          oneshot: bool = False) -> Breakpoint:
        """A software breakpoint at ``address`` in this thread's process.

        ``report_breakpoint`` runs when any thread of the process that this
        engine is attached to hits it (``Event.BREAKPOINT`` is added to the
        events).  One trap serves every engine at an address.
        """
        return self._tracer.insert_breakpoint(self, address, condition, oneshot)

    def remove_breakpoint(self, bp: Breakpoint) -> None:
        """Remove this engine's breakpoint; others' at the same address stay."""
        self._tracer.remove_breakpoint(bp)

    def insert_watchpoint(self, address: int, size: int = 8, access: str = "w") -> Watchpoint:
        """A hardware watchpoint on ``size`` bytes at ``address`` (x86_64 debug registers).

        ``access`` is ``"w"`` (writes) or ``"rw"`` (reads and writes); ``size``
        1, 2, 4 or 8, with ``address`` aligned to it.  ``"x"`` (size 1) is a
        hardware breakpoint: it fires before the instruction at ``address`` runs.
        Hits are reported with ``report_breakpoint`` (``report.watchpoint``
        set), in every thread of the process.  Four per process (engines
        sharing one watch share a register); NotSupportedError off x86_64.
        """
        return self._tracer.insert_watchpoint(self, address, size, access)

    def remove_watchpoint(self, wp: Watchpoint) -> None:
        """Remove this engine's watchpoint; the register is freed when nobody else uses it."""
        self._tracer.remove_watchpoint(wp)

    @contextmanager
    def examine(self) -> Iterator[Registers]:
        """The thread's registers, while this engine holds the thread stopped.

        Fails with :class:`NotStoppedError` if it does not.  Changes are written
        back when the thread resumes.
        """
        regs = self._tracer.examine(self)
        yield regs

    def __repr__(self) -> str:
        state = " detached" if self.detached else ""
        return (f"<Attachment {self.engine.display_name()} tid={self.thread.tid} "
                f"events={self.events!r}{state}>")


def _syscall_numbers(numbers: Iterable[int] | None) -> frozenset[int] | None:
    """A syscall filter as a frozenset of non-negative ints (TypeError / ValueError if not)."""
    if numbers is None:
        return None
    if isinstance(numbers, str | bytes) or not isinstance(numbers, Iterable):
        raise TypeError(f"a syscall filter is a set of numbers or None, not {numbers!r}")
    frozen = frozenset(numbers)
    bad = [nr for nr in frozen if not isinstance(nr, int) or isinstance(nr, bool) or nr < 0]
    if bad:
        raise ValueError(f"not system call numbers: {sorted(map(repr, bad))}")
    return frozen
