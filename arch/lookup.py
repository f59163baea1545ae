"""Which :class:`Arch` a tracee needs, from its executable's ELF header.

WHY the tracee and not the host: a debugger on ppc64le may trace a
big-endian binary under a compat kernel one day, and an x86_64 host runs
32-bit programs today; the ELF header of ``/proc/PID/exe`` says what the
program is (``e_machine``, ``EI_CLASS``, ``EI_DATA``).
"""

from __future__ import annotations

import os

from .base import Arch
from .ppc64 import PPC64BE, PPC64LE
from .s390x import ARCH as S390X
from .x86_64 import ARCH as X86_64

ARCHES: dict[str, Arch] = {a.name: a for a in (X86_64, PPC64LE, PPC64BE, S390X)}

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
EM_NAMES = {3: "i386", 20: "ppc", 21: "ppc64", 22: "s390", 62: "x86_64", 183: "aarch64",
            243: "riscv"}

_BY_ELF: dict[tuple[int, int, int], Arch] = {
    (62, ELFCLASS64, ELFDATA2LSB): X86_64,
    (21, ELFCLASS64, ELFDATA2LSB): PPC64LE,
    (21, ELFCLASS64, ELFDATA2MSB): PPC64BE,
    (22, ELFCLASS64, ELFDATA2MSB): S390X,
}


def by_name(name: str) -> Arch:
    """The arch called ``name`` ('x86_64', 'ppc64le', 'ppc64', 's390x')."""
    try:
        return ARCHES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(ARCHES)}") from None


def for_elf_header(header: bytes, what: str = "ELF file") -> Arch:
    """The arch of an ELF file from its first 20 bytes."""
    if len(header) < 20 or header[:4] != ELF_MAGIC:
        raise ValueError(f"{what}: not an ELF file")
    elf_class, elf_data = header[4], header[5]
    if elf_data not in (ELFDATA2LSB, ELFDATA2MSB):
        raise ValueError(f"{what}: bad EI_DATA {elf_data}")
    machine = int.from_bytes(header[18:20], "little" if elf_data == ELFDATA2LSB else "big")
    arch = _BY_ELF.get((machine, elf_class, elf_data))
    if arch is None:
        bits = {ELFCLASS32: "32-bit", ELFCLASS64: "64-bit"}.get(elf_class, f"class {elf_class}")
        endian = "little-endian" if elf_data == ELFDATA2LSB else "big-endian"
        raise ValueError(f"{what}: {bits} {endian} {EM_NAMES.get(machine, f'e_machine {machine}')}"
                         f" is not supported (supported: {', '.join(ARCHES)})")
    return arch


def for_pid(pid: int) -> Arch:
    """The arch of the program thread/process ``pid`` runs (``/proc/PID/exe``).

    A zombie leader (it called ``pthread_exit``, other threads run on) has no
    ``exe`` any more: then any live thread's ``/proc/PID/task/TID/exe`` says.
    """
    for path in _exe_candidates(pid):
        try:
            return _for_path(path)
        except (FileNotFoundError, ProcessLookupError):
            continue
    raise ProcessLookupError(f"no such process {pid} (/proc/{pid}/exe missing)")


def _exe_candidates(pid: int) -> list[str]:
    try:
        tids = sorted(int(name) for name in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        tids = []
    return [f"/proc/{pid}/exe", *(f"/proc/{pid}/task/{tid}/exe" for tid in tids if tid != pid)]


def host() -> Arch:
    """The arch of this Python process itself."""
    return _for_path("/proc/self/exe")


def _for_path(path: str) -> Arch:
    with open(path, "rb") as f:
        return for_elf_header(f.read(20), path)
