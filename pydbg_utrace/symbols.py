"""Symbols of a live process: ELF symbol tables placed where ``/proc/PID/maps`` says.

Every ELF file mapped into the process (the program and each shared library)
contributes its ``.symtab`` and ``.dynsym`` functions and objects, shifted by
its *load bias*: where the kernel or the dynamic linker put the file's first
``PT_LOAD`` segment minus that segment's ``p_vaddr`` (page-aligned).  A PIE
program or a library gets a random bias under ASLR; a non-PIE program has 0.

The parser is pyelftools: pure Python, well kept, reads both symbol tables
of either byte order (ppc64 big-endian, s390x) without a C toolchain.  Each
file is parsed once per process lifetime of this module (cached by device,
inode and mtime), so rebuilding a :class:`Symbols` is cheap.

A :class:`Symbols` is a snapshot: after an ``exec`` (``report_exec``) or a
``dlopen`` the caller builds a new one.
"""

from __future__ import annotations

import bisect
import difflib
import mmap
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

_KINDS = ("STT_FUNC", "STT_OBJECT", "STT_GNU_IFUNC")
_BIND_RANK = {"STB_GLOBAL": 0, "STB_WEAK": 1, "STB_GNU_UNIQUE": 1, "STB_LOCAL": 2}
_LOCATION = re.compile(
    r"^(?:(?P<lib>[^:\s+]+):)?(?P<name>[A-Za-z_.$][\w.$@]*)"
    r"(?:\s*\+\s*(?P<off>0[xX][0-9a-fA-F]+|\d+))?$")
_NUMBER = re.compile(r"^(?:0[xX][0-9a-fA-F]+|\d+)$")
_MAX_SPAN = 1 << 24  # no symbol is larger: a describe() scans no further back


@dataclass(frozen=True, slots=True)
class MapRow:
    """One line of ``/proc/PID/maps``."""

    start: int
    end: int
    perms: str
    offset: int
    inode: int
    path: str


@dataclass(frozen=True, slots=True)
class Symbol:
    """A symbol of one ELF file; ``value`` is its address in the file (unbiased)."""

    name: str
    value: int
    size: int
    bind: str


@dataclass(frozen=True, slots=True)
class ElfSymbols:
    """What one ELF file says: its first PT_LOAD and its symbols, parsed once."""

    load_vaddr: int  # p_vaddr of the first PT_LOAD
    load_offset: int  # its p_offset
    by_value: tuple[Symbol, ...]  # sorted by value, best name first at equal values
    by_name: dict[str, Symbol]  # the best symbol of each name


@dataclass(frozen=True, slots=True)
class Module:
    """One mapped ELF file: where it is and how far it moved."""

    path: str
    bias: int
    ranges: tuple[tuple[int, int], ...]  # mapped [start, end) address ranges
    elf: ElfSymbols

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def contains(self, address: int) -> bool:
        return any(start <= address < end for start, end in self.ranges)


def proc_dir(pid: int) -> str:
    """``/proc/PID``, or a live thread's ``/proc/PID/task/TID`` when the leader is a zombie.

    A leader that called ``pthread_exit`` while other threads run on has lost
    its address space: its ``maps`` is empty and its ``exe`` unreadable, but
    every other thread's are the process's.
    """
    base = f"/proc/{pid}"
    if _has_maps(base):
        return base
    try:
        tids = sorted(int(name) for name in os.listdir(f"{base}/task"))
    except OSError:
        return base
    for tid in tids:
        if tid != pid and _has_maps(f"{base}/task/{tid}"):
            return f"{base}/task/{tid}"
    return base


def _has_maps(directory: str) -> bool:
    try:
        with open(f"{directory}/maps") as maps:
            return bool(maps.read(1))
    except OSError:
        return False


def read_maps(pid: int) -> list[MapRow]:
    """``/proc/PID/maps`` parsed (``ProcessLookupError`` if the process is gone)."""
    try:
        with open(f"{proc_dir(pid)}/maps") as maps:
            lines = maps.readlines()
    except FileNotFoundError:
        raise ProcessLookupError(f"no such process {pid} (/proc/{pid}/maps missing)") from None
    return [_parse_map_line(line) for line in lines if line.strip()]


