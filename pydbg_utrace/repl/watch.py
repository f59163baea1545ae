"""Watchpoints: the core's hardware ones where it can, else single-step and compare.

On x86_64 the core lends debug registers (``insert_watchpoint``, four per
process): the program runs at full speed and a write is reported as a
breakpoint hit.  Where that is impossible (another arch, no free register, a
size or alignment the hardware refuses) ``watch`` falls back to what gdb calls
a software watchpoint: the REPL engine steps the selected thread and compares
the watched bytes after every instruction -- slow but exact for that thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydbg_utrace import kernel


@dataclass
class Watch:
    number: int
    expression: str
    address: int
    size: int
    old: bytes
    byteorder: str
    enabled: bool = True
    hits: int = 0
    hardware: Any = None  # the core's Watchpoint while a debug register watches it
    access: str = "w"  # "w": watch; "r": rwatch; "rw": awatch (debug registers only)

    @property
    def kind(self) -> str:
        """gdb's name for it: ``Hardware read watchpoint`` for rwatch..."""
        if self.access == "r":
            return "Hardware read watchpoint"
        if self.access == "rw":
            return "Hardware access (read/write) watchpoint"
        return "Hardware watchpoint" if self.hardware is not None else "Watchpoint"

    def accessed(self, now: bytes) -> str | None:
        """An rwatch/awatch hit (the value is re-read now): what gdb says, or None for
        an rwatch hit that changed the value (x86 cannot watch reads alone: that
        was a write, which gdb does not report either)."""
        old, self.old = self.old, now
        if old != now and self.access == "r":
            return None
        self.hits += 1
        head = f"{self.kind} {self.number}: {self.expression}\n\n"
        if old != now:
            return head + f"Old value = {_show(self, old)}\nNew value = {_show(self, now)}"
        return head + f"Value = {_show(self, now)}"

    def change(self, now: bytes) -> str | None:
        """The report of a change to ``now`` (None if it did not change); remembers it."""
        if now == self.old:
            return None
        old, self.old = self.old, now
        self.hits += 1
        return (f"{'Hardware w' if self.hardware is not None else 'W'}atchpoint "
                f"{self.number}: {self.expression}\n\n"
                f"Old value = {_show(self, old)}\nNew value = {_show(self, now)}")

    def value(self, data: bytes) -> int:
        return int.from_bytes(data, self.byteorder)


def checker(pid: int, watches: list[Watch]) -> Callable[[], str | None] | None:
    """A function for the tracer thread: what changed since the last look, or None."""
    if not watches:
        return None

    def check() -> str | None:
        for watch in watches:
            try:
                now = kernel.read_memory(pid, watch.address, watch.size)
            except kernel.KernelError:
                continue
            changed = watch.change(now)
            if changed is not None:
                return changed
        return None

    return check


def _show(watch: Watch, data: bytes) -> str:
    if len(data) != watch.size:
        return "<unreadable>"
    value = watch.value(data)
    return f"{value} ({value:#x})"
