"""DWARF register numbers per architecture (the psABIs' tables), as data.

The unwinder and location expressions speak DWARF numbers; people and the
core's register sets speak names.  ``return_column`` is the CFI column holding
the return address; ``sp`` and ``pc`` name the stack and program counters.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegisterMap:
    arch: str
    names: dict[int, str]  # DWARF number -> register name
    sp: int
    pc_name: str
    return_column: int
    frame_pointer: int | None
    callee_saved: frozenset[int]

    def number(self, name: str) -> int | None:
        for number, known in self.names.items():
            if known == name:
                return number
        return None


# System V AMD64 psABI, figure 3.36.  16 is the return address column (rip).
X86_64 = RegisterMap(
    "x86_64",
    {0: "rax", 1: "rdx", 2: "rcx", 3: "rbx", 4: "rsi", 5: "rdi", 6: "rbp", 7: "rsp",
     **{n: f"r{n}" for n in range(8, 16)}, 16: "rip",
     **{17 + n: f"xmm{n}" for n in range(16)}, 49: "eflags"},
    sp=7, pc_name="rip", return_column=16, frame_pointer=6,
    callee_saved=frozenset({3, 6, 12, 13, 14, 15}))

# 64-bit ELF V2 ABI (ppc64le) "DWARF register number mapping"; gcc's CFI uses
# 65 (lr) as the return column.
PPC64 = RegisterMap(
    "ppc64le",
    {**{n: f"r{n}" for n in range(32)}, **{32 + n: f"f{n}" for n in range(32)},
     64: "cr", 65: "lr", 66: "ctr", 67: "xer"},
    sp=1, pc_name="nip", return_column=65, frame_pointer=31,
    callee_saved=frozenset(range(14, 32)))

# s390x ELF ABI: r0-r15 are 0-15; f0,f2,f4,f6,f1,f3,... are 16-31; 64/65 the PSW.
S390X = RegisterMap(
    "s390x",
    {**{n: f"r{n}" for n in range(16)},
     **{16 + i: f"f{n}" for i, n in enumerate((0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14,
                                               9, 11, 13, 15))},
     64: "pswm", 65: "pswa"},
    sp=15, pc_name="pswa", return_column=14, frame_pointer=11,
    callee_saved=frozenset(range(6, 16)))

BY_ARCH = {"x86_64": X86_64, "ppc64le": PPC64, "ppc64": PPC64, "s390x": S390X}