def _parse_map_line(line: str) -> MapRow:
    parts = line.split(maxsplit=5)
    start, end = (int(x, 16) for x in parts[0].split("-"))
    path = parts[5].rstrip("\n") if len(parts) > 5 else ""
    return MapRow(start, end, parts[1], int(parts[2], 16), int(parts[4]), path)


def _rank(sym: Symbol) -> tuple[int, int, int, str]:
    """Which of several names for one address to show: exported, plain, short."""
    stripped = sym.name.lstrip("_")
    return (_BIND_RANK.get(sym.bind, 3), len(sym.name) - len(stripped), len(sym.name), sym.name)


@lru_cache(maxsize=128)
def _parse_elf(path: str, _identity: tuple[int, int, int]) -> ElfSymbols | None:
    """Parse ``path`` once per (device, inode, mtime); None if it is not a usable ELF."""
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            loads = [seg for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
            if not loads:
                return None
            symbols = _elf_symbols(elf)
            first = loads[0]
            vaddr, offset = first["p_vaddr"], first["p_offset"]
    except (OSError, ELFError):
        return None
    symbols.sort(key=lambda s: (s.value, _rank(s)))
    by_name: dict[str, Symbol] = {}
    for sym in symbols:
        best = by_name.get(sym.name)
        if best is None or _rank(sym) < _rank(best):
            by_name[sym.name] = sym
    return ElfSymbols(vaddr, offset, tuple(symbols), by_name)


def _elf_symbols(elf: ELFFile) -> list[Symbol]:
    seen: set[tuple[str, int]] = set()
    out: list[Symbol] = []
    for section_name in (".symtab", ".dynsym"):
        table = elf.get_section_by_name(section_name)
        if table is None:
            continue
        for sym in table.iter_symbols():
            info = sym["st_info"]
            if (not sym.name or info["type"] not in _KINDS or sym["st_shndx"] == "SHN_UNDEF"
                    or (sym.name, sym["st_value"]) in seen):
                continue
            seen.add((sym.name, sym["st_value"]))
            out.append(Symbol(sym.name, sym["st_value"], sym["st_size"], info["bind"]))
    return out


def _load_elf(path: str, pid: int, row: MapRow) -> ElfSymbols | None:
    for candidate in (path, f"{proc_dir(pid)}/map_files/{row.start:x}-{row.end:x}"):
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        return _parse_elf(candidate, (st.st_dev, st.st_ino, st.st_mtime_ns))
    return None


def _modules(pid: int, rows: list[MapRow], exe: str) -> list[Module]:
    """Each mapped ELF file with its bias, in maps order (the program first)."""
    by_path: dict[str, list[MapRow]] = {}
    for row in rows:
        if row.path.startswith("/") and row.inode:
            by_path.setdefault(row.path, []).append(row)
    paths = sorted(by_path, key=lambda p: p != exe)  # stable: the program, then maps order
    modules = []
    for path in paths:
        file_rows = by_path[path]
        elf = _load_elf(path, pid, file_rows[0])
        bias = None if elf is None else _bias(elf, file_rows)
        if elf is not None and bias is not None:
            ranges = tuple((r.start, r.end) for r in file_rows)
            modules.append(Module(path, bias, ranges, elf))
    return modules


def _bias(elf: ElfSymbols, rows: list[MapRow]) -> int | None:
    """Load bias: the mapping of the first PT_LOAD minus its page-aligned p_vaddr.

    The loader maps that segment at ``pagedown(p_vaddr) + bias`` from file
    offset ``p_offset - (p_vaddr % page)``: find that row, and subtract.
    """
    page = mmap.PAGESIZE
    in_page = elf.load_vaddr % page
    offset = elf.load_offset - in_page
    for row in rows:
        if row.offset == offset:
            return row.start - (elf.load_vaddr - in_page)
    return None  # the file is mapped, but not as a program (e.g. read as data)


def _exe_path(pid: int) -> str:
    try:
        return os.readlink(f"{proc_dir(pid)}/exe").removesuffix(" (deleted)")
    except OSError:
        return ""


class Symbols:
    """Every symbol of one process, placed at its run-time address.

    A snapshot of ``/proc/PID/maps`` taken at construction: rebuild it after
    an exec or a ``dlopen`` (files already seen are not parsed again).
    """

    def __init__(self, pid: int):
        self.pid = pid
        self._rows = read_maps(pid)
        self._exe = _exe_path(pid)
        self._modules = _modules(pid, self._rows, self._exe)

    # -- what is mapped ------------------------------------------------------------
    def mappings(self) -> list[MapRow]:
        """The parsed rows of ``/proc/PID/maps`` as they were at construction."""
        return list(self._rows)

    def modules(self) -> list[Module]:
        """Each mapped ELF file with its load bias, the program first."""
        return list(self._modules)

    def libraries(self) -> list[str]:
        """Paths of the mapped shared objects (every ELF file but the program)."""
        return [m.path for m in self._modules if m.path != self._exe]

    # -- names to addresses -------------------------------------------------------------
    def address_of(self, name: str) -> int:
        """Run-time address of ``name`` or ``LIB:name`` (``libc.so.6:malloc``).

        A plain name is searched in the program first, then the libraries in
        maps order, an exported (global or weak) definition before a local one.
        KeyError, naming near matches, when nothing has it.
        """
        lib, _, plain = name.rpartition(":")
        modules = self._modules_named(lib) if lib else self._modules
        for exported in (True, False):
            for module in modules:
                sym = module.elf.by_name.get(plain)
                if sym is not None and (sym.bind != "STB_LOCAL") == exported:
                    return sym.value + module.bias
        raise KeyError(self._unknown(plain, lib, modules))

    def resolve(self, location: str) -> int:
        """An address from ``0x401000``, ``main``, ``main+12`` or ``libc.so.6:malloc+4``.

        ValueError with a one-line reason for anything else (KeyError's
        message for an unknown symbol).
        """
        text = location.strip()
        if _NUMBER.match(text):
            return int(text, 0)
        match = _LOCATION.match(text)
        if match is None:
            raise ValueError(f"bad location {location!r}: expected an address (0x401000), "
                             "a symbol (main), symbol+offset (main+12) or LIB:symbol")
        name = match["name"] if match["lib"] is None else f"{match['lib']}:{match['name']}"
        try:
            address = self.address_of(name)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        return address + (int(match["off"], 0) if match["off"] else 0)

    # -- addresses to names --------------------------------------------------------------
    def describe(self, address: int) -> str | None:
        """``main+12``, ``libc.so.6:malloc+4``; None outside every symbol."""
        for module in self._modules:
            if module.contains(address):
                found = _containing(module.elf, address - module.bias)
                if found is None:
                    return None
                sym, offset = found
                text = sym.name if module.path == self._exe else f"{module.name}:{sym.name}"
                return f"{text}+{offset}" if offset else text
        return None

    # -- helpers -----------------------------------------------------------------------
    def _modules_named(self, lib: str) -> list[Module]:
        exact = [m for m in self._modules if m.name == lib or m.path == lib]
        if exact:
            return exact
        prefixed = [m for m in self._modules if m.name.startswith((lib + ".", lib + "-"))]
        if prefixed:
            return prefixed
        names = ", ".join(m.name for m in self._modules)
        raise KeyError(f"no mapped object {lib!r} in process {self.pid} (mapped: {names})")

    def _unknown(self, name: str, lib: str, modules: list[Module]) -> str:
        names = {n for m in modules for n in m.elf.by_name}
        near = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
        where = f"{lib}" if lib else f"process {self.pid}"
        hint = f"; did you mean {', '.join(sorted(near))}?" if near else ""
        return f"no symbol {name!r} in {where}{hint}"


def _containing(elf: ElfSymbols, value: int) -> tuple[Symbol, int] | None:
    """The symbol starting nearest below ``value`` whose extent holds it, and the offset."""
    symbols = elf.by_value
    i = bisect.bisect_right(symbols, value, key=lambda s: s.value) - 1
    best: Symbol | None = None
    while i >= 0:
        sym = symbols[i]
        if best is not None and sym.value < best.value:
            break
        if sym.value <= value < sym.value + max(sym.size, 1):
            if best is None or _rank(sym) < _rank(best):
                best = sym
        elif best is None and value - sym.value > _MAX_SPAN:
            break
        i -= 1
    return None if best is None else (best, value - best.value)
