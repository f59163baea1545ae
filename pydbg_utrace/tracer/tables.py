"""The tracer thread's tables: every thread and process it traces, and stops put aside.

Owned by the tracer thread alone (docs/architecture.md, "Who owns what"):
other Python threads see them only through the snapshots the facade hands
out (``Tracer.processes``, ``Tracer.thread``).  Plain data, no ptrace.
"""

from __future__ import annotations

import collections

from ..process import Process, State, Thread


class Tables:
    """Who is traced, and the statuses waiting for the loop."""

    def __init__(self) -> None:
        self.threads: dict[int, Thread] = {}
        self.processes: dict[int, Process] = {}
        self.let_go_children: dict[int, Process] = {}  # detached, still our children
        # Stops collected while holding threads for a step-over, handled next
        # by the main loop (never recursively: one step-over can cause another).
        self.deferred: collections.deque[tuple[int, int]] = collections.deque()
        # Statuses of threads not known (or not waited for) when they came in
        # such a wait: handled by the loop as if it had just waited for them.
        self.strays: collections.deque[tuple[int, int]] = collections.deque()

    def process_list(self) -> list[Process]:
        return list(self.processes.values())

    def defer(self, thread: Thread, status: int) -> None:
        """Handle this stop from the main loop (it stays HELD until then)."""
        thread.state = State.HELD
        self.deferred.append((thread.tid, status))

    def take_deferred(self, thread: Thread) -> int:
        for entry in self.deferred:
            if entry[0] == thread.tid:
                self.deferred.remove(entry)
                return entry[1]
        raise AssertionError(f"held thread {thread.tid} has no deferred stop")

    def take_stray(self, tid: int) -> bool:
        """Take a status of ``tid`` set aside as a stray; was there one?"""
        for entry in self.strays:
            if entry[0] == tid:
                self.strays.remove(entry)
                return True
        return False


class Reporting:
    """The thread whose report is being dispatched (None between reports).

    A control() from one of its callbacks is combined with the report, not
    carried out in the middle of it: the resumer leaves that thread alone
    until the report's end (utrace's rule; issue 12's re-entrancy bug).
    Written by the reporter and the fast lane, read by the resumer.
    """

    __slots__ = ("thread",)

    def __init__(self) -> None:
        self.thread: Thread | None = None
