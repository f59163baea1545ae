"""The seams between the core's layers, as typing Protocols (no code runs here).

The API objects (:mod:`engine`, :mod:`process`) and the services
(:mod:`breakpoints`, :mod:`watchpoints`) name the tracer, engines and
attachments in their type hints.  Importing those classes for the hints --
even under ``TYPE_CHECKING`` -- made one import cycle of the core's big
modules (issue 12).  They name these Protocols instead, which sit at the
bottom layer and import nothing of ours but the vocabulary: each says what
the lower layer actually uses of the higher one (docs/architecture.md).

:class:`TracerSide` and :class:`ProcessHandle` are the two handles the
API objects hold instead of the tracer: what each asks of it, by public
names (``tracer/facade.py``'s ``ApiSide`` implements both, handing each
request to one of the tracer's parts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .events import Event


class TracerSide(Protocol):
    """What the engine API's objects (Attachment, Report) ask of the tracer.

    Every method may be called from any thread and is carried out by the
    tracer thread, between two callbacks (:meth:`call`), except
    ``registers`` and ``set_syscall_result``: a report's, called from its
    callback (on the tracer thread).
    """

    def call(self, fn: Callable[..., Any], *args: Any) -> Any: ...
    def registers(self, thread: Any) -> Any: ...
    def set_syscall_result(self, thread: Any, value: int, err: int | None) -> None: ...
    def set_events(self, att: Any, events: Event) -> None: ...
    def set_syscall_filter(self, att: Any, numbers: frozenset[int] | None) -> None: ...
    def control(self, att: Any, action: Any) -> None: ...
    def barrier(self, att: Any) -> None: ...
    def examine(self, att: Any) -> Any: ...
    def insert_breakpoint(self, att: Any, address: int, condition: Any, oneshot: bool
                          ) -> Any: ...
    def remove_breakpoint(self, bp: Any) -> None: ...
    def insert_watchpoint(self, att: Any, address: int, size: int, access: str) -> Any: ...
    def remove_watchpoint(self, wp: Any) -> None: ...


class ProcessHandle(Protocol):
    """What a Thread and a Process ask of the tracer for their public methods.

    A narrow handle, not the tracer: ``Thread.attach``, ``Process.start``,
    ``wait``, ``detach``, ``kill`` and the owner of the process's memory
    (``call``, see ``AddressSpace``).  Any thread may call them.
    """

    def call(self, fn: Callable[..., Any], *args: Any) -> Any: ...
    def attach(self, thread: Any, engine: Any, flags: Any, data: Any) -> Any: ...
    def start(self, process: Any) -> None: ...
    def detach_process(self, process: Any) -> None: ...
    def kill_process(self, process: Any, sig: int) -> None: ...
    def gone_error(self) -> RuntimeError | None:
        """None while the tracer thread runs; once it is gone, the error to raise."""


class ApiSide(TracerSide, ProcessHandle, Protocol):
    """Both handles in one: what the tracer's parts hand to the API objects they build."""


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
    memory: Any  # its AddressSpace
    arch: Any
    settle: Callable[[int], None] | None  # a service's ear for settled(tid)

    def memory_lent(self) -> bool: ...
    def unsettled(self) -> list[int]: ...
    def gone_in_kernel(self) -> bool: ...


class SyscallScopeSide(Protocol):
    """What a thread keeps of the seccomp fast path's view of it (seccomp.SyscallScope)."""

    exit_pending: bool

    def wants_stops(self, watchers: int) -> bool: ...
