"""Where an ELF file's DWARF lives: in the file, or in a separate debug file.

gdb's search order (``info sources`` / "Reading symbols from ..."), which we copy:

1. the file itself, if it has a ``.debug_info`` section;
2. ``/usr/lib/debug/.build-id/xx/yyyy.debug`` named by the file's GNU build-id
   (``NT_GNU_BUILD_ID``; Debian's ``-dbg``/``-dbgsym`` packages install there);
3. the name in ``.gnu_debuglink``, looked up beside the file, in its ``.debug/``
   directory and under ``/usr/lib/debug`` + the file's directory, accepted only
   if its CRC32 matches the one the link records.

Only a file that really carries ``.debug_info`` is returned: a stripped debug
file (``.debug`` with only symbols) is no debug info.
"""

from __future__ import annotations

import os
import zlib

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

DEBUG_ROOT = "/usr/lib/debug"


def build_id(elf: ELFFile) -> str | None:
    """The GNU build-id as lowercase hex, or None."""
    for section in elf.iter_sections():
        if section["sh_type"] != "SHT_NOTE":
            continue
        for note in section.iter_notes():
            if note["n_type"] == "NT_GNU_BUILD_ID":
                return note["n_desc"]
    return None


def debuglink(elf: ELFFile) -> tuple[str, int] | None:
    """``.gnu_debuglink``: the debug file's name and the CRC32 it must have."""
    section = elf.get_section_by_name(".gnu_debuglink")
    if section is None:
        return None
    data = section.data()
    name = data[:data.index(b"\0")].decode()
    crc_at = (data.index(b"\0") + 4) & ~3  # the CRC is 4-byte aligned after the name
    crc = int.from_bytes(data[crc_at:crc_at + 4], "little" if elf.little_endian else "big")
    return name, crc


def has_debug_info(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return ELFFile(f).get_section_by_name(".debug_info") is not None
    except (OSError, ELFError):
        return False


def find_debug_file(path: str, root: str = DEBUG_ROOT) -> str | None:
    """The file holding ``path``'s DWARF (maybe ``path`` itself), or None."""
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf.get_section_by_name(".debug_info") is not None:
                return path
            ident = build_id(elf)
            link = debuglink(elf)
    except (OSError, ELFError):
        return None
    if ident is not None and len(ident) > 2:
        candidate = os.path.join(root, ".build-id", ident[:2], ident[2:] + ".debug")
        if has_debug_info(candidate):
            return candidate
    if link is not None:
        name, crc = link
        here = os.path.dirname(os.path.realpath(path))
        for folder in (here, os.path.join(here, ".debug"), root + here):
            candidate = os.path.join(folder, name)
            if candidate != path and _crc32(candidate) == crc and has_debug_info(candidate):
                return candidate
    return None


def _crc32(path: str) -> int | None:
    try:
        with open(path, "rb") as f:
            crc = 0
            while chunk := f.read(1 << 20):
                crc = zlib.crc32(chunk, crc)
            return crc
    except OSError:
        return None
