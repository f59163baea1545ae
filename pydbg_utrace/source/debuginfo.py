"""One ELF file's debug information, indexed lazily, cached per file and build-id.

Opening is cheap: the ELF headers and, when asked, ``.debug_aranges``.  A
compile unit is read (its DIEs, its line program) only when an address or a
name leads to it:

- address -> unit through ``.debug_aranges`` (gcc always emits it), falling
  back to the units' own ``DW_AT_ranges``/``low_pc`` read once;
- function or global name -> address through the ELF symbol table -> unit, so
  ``break write`` in libc reads one unit, not 1 700; names the symbol table
  lacks (static functions of a stripped file, types, enumerators, names that
  exist nowhere) go through :mod:`.names`' index: one DIE walk per build-id,
  cached on disk, then only the units that define the name are read.

Addresses here are file addresses (before any load bias), as in the DWARF.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

from elftools.elf.elffile import ELFFile

from .debugfile import build_id, find_debug_file
from .dies import Function, UnitReader, Variable, file_table
from .lines import LineRange, LineRow, LineTable
from .names import NameIndex, index_for
from .symtab import read_symbols
from .types import Type


class DebugInfo:
    """The DWARF of one ELF file (``path``), possibly read from a separate ``debug_path``."""

    def __init__(self, path: str, debug_path: str | None = None):
        self.path = path
        self.debug_path = debug_path
        self._elf_file = open(path, "rb")  # noqa: SIM115 - pyelftools reads it lazily, for life
        self.elf = ELFFile(self._elf_file)
        self.build_id = build_id(self.elf)
        self._debug_elf = None
        if debug_path is not None:
            if os.path.realpath(debug_path) == os.path.realpath(path):
                self._debug_elf = self.elf
            else:
                self._debug_file = open(debug_path, "rb")  # noqa: SIM115
                self._debug_elf = ELFFile(self._debug_file)
        self._dwarf = None
        self._aranges = None
        self._unit_ranges: list[tuple[int, int, int]] | None = None
        self._units: dict[int, UnitReader] = {}
        self._lines: dict[int, LineTable] = {}
        self._functions: dict[int, list[Function]] = {}
        self._globals: dict[int, list[Variable]] = {}
        self._types: dict[int, dict[str, Type]] = {}
        self._symbols: dict[str, int] | None = None
        self._enumerators: dict[int, dict] = {}
        self._index: NameIndex | None = None
        # told the debug file's path before a first index walk (seconds on libc)
        self.announce_indexing: Callable[[str], None] | None = None

    @property
    def debug_elf(self):
        """The ELFFile holding the DWARF (maybe :attr:`elf` itself), or None."""
        return self._debug_elf

    @property
    def has_dwarf(self) -> bool:
        return self._debug_elf is not None

    @property
    def dwarf(self):
        if self._dwarf is None:
            if self._debug_elf is None:
                raise LookupError(f"no debugging symbols found in {self.path}")
            self._dwarf = self._debug_elf.get_dwarf_info(relocate_dwarf_sections=False)
        return self._dwarf

    # -- units ----------------------------------------------------------------------------

    def unit(self, offset: int) -> UnitReader:
        reader = self._units.get(offset)
        if reader is None:
            reader = self._units[offset] = UnitReader(self.dwarf, self.dwarf.get_CU_at(offset))
        return reader

    def unit_at(self, address: int) -> UnitReader | None:
        if not self.has_dwarf:
            return None
        if self._aranges is None:
            self._aranges = self.dwarf.get_aranges() or False
        if self._aranges:
            offset = self._aranges.cu_offset_at_addr(address)
            if offset is not None:
                return self.unit(offset)
        for low, high, offset in self._all_unit_ranges():
            if low <= address < high:
                return self.unit(offset)
        return None

    def _all_unit_ranges(self) -> list[tuple[int, int, int]]:
        """Every unit's ranges from its top DIE: the slow path, read once."""
        if self._unit_ranges is None:
            self._unit_ranges = []
            for cu in self.dwarf.iter_CUs():
                reader = self.unit(cu.cu_offset)
                for low, high in reader.ranges_of(reader.top):
                    self._unit_ranges.append((low, high, cu.cu_offset))
        return self._unit_ranges

    def units(self) -> Iterator[UnitReader]:
        """All units, in order."""
        for cu in self.dwarf.iter_CUs():
            yield self.unit(cu.cu_offset)

    @property
    def index(self) -> NameIndex:
        """Which units define which names (:mod:`.names`), built or loaded on first use."""
        if self._index is None:
            self._index = index_for(build_id(self._debug_elf), self.debug_path or self.path,
                                    self.units, self.announce_indexing)
        return self._index

    def units_defining(self, kind: str, name: str) -> Iterator[UnitReader]:
        """The units that define ``name`` as a ``kind`` of :data:`.names.KINDS`, in order."""
        for offset in self.index.units(kind, name):
            yield self.unit(offset)

    def units_with_file(self, file: str) -> Iterator[UnitReader]:
        """The units whose line programs may name ``file`` (same base name)."""
        return self.units_defining("files", os.path.basename(file))

    # -- lines ----------------------------------------------------------------------------

    def line_table(self, unit: UnitReader) -> LineTable:
        offset = unit.cu.cu_offset
        table = self._lines.get(offset)
        if table is None:
            program = self.dwarf.line_program_for_CU(unit.cu)
            table = self._lines[offset] = LineTable(_rows(program) if program else [])
        return table

    def line_at(self, address: int) -> LineRange | None:
        """``info line *ADDR``: the file, line and extent of the row covering ``address``."""
        unit = self.unit_at(address)
        return self.line_table(unit).find(address) if unit is not None else None

    def line_addresses(self, file: str, line: int) -> tuple[int, list[int]]:
        """``break FILE:LINE``: the line gdb settles on and its breakpoint addresses
        (per function the lowest is_stmt address; a function's first line moves
        past its prologue, as gdb does)."""
        found_line, picked = line, {}
        best = None
        for unit in self.units_with_file(file):
            actual, rows = self.line_table(unit).rows_of_line(file, line)
            if not rows:
                continue
            if best is None or actual < best:
                best, picked = actual, {}
            if actual != best:
                continue
            for row in rows:
                fn = self.function_at(row.address)
                key = fn.low if fn is not None else row.address
                if key not in picked or row.address < picked[key]:
                    picked[key] = row.address
        if best is not None:
            found_line = best
        addresses = []
        for _key, address in sorted(picked.items()):
            fn = self.function_at(address)
            if fn is not None and address == fn.low:
                address = self.after_prologue(fn)
            addresses.append(address)
        return found_line, addresses

    # -- functions, globals, types --------------------------------------------------------

    def functions(self, unit: UnitReader) -> list[Function]:
        offset = unit.cu.cu_offset
        if offset not in self._functions:
            self._functions[offset] = unit.functions()
        return self._functions[offset]

    def function_at(self, address: int) -> Function | None:
        unit = self.unit_at(address)
        if unit is None:
            return None
        # several DIEs may cover one pc (glibc's syscall-template.S has four names
        # for kill): gdb's block search ends on the last one
        covering = [fn for fn in self.functions(unit) if fn.contains(address)]
        return max(reversed(covering), key=lambda fn: fn.low) if covering else None

    def function_named(self, name: str) -> Function | None:
        """The function ``name``: through the symbol table when it knows the name
        (an alias such as libc's ``malloc`` for ``__libc_malloc`` is the function
        at that address, as gdb's ``break malloc``), else by scanning the units'
        top-level DIE names (no functions are built for units that lack it)."""
        address = self.symbol_address(name)
        if address is not None:
            fn = self.function_at(address)
            if fn is not None and (fn.low == address or name in (fn.name, fn.source_name)):
                return fn
        for unit in self.units_defining("functions", name):
            fn = next((f for f in self.functions(unit) if name in (f.name, f.source_name)),
                      None)
            if fn is not None:
                return fn
        return None

    def unit_globals(self, unit: UnitReader) -> list[Variable]:
        offset = unit.cu.cu_offset
        if offset not in self._globals:
            self._globals[offset] = unit.globals()
        return self._globals[offset]

    def global_named(self, name: str, prefer: UnitReader | None = None) -> Variable | None:
        """A file-scope variable: from ``prefer`` (the current unit) first, as gdb's
        static-before-global lookup, then wherever the symbol table puts it."""
        if prefer is not None:
            var = next((v for v in self.unit_globals(prefer) if v.name == name), None)
            if var is not None:
                return var
        address = self.symbol_address(name)
        if address is not None:
            unit = self.unit_at(address)
            if unit is not None:
                var = next((v for v in self.unit_globals(unit) if v.name == name), None)
                if var is not None:
                    return var
        for unit in self.units_defining("variables", name):
            var = next((v for v in self.unit_globals(unit) if v.name == name), None)
            if var is not None:
                return var
        return None

    def type_named(self, name: str, prefer: UnitReader | None = None) -> Type | None:
        """``struct s``, ``union u``, ``enum e``, a typedef or base type name."""
        units = [prefer] if prefer is not None else []
        for unit in itertools.chain(units, self.units_defining("types", name)):
            offset = unit.cu.cu_offset
            if offset not in self._types:
                self._types[offset] = unit.named_types()
            t = self._types[offset].get(name)
            if t is not None and not t.declaration:
                return t
        return None

    def enumerator_named(self, name: str, prefer: UnitReader | None = None):
        """An enumeration constant: ``(enum type, value)`` or None."""
        units = [prefer] if prefer is not None else []
        for unit in itertools.chain(units, self.units_defining("enumerators", name)):
            offset = unit.cu.cu_offset
            if offset not in self._enumerators:
                self._enumerators[offset] = unit.enumerators()
            found = self._enumerators[offset].get(name)
            if found is not None:
                return found
        return None

    def symbol_address(self, name: str) -> int | None:
        """A function's or object's file address from the ELF symbol tables."""
        if self._symbols is None:
            self._symbols = {}
            for elf in (self._debug_elf, self.elf):
                if elf is not None:
                    for sym in read_symbols(elf):
                        self._symbols.setdefault(sym.name, sym.value)
        return self._symbols.get(name)

    # -- prologues ------------------------------------------------------------------------

    def after_prologue(self, fn: Function) -> int:
        """Where ``break FUNCTION`` stops, as gdb's amd64_skip_prologue + skip_prologue_sal.

        On x86_64 gcc's frame setup (``endbr64; push %rbp; mov %rsp,%rbp``) is
        skipped, then the breakpoint moves to the start of the next line-table
        row if that is still in the function; a function without that setup
        (-O2) stops at its first instruction.  Elsewhere: the second row.
        """
        start = fn.low
        unit = self.unit_at(start)
        table = self.line_table(unit) if unit is not None else None
        if self.elf.get_machine_arch() == "x64":
            try:
                code = self.read_file(start, 16)
            except OSError:
                return start
            pc = _amd64_frame_setup_end(code, start)
            if pc == start or table is None:
                return start
            covering = table.find(pc)
            if covering is not None and covering.start != pc and fn.contains(covering.end):
                return covering.end
            return pc
        if table is not None:
            rows = [r for r in table.rows_between(fn.low, fn.high) if r.address > start]
            if rows:
                return rows[0].address
        return start

    def read_file(self, address: int, size: int) -> bytes:
        """The loaded image's bytes at file address ``address``, as the loader maps
        them (``.bss`` reads as zeros); ``OSError`` outside every PT_LOAD."""
        for seg in self.elf.iter_segments():
            if seg["p_type"] != "PT_LOAD":
                continue
            lo = seg["p_vaddr"]
            if lo <= address < lo + seg["p_memsz"]:
                size = min(size, lo + seg["p_memsz"] - address)
                in_file = max(0, min(size, lo + seg["p_filesz"] - address))
                self._elf_file.seek(seg["p_offset"] + address - lo)
                data = self._elf_file.read(in_file) if in_file else b""
                return data + bytes(size - len(data))
        raise OSError(f"Cannot access memory at address {address:#x}")


