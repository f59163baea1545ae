"""The hooks services hang on the tracer (tracehook's idea, DESIGN.md layer 5).

A *service* shared by engines (software breakpoints, hardware watchpoints)
keeps its own tables and hears of the moments that concern it through the
methods of :class:`Service`; the tracer calls them through :class:`Hooks`
and never names a service.  Every hook runs on the tracer thread, with the
thread concerned in a ptrace stop unless said otherwise.  A service reaches
back into the tracer only through the :class:`ServicePort` it is built
with.  The default of every hook is to do nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class ServicePort(Protocol):
    """What a service may ask of the tracer."""

    def process_of(self, pid: int) -> Any:
        """The traced process ``pid`` (None if it is not, or no longer, traced)."""

    def with_threads_stopped(self, process: Any, fn: Callable[[int], None]) -> None:
        """Call ``fn(tid)`` for every thread of ``process`` in a stop, the running ones
        held meanwhile (interrupted, then let go on as they were)."""

    def report_hit(self, thread: Any, owners: Sequence[Any], address: int,
                   watchpoint: Any = None) -> None:
        """Report a BREAKPOINT event at ``address`` to ``owners`` (attachments)."""

    def condition_report(self, thread: Any, address: int) -> Any:
        """A BREAKPOINT report of ``thread`` at ``address`` for a breakpoint's condition
        to look at (not dispatched: the condition decides who is told)."""

    def registers(self, thread: Any) -> Any:
        """The stopped thread's registers (read once per stop; what is changed in
        them is written back when it resumes)."""

    def owe_step_over(self, thread: Any, address: int) -> None:
        """``thread`` stopped on a trap of the service's at ``address``, its PC rewound
        there: the resume must run the original instruction (the tracer's step-over,
        with the other threads held), not the trap again."""


class Service:
    """A service's hooks; override the ones it needs."""

    def new_thread(self, thread: Any) -> None:
        """A thread is at its first stop, about to run (its per-thread state goes in)."""

    def cloned(self, parent: Any, child: Any, kind: str) -> None:
        """``parent``'s report_clone has run; ``child`` (kind fork/vfork/clone/thread)
        is traced and attached as its engines chose, still held."""

    def vfork_started(self, parent: Any) -> None:
        """A vfork child borrows ``parent``'s memory until it execs or exits (at the
        VFORK event stop, before report_clone)."""

    def vfork_done(self, thread: Any) -> None:
        """``thread`` left its vfork wait: its memory is its own again."""

    def exec(self, process: Any) -> None:
        """``process`` has a new program: the old address space and registers are gone."""

    def trap(self, thread: Any, info: Any) -> bool:
        """A SIGTRAP stop (``info``: its siginfo; None: the end of a step over one of
        our traps).  Report to the engines what is yours; True if the stop was yours
        (then the tracer resumes the thread, or reports the end of its step)."""
        return False

    def engine_left(self, att: Any, last_in_process: bool) -> None:
        """``att`` is detached from a live traced process; ``last_in_process``: its
        engine has no attachment left in that process."""

    def detach(self, thread: Any) -> None:
        """``thread`` is about to be let go (PTRACE_DETACH): undo what is yours in it."""


class Hooks:
    """The tracer's side: every hook, fanned out to the services in their order."""

    def __init__(self, services: Sequence[Service] = ()) -> None:
        self.services = tuple(services)

    def new_thread(self, thread: Any) -> None:
        for service in self.services:
            service.new_thread(thread)

    def cloned(self, parent: Any, child: Any, kind: str) -> None:
        for service in self.services:
            service.cloned(parent, child, kind)

    def vfork_started(self, parent: Any) -> None:
        for service in self.services:
            service.vfork_started(parent)

    def vfork_done(self, thread: Any) -> None:
        for service in self.services:
            service.vfork_done(thread)

    def exec(self, process: Any) -> None:
        for service in self.services:
            service.exec(process)

    def trap(self, thread: Any, info: Any) -> bool:
        claimed = False
        for service in self.services:  # (each is told: a stop may concern several)
            claimed = service.trap(thread, info) or claimed
        return claimed

    def engine_left(self, att: Any, last_in_process: bool) -> None:
        for service in self.services:
            service.engine_left(att, last_in_process)

    def detach(self, thread: Any) -> None:
        for service in self.services:
            service.detach(thread)
