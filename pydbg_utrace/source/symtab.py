"""ELF symbol tables read in one pass of ``struct``: names, values, sizes.

pyelftools builds an object per symbol (libc's 3 000 ``.dynsym`` entries and
its debug file's 10 000 ``.symtab`` ones take seconds on a loaded machine);
the fixed ``Elf32_Sym``/``Elf64_Sym`` layout reads in milliseconds.  Only
defined functions and objects are kept: what ``break NAME`` and ``<sym+off>``
need.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

STT_OBJECT, STT_FUNC, STT_GNU_IFUNC = 1, 2, 10
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
SHN_UNDEF = 0


@dataclass(frozen=True, slots=True)
class ElfSymbol:
    name: str
    value: int
    size: int
    kind: int  # STT_*
    bind: int  # STB_*
    other: int = 0  # st_other: visibility, and ppc64 ELFv2's local entry point


def read_symbols(elf, section_names=(".symtab", ".dynsym")) -> list[ElfSymbol]:
    """The defined function and object symbols of ``elf`` (a pyelftools ELFFile)."""
    out: list[ElfSymbol] = []
    order = "<" if elf.little_endian else ">"
    layout = order + ("IBBHQQ" if elf.elfclass == 64 else "IIIBBH")
    for name in section_names:
        section = elf.get_section_by_name(name)
        if section is None or section["sh_type"] not in ("SHT_SYMTAB", "SHT_DYNSYM"):
            continue
        strings = elf.get_section(section["sh_link"]).data()
        for fields in struct.iter_unpack(layout, section.data()):
            if elf.elfclass == 64:
                name_at, info, other, shndx, value, size = fields
            else:
                name_at, value, size, info, other, shndx = fields
            kind, bind = info & 0xF, info >> 4
            if kind not in (STT_FUNC, STT_OBJECT, STT_GNU_IFUNC) or shndx == SHN_UNDEF:
                continue
            end = strings.index(b"\0", name_at)
            text = strings[name_at:end].decode(errors="replace")
            if text:
                out.append(ElfSymbol(text.split("@")[0], value, size, kind, bind, other))
    return out


EM_PPC64 = 21


def local_entry_offset(elf, symbol: ElfSymbol) -> int:
    """How far past its symbol value a direct call enters a function.

    ppc64 ELFv2: a function that sets up its TOC pointer has a global entry
    (the symbol's value, for calls through a pointer or the PLT) and a local
    entry past those instructions, where direct calls land; st_other's bits
    5-7 say how far (``PPC64_LOCAL_ENTRY_OFFSET`` in binutils' elf/ppc64.h).
    Zero elsewhere.
    """
    if elf["e_machine"] != "EM_PPC64" or elf["e_flags"] & 3 != 2:
        return 0
    code = (symbol.other & 0xE0) >> 5
    return ((1 << code) >> 2) << 2


def function_entry(elf, name: str) -> int | None:
    """Where ``break NAME`` stops in a function without line info: its symbol's
    value, past the global entry on ppc64 ELFv2 (as gdb's
    ppc_elfv2_skip_entrypoint), so that direct calls stop too."""
    for symbol in read_symbols(elf):
        if symbol.name == name and symbol.kind in (STT_FUNC, STT_GNU_IFUNC):
            return symbol.value + local_entry_offset(elf, symbol)
    return None
