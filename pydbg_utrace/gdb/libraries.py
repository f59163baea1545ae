"""The documents gdb reads with ``qXfer``: the thread list and the shared-library list.

The library list is the dynamic linker's own: the ``link_map`` chain that
``r_debug`` heads, found the way gdb finds it (the program headers named by
the auxiliary vector, the ``DT_DEBUG`` entry of the dynamic section), read
through the shared memory service.  So it names exactly the objects gdb would
find by walking the chain itself, with their ``l_addr`` and ``l_ld``; before
the dynamic linker has run (at the first instruction) the list is empty, as
it is for gdbserver.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

if TYPE_CHECKING:
    from pydbg_utrace import Process

AT_PHDR, AT_PHENT, AT_PHNUM = 3, 4, 5
PT_DYNAMIC, PT_PHDR = 2, 6
DT_NULL, DT_DEBUG = 0, 21
MAX_LIBRARIES = 4096  # a corrupt chain must not loop forever


def threads_xml(threads: Iterable[tuple[int, int]]) -> bytes:
    """``qXfer:threads:read``: each (pid, tid)'s id, name (comm) and last CPU."""
    rows = []
    for pid, tid in threads:
        name = _read_text(f"/proc/{pid}/task/{tid}/comm").strip()
        core = _core_of(pid, tid)
        core_attr = f" core={quoteattr(str(core))}" if core is not None else ""
        rows.append(f"<thread id=\"p{pid:x}.{tid:x}\"{core_attr} name={quoteattr(name)}/>")
    return ('<?xml version="1.0"?>\n<threads>\n' + "\n".join(rows) + "\n</threads>\n").encode()


def svr4_xml(process: Process) -> bytes:
    """``qXfer:libraries-svr4:read``: the link map, first entry (the program) as main-lm."""
    entries = link_map(process)
    if not entries:
        return b'<library-list-svr4 version="1.0"/>'
    main, *libraries = entries
    vdso = _vdso_range(process.pid)
    # The vDSO is no file gdb could read; gdbserver's gdb drops it after reading
    # the vsyscall range through vFile, which we do not serve: drop it here.
    libraries = [e for e in libraries if not (vdso[0] <= e[3] < vdso[1])]
    rows = [f"<library name={quoteattr(name)} lm=\"{lm:#x}\" l_addr=\"{addr:#x}\" lmid=\"0x0\" "
            f"l_ld=\"{ld:#x}\"/>" for lm, name, addr, ld in libraries if name]
    return (f'<library-list-svr4 version="1.0" main-lm="{main[0]:#x}">'
            + "".join(rows) + "</library-list-svr4>").encode()


def link_map(process: Process) -> list[tuple[int, str, int, int]]:
    """``(lm, l_name, l_addr, l_ld)`` for each entry of the chain; [] if there is none yet."""
    arch = process.arch
    memory = process.memory
    word = arch.word_size
    fmt = ("<" if arch.byteorder == "little" else ">") + ("Q" if word == 8 else "I")

    def read_word(address: int) -> int:
        return struct.unpack(fmt, memory.read(address, word))[0]

    r_debug = _r_debug(process.pid, read_word, word, memory.read, arch.byteorder)
    if not r_debug:
        return []
    entries = []
    lm = read_word(r_debug + word)  # r_map, after the int r_version (padded to a word)
    while lm and len(entries) < MAX_LIBRARIES:
        l_addr, l_name, l_ld, l_next = (read_word(lm + i * word) for i in range(4))
        name = _read_c_string(memory.read, l_name) if l_name else ""
        entries.append((lm, name, l_addr, l_ld))
        lm = l_next
    return entries


def _r_debug(pid: int, read_word, word: int, read, order: str) -> int:
    """The address of ``r_debug`` from the program's DT_DEBUG (0 if not set yet)."""
    aux = _auxv(pid, word)
    phdr, phent, phnum = aux.get(AT_PHDR), aux.get(AT_PHENT), aux.get(AT_PHNUM)
    if not phdr or not phent or not phnum:
        return 0
    headers = []
    for i in range(phnum):
        base = phdr + i * phent
        p_type = int.from_bytes(read(base, 4), order)
        # Elf64_Phdr: p_type, p_flags (4 bytes each), then p_offset, p_vaddr (words).
        p_vaddr = read_word(base + 8 + word) if word == 8 else read_word(base + 8)
        headers.append((p_type, p_vaddr))
    bias = next((phdr - vaddr for kind, vaddr in headers if kind == PT_PHDR), None)
    dynamic = next((vaddr for kind, vaddr in headers if kind == PT_DYNAMIC), None)
    if bias is None or dynamic is None:
        return 0  # a static program: no dynamic linker, no list
    address = bias + dynamic
    for _ in range(4096):
        tag, value = read_word(address), read_word(address + word)
        if tag == DT_NULL:
            return 0
        if tag == DT_DEBUG:
            return value
        address += 2 * word
    return 0


def _auxv(pid: int, word: int) -> dict[int, int]:
    with open(f"/proc/{pid}/auxv", "rb") as auxv:
        data = auxv.read()
    # /proc/PID/auxv is in the tracee's byte order; we only serve same-endian hosts here.
    values = struct.unpack(f"={len(data) // word}{'Q' if word == 8 else 'I'}",
                           data[:len(data) // word * word])
    return dict(zip(values[0::2], values[1::2], strict=False))


def _vdso_range(pid: int) -> tuple[int, int]:
    for line in _read_text(f"/proc/{pid}/maps").splitlines():
        if line.endswith("[vdso]"):
            start, _, end = line.split()[0].partition("-")
            return int(start, 16), int(end, 16)
    return 0, 0


def _read_c_string(read, address: int, limit: int = 4096) -> str:
    out = bytearray()
    while len(out) < limit:
        chunk = read(address + len(out), 64)
        if not chunk:
            break
        end = chunk.find(b"\0")
        if end >= 0:
            out += chunk[:end]
            break
        out += chunk
    return out.decode(errors="replace")


def _read_text(path: str) -> str:
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return ""


def _core_of(pid: int, tid: int) -> int | None:
    stat = _read_text(f"/proc/{pid}/task/{tid}/stat")
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[36])  # field 39 of stat, counted after "pid (comm)"
    except (IndexError, ValueError):
        return None
