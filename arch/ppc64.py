"""64-bit powerpc, little-endian (ppc64le) and big-endian (ppc64).

Sources:
- registers: ``struct pt_regs`` in arch/powerpc/include/uapi/asm/ptrace.h (44
  longs: gpr0-31 nip msr orig_gpr3 ctr link xer ccr softe trap dar dsisr
  result); the NT_PRSTATUS regset is ``ELF_NGREG`` = 48 longs
  (arch/powerpc/include/uapi/asm/elf.h), the last four zero (``gpr_get`` in
  arch/powerpc/kernel/ptrace/ptrace-view.c).  ``gpr_set`` writes r0..ccr and
  trap; softe, dar, dsisr and result are ignored.
- syscalls (arch/powerpc/include/asm/syscall.h, kernel/interrupt.c): number in
  r0, args in r3..r8 (orig_gpr3 keeps the first).  ``sc`` (trap 0xc00) fails
  with CR0.SO (0x10000000 in ccr) set and r3 = positive errno; ``scv`` (trap
  0x3000, POWER9+) returns -errno in r3 like x86.  A tracer skips a call by
  setting r0 to an invalid number (-1): ``do_syscall_trace_enter`` then sets
  r3 = -ENOSYS and runs nothing (seed 001: powerpc keeps its own semantics).
- breakpoint ``trap`` (tw 31,0,0 = 0x7fe00008) traps with nip AT the trap
  (gdb rs6000-tdep.c: no decr_pc_after_break); PTRACE_SINGLEBLOCK = 0x100.
- software step: load-reserve/store-conditional sequences (see ppc_atomic).
Observed on Debian's 6.1 ppc64le kernel under qemu (tests/test_arch_live.py):
384-byte regset, scv from glibc, the sc convention, abort, trap PC, the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import capstone

from . import ppc_atomic
from .base import MAX_ERRNO, NT_PRFPREG, Arch, Instruction, MemoryReader, Registers, layout
from .syscall_tables import python_ptrace_table

_NAMES = [f"r{i}" for i in range(32)] + (
    "nip msr orig_gpr3 ctr link xer ccr softe trap dar dsisr result".split())
PT_REGS_SIZE = 44 * 8  # sizeof(struct pt_regs) / user_pt_regs on ppc64
ELF_NGREG = 48

CR0_SO = 0x10000000  # summary-overflow bit of CR field 0: the sc error flag
TRAP_SC = 0xC00
TRAP_SCV = 0x3000
TRAP_MASK = ~0xF  # TRAP(regs): the low bits are flags

TRAP_INSN = 0x7FE00008  # tw 31,0,0 ("trap")


class PPC64(Arch):
    word_size = 8
    register_names, fields = layout(*((n, 8) for n in _NAMES))
    regset_size = ELF_NGREG * 8
    fp_regset_size = 33 * 8  # ELF_NFPREG: 32 FPRs and FPSCR
    extra_regsets: Mapping[int, int] = {NT_PRFPREG: fp_regset_size}
    pc_register = "nip"
    sp_register = "r1"

    breakpoint_pc_offset = 0  # nip stays at the trap instruction
    breakpoint_si_code = 1  # TRAP_BRKPT (program_check_exception, REASON_TRAP)
    has_singlestep = True
    blockstep_request = 0x100  # PTRACE_SINGLEBLOCK, arch/powerpc/include/uapi/asm/ptrace.h

    capstone_arch = capstone.CS_ARCH_PPC
    gdb_architecture = "powerpc:common64"
    # gdb/features/rs6000/power64-core.xml then power64-linux.xml; the FPU
    # feature (f0-f31, fpscr) sits between r31 and pc in a full g packet.
    gdb_register_order = tuple(f"r{i}" for i in range(32)) + (
        "pc", "msr", "cr", "lr", "ctr", "xer", "orig_r3", "trap")
    gdb_register_map: Mapping[str, str] = {
        "pc": "nip", "cr": "ccr", "lr": "link", "orig_r3": "orig_gpr3"}

    def __init__(self, name: str, byteorder: str):
        self.name = name
        self.byteorder = byteorder
        self.capstone_mode = capstone.CS_MODE_64 | (
            capstone.CS_MODE_BIG_ENDIAN if byteorder == "big" else capstone.CS_MODE_LITTLE_ENDIAN)
        self.breakpoint_instruction = TRAP_INSN.to_bytes(4, byteorder)

    # -- system calls ---------------------------------------------------------
    @staticmethod
    def is_scv(regs: Registers) -> bool:
        """Did the tracee enter with ``scv`` (negative-errno ABI) rather than ``sc``?"""
        return regs["trap"] & TRAP_MASK == TRAP_SCV

    def syscall_number(self, regs: Registers) -> int:
        return regs.signed("r0")

    def set_syscall_number(self, regs: Registers, nr: int) -> None:
        regs["r0"] = nr

    def syscall_args(self, regs: Registers) -> tuple[int, ...]:
        # At the entry stop r3 == orig_gpr3; the kernel calls with gpr[3..8].
        return tuple(regs[f"r{i}"] for i in range(3, 9))

    def syscall_result(self, regs: Registers) -> tuple[int, int | None]:
        value = regs.signed("r3")
        if self.is_scv(regs):
            if -MAX_ERRNO <= value < 0:
                return value, -value
            return value, None
        if regs["ccr"] & CR0_SO:
            return -value, value
        return value, None

    def set_syscall_result(self, regs: Registers, value: int = 0,
                           errno: int | None = None) -> None:
        if self.is_scv(regs):
            regs["r3"] = -errno if errno is not None else value
            return
        if errno is not None:
            regs["ccr"] = regs["ccr"] | CR0_SO
            regs["r3"] = errno
        else:
            regs["ccr"] = regs["ccr"] & ~CR0_SO
            regs["r3"] = value

    def abort_syscall(self, regs: Registers) -> None:
        regs["r0"] = -1

    # -- stepping and disassembly ---------------------------------------------
    def software_step(self, pc: int, read: MemoryReader) -> list[int] | None:
        return ppc_atomic.atomic_sequence_breakpoints(pc, read, self.byteorder)

    def _undecodable(self, code: bytes, offset: int, address: int) -> Instruction | None:
        """capstone 5.0.x cannot decode lqarx/stqcx.: name them from the mask."""
        raw = bytes(code[offset:offset + 4])
        if len(raw) < 4:
            return None
        word = int.from_bytes(raw, self.byteorder)
        name = ppc_atomic.load_reserve_name(word) or ppc_atomic.store_conditional_name(word)
        if name:
            rt, ra, rb = (word >> 21) & 31, (word >> 16) & 31, (word >> 11) & 31
            eh = f", {word & 1}" if name.endswith("arx") and word & 1 else ""
            base = f"r{ra}" if ra else "0"  # ra = 0 means "no base register"
            return Instruction(address, 4, name, f"r{rt}, {base}, r{rb}{eh}", raw)
        return Instruction(address, 4, ".long", f"{word:#010x}", raw)

    @cached_property
    def syscall_names(self) -> Mapping[int, str]:
        return python_ptrace_table("powerpc64")


PPC64LE = PPC64("ppc64le", "little")
PPC64BE = PPC64("ppc64", "big")
