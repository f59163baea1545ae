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
                name_at, info, _other, shndx, value, size = fields
            else:
                name_at, value, size, info, _other, shndx = fields
            kind, bind = info & 0xF, info >> 4
            if kind not in (STT_FUNC, STT_OBJECT, STT_GNU_IFUNC) or shndx == SHN_UNDEF:
                continue
            end = strings.index(b"\0", name_at)
            text = strings[name_at:end].decode(errors="replace")
            if text:
                out.append(ElfSymbol(text.split("@")[0], value, size, kind, bind))
    return out
