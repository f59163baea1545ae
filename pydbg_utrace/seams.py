"""The seams between the core's layers, as typing Protocols (no code runs here).

The API objects (:mod:`engine`, :mod:`process`) and the services
(:mod:`breakpoints`, :mod:`watchpoints`) name the tracer, engines and
attachments in their type hints.  Importing those classes for the hints --
even under ``TYPE_CHECKING`` -- made one import cycle of the core's big
modules (issue 12).  They name these Protocols instead, which sit at the
bottom layer and import nothing of ours but the vocabulary: each says what
the lower layer actually uses of the higher one (docs/architecture.md).

:class:`TracerSide` lists, honestly, the facade's *private* methods that
``Attachment``, ``Report`` and ``Process`` call today (``tracer/facade.py``:
each hands the call to one of the tracer's parts in one line).  Kept
visible here rather than hidden behind ``Any``; a public "engine side"
object handed to the API objects would end the underscores
(docs/architecture.md, "Left to do").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .events import Event


class TracerSide(Protocol):
    """What the API objects (Attachment, Report, Thread, Process) ask of the tracer."""

    _stopped: bool

    def call(self, fn: Callable[..., Any], *args: Any) -> Any: ...
    def attach(self, thread: Any, engine: Any = None, flags: Any = ..., data: Any = None
               ) -> Any: ...
    def _call(self, fn: Callable[..., Any], *args: Any) -> Any: ...
    def _gone_error(self) -> RuntimeError: ...
    def _registers(self, thread: Any) -> Any: ...
    def _set_syscall_result(self, thread: Any, value: int, err: int | None) -> None: ...
    def _set_events(self, att: Any, events: Event) -> None: ...
    def _set_syscall_filter(self, att: Any, numbers: frozenset[int] | None) -> None: ...
    def _control(self, att: Any, action: Any) -> None: ...
    def _barrier(self, att: Any) -> None: ...
    def _examine(self, att: Any) -> Any: ...
    def _insert_breakpoint(self, att: Any, address: int, condition: Any, oneshot: bool
                           ) -> Any: ...
    def _remove_breakpoint(self, bp: Any) -> None: ...
    def _insert_watchpoint(self, att: Any, address: int, size: int, access: str) -> Any: ...
    def _remove_watchpoint(self, wp: Any) -> None: ...
    def _start(self, process: Any) -> None: ...
    def _detach_process(self, process: Any) -> None: ...
    def _kill_process(self, process: Any, sig: int) -> None: ...


class EngineSide(Protocol):
    """An engine as the services see it: something that owns breakpoints and has a name."""

    def display_name(self) -> str: ...


class AttachmentSide(Protocol):
    """One engine on one thread, as a Thread holds it."""

    engine: Any
    thread: Any
    data: Any
    events: Event
    detached: bool


class ThreadSide(Protocol):
    """A traced thread as a service sees it."""

    tid: int
    process: Any
    attachments: list[Any]
    steppers: list[Any]
    alive: bool
    arch: Any


class ReportSide(Protocol):
    """A report as a breakpoint condition receives it."""

    event: Event
    thread: Any
    address: int | None


class ProcessSide(Protocol):
    """A traced process as a service's table is keyed by it."""

    pid: int
    threads: dict[int, Any]


class SyscallScopeSide(Protocol):
    """What a thread keeps of the seccomp fast path's view of it (seccomp.SyscallScope)."""

    exit_pending: bool

    def wants_stops(self, watchers: int) -> bool: ...
