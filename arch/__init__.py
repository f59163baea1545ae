"""Architecture modules: one per machine, behind one interface (:class:`Arch`).

Pick the tracee's with :func:`for_pid`; nothing above this package asks which
machine it runs on.  Import as ``pydbg_utrace.arch``.
"""

from .base import Arch, Instruction, Registers
from .lookup import ARCHES, by_name, for_elf_header, for_pid, host

__all__ = ["ARCHES", "Arch", "Instruction", "Registers", "by_name", "for_elf_header",
           "for_pid", "host"]
