"""Software watchpoints: single-step and compare, as gdb does without debug registers.

The arch layer offers no hardware watchpoints (x86 debug registers and their
peers are not part of it), so ``watch`` makes the REPL engine step the
selected thread and compare the watched bytes after every instruction --
slow (one ptrace stop per instruction) but exact for that thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
            if now != watch.old:
                old, watch.old = watch.old, now
                watch.hits += 1
                return (f"Watchpoint {watch.number}: {watch.expression}\n\n"
                        f"Old value = {_show(watch, old)}\nNew value = {_show(watch, now)}")
        return None

    return check


def _show(watch: Watch, data: bytes) -> str:
    if len(data) != watch.size:
        return "<unreadable>"
    value = watch.value(data)
    return f"{value} ({value:#x})"
