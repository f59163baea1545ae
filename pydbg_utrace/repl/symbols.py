"""Symbols for the REPL's views, on the core's symbol service (:mod:`pydbg_utrace.symbols`).

The core's :class:`~pydbg_utrace.symbols.Symbols` is a snapshot of the
process's maps; the REPL keeps one per process and takes a new one when a
lookup misses and the mapped objects changed (libraries loaded, exec).
Names outside the program read ``libc.so.6:write``, as the core writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydbg_utrace.symbols import MapRow, Symbols, read_maps

__all__ = ["MapRow", "Symbol", "SymbolTable", "maps"]

_DESCRIBED = re.compile(r"^(?P<name>.+?)(?:\+(?P<off>\d+))?$")


def maps(pid: int) -> list[MapRow]:
    """``/proc/PID/maps`` parsed; empty if the process is gone."""
    try:
        return read_maps(pid)
    except ProcessLookupError:
        return []


@dataclass(frozen=True)
class Symbol:
    name: str  # as the core names it: "main", "libc.so.6:write"
    address: int
    size: int


class SymbolTable:
    """Every symbol of one process, by name and by address."""

    def __init__(self, pid: int):
        self.pid = pid
        self._snapshot: Symbols | None = None

    def reload(self) -> None:
        self._snapshot = None

    def _symbols(self) -> Symbols:
        if self._snapshot is None:
            self._snapshot = Symbols(self.pid)
        return self._snapshot

    def _stale(self) -> bool:
        """Whether the mapped objects changed since the snapshot."""
        if self._snapshot is None:
            return False
        now = {row.path for row in maps(self.pid) if row.path.startswith("/")}
        return now != {row.path for row in self._snapshot.mappings()
                       if row.path.startswith("/")}

    def _retry(self, fn):
        found = fn()
        if found is None and self._stale():
            self.reload()
            found = fn()
        return found

    def lookup(self, name: str) -> Symbol | None:
        """``main``, ``libc.so.6:malloc``: its address and size (None if unknown)."""
        return self._retry(lambda: self._lookup(name))

    def _lookup(self, name: str) -> Symbol | None:
        symbols = self._symbols()
        try:
            address = symbols.address_of(name)
        except (KeyError, ProcessLookupError):
            return None
        return Symbol(name, address, self._size(address, name.rpartition(":")[2]))

    def _size(self, address: int, plain: str) -> int:
        for module in self._symbols().modules():
            sym = module.elf.by_name.get(plain)
            if sym is not None and sym.value + module.bias == address:
                return sym.size
        return 0

    def symbolize(self, address: int) -> tuple[Symbol, int] | None:
        """The symbol containing ``address`` and the offset into it."""
        return self._retry(lambda: self._symbolize(address))

    def _symbolize(self, address: int) -> tuple[Symbol, int] | None:
        text = self._symbols().describe(address)
        if text is None:
            return None
        m = _DESCRIBED.match(text)
        offset = int(m["off"]) if m["off"] else 0
        start = address - offset
        return Symbol(m["name"], start, self._size(start, m["name"].rpartition(":")[2])), offset

    def describe(self, address: int) -> str:
        """``<name+off>`` or the empty string."""
        text = self._retry(lambda: self._symbols().describe(address))
        return f"<{text}>" if text else ""

    def names(self) -> list[str]:
        out = []
        for module in self._symbols().modules():
            out.extend(module.elf.by_name)
        return out
