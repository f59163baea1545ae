"""An engine that counts system calls by name, as ``strace -c`` does (without times).

Small on purpose: the example for ``engine load`` in the REPL, and a model of
a scripted engine -- one Engine subclass, an ``events`` mask, callbacks that
never block.  ``summary()`` is the table; ``status()`` a one-line total.
"""

from __future__ import annotations

from collections import Counter

from pydbg_utrace import Attachment, Engine, Event, Report


class SyscallCounter(Engine):
    """Counts each system call at its entry, on every thread it is attached to."""

    name = "syscall-count"
    events = Event.SYSCALL_ENTRY

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def report_syscall_entry(self, att: Attachment, report: Report) -> None:
        if not report.resumed:  # an entry shown again after a STOP is the same call
            self.counts[att.thread.arch.syscall_name(report.syscall.nr)] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def status(self) -> str:
        return f"{self.total} system calls, {len(self.counts)} different"

    def summary(self) -> str:
        lines = [f"{'calls':>8}  syscall", f"{'-' * 8}  {'-' * 16}"]
        for name, count in self.counts.most_common():
            lines.append(f"{count:>8}  {name}")
        lines.append(f"{self.total:>8}  total")
        return "\n".join(lines)
