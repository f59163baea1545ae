"""Shared libraries by the dynamic linker's own list, as gdb's SVR4 code reads it.

gdb names a library by the ``l_name`` of its ``struct link_map`` (for example
``/lib/x86_64-linux-gnu/libz.so.1``), not by the file ``/proc/PID/maps`` or a
core's ``NT_FILE`` shows (``/usr/lib/x86_64-linux-gnu/libz.so.1.2.13``).  The
list starts at ``r_debug.r_map``, found through the program's ``DT_DEBUG``
entry, which ld.so fills in at startup: so it is empty before the program ran.
"""

from __future__ import annotations

import os
import struct

from .program import Program
from .values import MemoryReader, SourceError

DT_NULL, DT_DEBUG = 0, 21


def link_map(read: MemoryReader, dynamic: int, limit: int = 512) -> list[tuple[int, str]]:
    """``(l_addr, l_name)`` of each loaded object (64-bit little-endian layouts)."""
    debug = 0
    for i in range(limit):
        try:
            tag, value = struct.unpack("<qQ", read(dynamic + 16 * i, 16))
        except (OSError, struct.error):
            return []
        if tag == DT_NULL:
            break
        if tag == DT_DEBUG:
            debug = value
    if not debug:
        return []
    out = []
    try:
        node = struct.unpack("<Q", read(debug + 8, 8))[0]  # r_debug.r_map
        while node and len(out) < limit:
            l_addr, l_name, _l_ld, l_next = struct.unpack("<QQQQ", read(node, 32))
            out.append((l_addr, _string(read, l_name)))
            node = l_next
    except (OSError, struct.error):
        pass
    return out


def name_libraries(program: Program, read: MemoryReader) -> None:
    """Give each shared library image the name the dynamic linker knows it by."""
    main = program.images[0] if program.images else None
    if main is None:
        return
    dynamic = next((seg["p_vaddr"] for seg in main.debug.elf.iter_segments()
                    if seg["p_type"] == "PT_DYNAMIC"), None)
    if dynamic is None:
        return
    for l_addr, name in link_map(read, dynamic + main.bias):
        if not name:
            continue
        for image in program.images[1:]:
            if image.bias == l_addr:
                image.display_path = name


def library_rows(program: Program, read: MemoryReader) -> list[tuple[int, int, bool, str]]:
    """gdb's ``info sharedlibrary`` rows: (.text start, .text end, has debugging
    information, name) of each library, the dynamic linker first (gdb learns of it
    before the others), then the others in the dynamic linker's own order."""
    if not program.images:
        return []
    main, libraries = program.images[0], program.images[1:]
    interpreter = next((seg.get_interp_name() for seg in main.debug.elf.iter_segments()
                        if seg["p_type"] == "PT_INTERP"), None)
    dynamic = next((seg["p_vaddr"] for seg in main.debug.elf.iter_segments()
                    if seg["p_type"] == "PT_DYNAMIC"), None)
    order = {}
    if dynamic is not None:
        try:
            order = {l_addr: i for i, (l_addr, _) in enumerate(link_map(read, dynamic + main.bias))}
        except (OSError, SourceError):
            order = {}
    linker = os.path.realpath(interpreter) if interpreter else None

    def is_linker(image) -> bool:
        return linker is not None and os.path.realpath(image.path) == linker

    ranked = sorted(libraries, key=lambda image: (not is_linker(image),
                                                   order.get(image.bias, len(order))))
    rows = []
    for image in ranked:
        text = image.debug.elf.get_section_by_name(".text")
        # (before the linker ran it has no name of its own: gdb's is PT_INTERP's)
        name = interpreter if is_linker(image) and not image.display_path else image.name
        if text is None or not name or not name.startswith("/"):
            continue  # the vDSO (no file), or a mapping that is no library
        start = text["sh_addr"] + image.bias
        rows.append((start, start + text["sh_size"], image.debug.has_dwarf, name))
    return rows


def _string(read: MemoryReader, address: int, limit: int = 4096) -> str:
    data = b""
    while len(data) < limit:
        chunk = read(address + len(data), 64)
        if b"\0" in chunk:
            return (data + chunk[:chunk.index(b"\0")]).decode(errors="replace")
        data += chunk
    return data.decode(errors="replace")
