"""A core file as a stopped program: its memory, its threads' registers, its mappings.

What ``gcore`` or the kernel writes: ``PT_LOAD`` segments hold the memory that
was dumped (writable data, stack, heap); ``NT_FILE`` lists the file mappings,
whose read-only pages (code, ``.rodata``) we read from the files themselves;
``NT_PRSTATUS`` holds each thread's registers.  Only x86_64's register layout
is decoded (``struct user_regs_struct``).  The tests use it to compare our
source-level answers with gdb's on one frozen state, without ptrace.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from elftools.elf.elffile import ELFFile

# struct user_regs_struct (sys/user.h), the order NT_PRSTATUS stores x86_64 registers in
X86_64_USER_REGS = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
                    "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
                    "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs")
_PRSTATUS_REGS_AT = 112  # offsetof(struct elf_prstatus, pr_reg) on x86_64


@dataclass(frozen=True)
class FileMapping:
    start: int
    end: int
    offset: int  # in bytes
    path: str


class CoreFile:
    def __init__(self, path: str):
        self._file = open(path, "rb")  # noqa: SIM115 - read for the object's life
        self.elf = ELFFile(self._file)
        self.segments = [(s["p_vaddr"], s["p_filesz"], s["p_offset"])
                         for s in self.elf.iter_segments()
                         if s["p_type"] == "PT_LOAD" and s["p_filesz"]]
        self.threads: list[dict[str, int]] = []
        self.mappings: list[FileMapping] = []
        for seg in self.elf.iter_segments():
            if seg["p_type"] == "PT_NOTE":
                for note in seg.iter_notes():
                    self._note(note)
        self._files: dict[str, object] = {}

    def _note(self, note) -> None:
        raw = note["n_descdata"] if "n_descdata" in note else b""
        if isinstance(raw, str):
            raw = raw.encode("latin-1")
        if note["n_type"] == "NT_PRSTATUS":
            values = struct.unpack_from("<27Q", raw, _PRSTATUS_REGS_AT)
            self.threads.append(dict(zip(X86_64_USER_REGS, values, strict=True)))
        elif note["n_type"] == "NT_FILE":
            count, page = struct.unpack_from("<QQ", raw, 0)
            triples = struct.unpack_from(f"<{3 * count}Q", raw, 16)
            names = raw[16 + 24 * count:].split(b"\0")
            for i in range(count):
                start, end, pages = triples[3 * i:3 * i + 3]
                self.mappings.append(FileMapping(start, end, pages * page, names[i].decode()))

    def read(self, address: int, size: int) -> bytes:
        """Memory as the core saw it; ``OSError`` where it has none."""
        out = b""
        while len(out) < size:
            chunk = self._read_some(address + len(out), size - len(out))
            if not chunk:
                if out:
                    return out
                raise OSError(f"Cannot access memory at address {address:#x}")
            out += chunk
        return out

    def _read_some(self, address: int, size: int) -> bytes:
        for vaddr, filesz, offset in self.segments:
            if vaddr <= address < vaddr + filesz:
                self._file.seek(offset + address - vaddr)
                return self._file.read(min(size, vaddr + filesz - address))
        for m in self.mappings:
            if m.start <= address < m.end:
                f = self._files.get(m.path)
                if f is None:
                    f = self._files[m.path] = open(m.path, "rb")  # noqa: SIM115
                f.seek(m.offset + address - m.start)
                return f.read(min(size, m.end - address))
        return b""

    def images(self) -> list[tuple[str, int, list[tuple[int, int]]]]:
        """Each mapped ELF file: (path, load bias, runtime ranges), as /proc/PID/maps gives."""
        by_path: dict[str, list[FileMapping]] = {}
        for m in self.mappings:
            by_path.setdefault(m.path, []).append(m)
        found = []
        for path, maps in by_path.items():
            first = min(maps, key=lambda m: m.offset)
            try:
                with open(path, "rb") as f:
                    elf = ELFFile(f)
                    load = next(s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD")
                    vaddr = load["p_vaddr"] & ~0xFFF
            except (OSError, StopIteration):
                continue
            except Exception:  # not an ELF (a mapped data file)
                continue
            found.append((path, first.start - first.offset - vaddr + (load["p_offset"]
                          & ~0xFFF), [(m.start, m.end) for m in maps]))
        return found
