"""Symbols of a live process for people: ELF symbol tables placed by /proc/PID/maps.

The core has no symbol service yet, so the REPL keeps this small one: each
mapped ELF file's ``.symtab`` (or ``.dynsym``) shifted by its load bias (PIE
and shared libraries), looked up both ways.  Maps are re-read when a lookup
misses, because a program maps libraries as it runs.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    perms: str
    offset: int
    path: str

    @property
    def executable(self) -> bool:
        return "x" in self.perms


def read_maps(pid: int) -> list[Mapping]:
    """``/proc/PID/maps`` parsed (empty if the process is gone)."""
    out = []
    try:
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                parts = line.split(maxsplit=5)
                start, end = (int(x, 16) for x in parts[0].split("-"))
                path = parts[5].strip() if len(parts) > 5 else ""
                out.append(Mapping(start, end, parts[1], int(parts[2], 16), path))
    except OSError:
        pass
    return out


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int
    size: int
    path: str


@lru_cache(maxsize=64)
def _file_symbols(path: str, mtime: float) -> tuple[tuple[str, int, int], ...]:
    """``(name, value, size)`` of the functions and objects in one ELF file."""
    del mtime  # part of the cache key only: a rebuilt file is read again
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            table = elf.get_section_by_name(".symtab") or elf.get_section_by_name(".dynsym")
            if table is None:
                return ()
            return tuple(
                (sym.name, sym["st_value"], sym["st_size"]) for sym in table.iter_symbols()
                if sym.name and sym["st_value"]
                and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT", "STT_GNU_IFUNC"))
    except (OSError, ELFError):
        return ()


@lru_cache(maxsize=64)
def _first_load_vaddr(path: str, mtime: float) -> int | None:
    del mtime
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf["e_type"] != "ET_DYN":
                return None  # fixed addresses: no bias
            loads = [seg["p_vaddr"] - seg["p_offset"] for seg in elf.iter_segments()
                     if seg["p_type"] == "PT_LOAD"]
            return min(loads) if loads else 0
    except (OSError, ELFError):
        return None


class SymbolTable:
    """Every symbol of one process, by name and by address."""

    def __init__(self, pid: int):
        self.pid = pid
        self._by_name: dict[str, Symbol] = {}
        self._sorted: list[Symbol] = []
        self._keys: list[int] = []
        self._loaded = False
        self._objects_seen: list[tuple[str, int]] = []

    def reload(self) -> None:
        symbols: list[Symbol] = []
        self._objects_seen = self._objects()
        for path, bias in self._objects_seen:
            mtime = _mtime(path)
            for name, value, size in _file_symbols(path, mtime):
                symbols.append(Symbol(name, value + bias, size, path))
        self._sorted = sorted(symbols, key=lambda s: s.address)
        self._keys = [s.address for s in self._sorted]
        self._by_name = {}
        for sym in reversed(symbols):  # the executable's name wins over a library's
            self._by_name[sym.name] = sym
        self._loaded = True

    def _objects(self) -> list[tuple[str, int]]:
        """(path, load bias) of each mapped ELF file, the executable first."""
        seen: dict[str, int] = {}
        for m in read_maps(self.pid):
            if not m.path.startswith("/") or m.path in seen or m.offset != 0:
                continue
            vaddr = _first_load_vaddr(m.path, _mtime(m.path))
            seen[m.path] = 0 if vaddr is None else m.start - vaddr
        return list(seen.items())

    def lookup(self, name: str) -> Symbol | None:
        if not self._loaded or name not in self._by_name:
            self.reload()
        return self._by_name.get(name)

    def symbolize(self, address: int) -> tuple[Symbol, int] | None:
        """The symbol containing ``address`` and the offset into it."""
        if not self._loaded:
            self.reload()
        found = self._containing(address)
        if found is None and self._objects() != self._objects_seen:
            self.reload()  # a library was mapped (or unmapped) since we looked
            found = self._containing(address)
        return found

    def _containing(self, address: int) -> tuple[Symbol, int] | None:
        i = bisect.bisect_right(self._keys, address) - 1
        while i >= 0:
            sym = self._sorted[i]
            if address < sym.address + max(sym.size, 1):
                return sym, address - sym.address
            if sym.size:  # a sized symbol that ends before: nothing contains it
                return None
            i -= 1
        return None

    def describe(self, address: int) -> str:
        """``<name+off>`` or the empty string."""
        found = self.symbolize(address)
        if found is None:
            return ""
        sym, off = found
        return f"<{sym.name}+{off}>" if off else f"<{sym.name}>"

    def names(self) -> list[str]:
        if not self._loaded:
            self.reload()
        return list(self._by_name)


def _mtime(path: str) -> float:
    import os

    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