def _amd64_frame_setup_end(code: bytes, start: int) -> int:
    """gdb's amd64_analyze_prologue: past ``[endbr64] push %rbp [mov %rsp,%rbp]``."""
    at = 4 if code.startswith(b"\xf3\x0f\x1e\xfa") else 0
    if code[at:at + 1] != b"\x55":
        return start
    at += 1
    if code[at:at + 3] in (b"\x48\x89\xe5", b"\x48\x8b\xec"):
        at += 3
    return start + at


def _rows(program) -> list[LineRow]:
    """The line program's rows as gdb records them (``dwarf_record_line_p``): a row
    that repeats the previous row's file and line is dropped once that line has had
    a non-zero discriminator (gdb PR 17276), so ``0x...350 in write`` is mid-line."""
    files = file_table(program)
    rows: list[LineRow] = []
    last: tuple[str, int] | None = None
    discriminated = False
    for entry in program.get_entries():
        state = entry.state
        if state is None:
            continue
        file = files[state.file] if 0 <= state.file < len(files) else "??"
        here = (file, state.line)
        if state.end_sequence:
            rows.append(LineRow(state.address, file, state.line, bool(state.is_stmt), True))
            last, discriminated = None, False
            continue
        has_discriminator = bool(getattr(state, "discriminator", 0))
        if here != last:
            discriminated = has_discriminator
        else:
            discriminated = discriminated or has_discriminator
            if discriminated:
                continue
        rows.append(LineRow(state.address, file, state.line, bool(state.is_stmt), False))
        last = here
    return rows


def open_debug_info(path: str) -> DebugInfo:
    """The :class:`DebugInfo` of ``path``, found as gdb finds it, cached.

    The key is the file's identity (device, inode, mtime, size) and its
    build-id: one library mapped by many processes, or reached by two paths, is
    indexed once; a stripped copy that shares the build-id (``objcopy``) is a
    different file with different sections, so it is not confused with it.
    """
    st = os.stat(path)
    with open(path, "rb") as f:
        ident = build_id(ELFFile(f))
    key = (ident, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
    info = _BY_KEY.get(key)
    if info is None:
        info = _BY_KEY[key] = DebugInfo(path, find_debug_file(path))
    return info


_BY_KEY: dict[tuple, DebugInfo] = {}
