"""s390x (64-bit z/Architecture, big-endian).

Sources:
- registers: ``s390_regs`` in arch/s390/include/uapi/asm/ptrace.h (psw mask,
  psw addr, gprs 0-15 as longs, acrs 0-15 as 4-byte ints, orig_gpr2) = 216
  bytes; the NT_PRSTATUS regset is ``sizeof(s390_regs) / sizeof(long)`` longs
  (arch/s390/kernel/ptrace.c, ``s390_regsets``).  Writes go through
  ``__poke_user``, which refuses PSW masks that change non-user bits.
- syscalls (arch/s390/kernel/syscall.c ``__do_syscall``, 6.1): the number
  comes from the ``svc`` immediate or r1, and the kernel copies it into gpr2
  before the entry stop ("In the s390 ptrace ABI, both the syscall number and
  the return value use gpr2"); orig_gpr2 holds the first argument, r3..r7 the
  others; the result is in r2, -errno on failure.  Writing gpr2 at the entry
  stop also rewrites the number the kernel runs (``__poke_user`` sets
  ``int_code``), so -1 makes it skip the call with -ENOSYS.  strace reads and
  sets the number in gprs[2] likewise (linux/s390/get_scno.c, set_scno.c).
- ``NT_S390_SYSTEM_CALL`` (0x307, 4 bytes) is ``thread.system_call``, which
  recent kernels fill on the signal path only (for gdb's restart logic); it is
  available through ``Registers.regset`` but the entry number is read from
  gpr2.  Observed on 6.1 under qemu: r2 = 64 at getppid's entry while the
  regset held a stale 0x20072 inherited from the parent (docs/arch.md).
- breakpoint: gdb (s390-tdep.c) and ltrace use the 2-byte illegal op 0x0001;
  it is reported as SIGTRAP with the PSW address AFTER it (ltrace:
  DECR_PC_AFTER_BREAK 2; gdb: decr_pc_after_break 2; kernel traps.c
  ``illegal_op``).  Observed +2 on 6.1 under qemu.  PTRACE_SINGLEBLOCK = 12
  (arch/s390/include/uapi/asm/ptrace.h).
- single-step exists (PER); observed working under QEMU 10, while QEMU < 9.1
  TCG does not follow single-stepped taken branches (docs/arch.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import capstone

from .base import MAX_ERRNO, NT_PRFPREG, Arch, Instruction, Registers, layout

NT_S390_SYSTEM_CALL = 0x307
S390_REGS_SIZE = 16 + 16 * 8 + 16 * 4 + 8

_LAYOUT = ([("psw_mask", 8), ("psw_addr", 8)] + [(f"r{i}", 8) for i in range(16)]
           + [(f"acr{i}", 4) for i in range(16)] + [("orig_gpr2", 8)])


def instruction_length(first_byte: int) -> int:
    """z/Architecture: the two high bits of the opcode give the length."""
    return (2, 4, 4, 6)[first_byte >> 6]


class S390X(Arch):
    name = "s390x"
    byteorder = "big"
    word_size = 8
    register_names, fields = layout(*_LAYOUT)
    regset_size = S390_REGS_SIZE
    pc_register = "psw_addr"
    sp_register = "r15"
    fp_regset_size = 8 + 16 * 8  # s390_fp_regs: fpc, pad, 16 FPRs
    extra_regsets: Mapping[int, int] = {NT_S390_SYSTEM_CALL: 4, NT_PRFPREG: fp_regset_size}

    breakpoint_instruction = b"\x00\x01"
    breakpoint_pc_offset = 2
    breakpoint_si_code = 1  # TRAP_BRKPT (traps.c illegal_op, for a ptraced task)
    has_singlestep = True
    blockstep_request = 12  # PTRACE_SINGLEBLOCK

    capstone_arch = capstone.CS_ARCH_SYSZ
    capstone_mode = capstone.CS_MODE_BIG_ENDIAN
    gdb_architecture = "s390:64-bit"
    # gdb/features/s390x-core64.xml, then s390-linux64 extras; the FPU feature
    # (fpc, f0-f15) sits between acr15 and orig_r2 in a full g packet.
    gdb_register_order = (("pswm", "pswa") + tuple(f"r{i}" for i in range(16))
                          + tuple(f"acr{i}" for i in range(16)) + ("orig_r2",))
    gdb_register_map: Mapping[str, str] = {
        "pswm": "psw_mask", "pswa": "psw_addr", "orig_r2": "orig_gpr2"}

    def syscall_number(self, regs: Registers) -> int:
        return regs.signed("r2")

    def set_syscall_number(self, regs: Registers, nr: int) -> None:
        regs["r2"] = nr

    def syscall_args(self, regs: Registers) -> tuple[int, ...]:
        return (regs["orig_gpr2"],) + tuple(regs[f"r{i}"] for i in range(3, 8))

    def syscall_result(self, regs: Registers) -> tuple[int, int | None]:
        value = regs.signed("r2")
        if -MAX_ERRNO <= value < 0:
            return value, -value
        return value, None

    def set_syscall_result(self, regs: Registers, value: int = 0,
                           errno: int | None = None) -> None:
        regs["r2"] = -errno if errno is not None else value

    def abort_syscall(self, regs: Registers) -> None:
        regs["r2"] = -1

    def system_call_regset(self, regs: Registers) -> int:
        """``NT_S390_SYSTEM_CALL`` (the interrupted call, for restarts)."""
        return int.from_bytes(regs.regset(NT_S390_SYSTEM_CALL)[:4], "big")

    def _undecodable(self, code: bytes, offset: int, address: int) -> Instruction | None:
        size = instruction_length(code[offset])
        raw = bytes(code[offset:offset + size])
        if len(raw) < size:
            return None
        return Instruction(address, size, ".insn", raw.hex(), raw)

    @cached_property
    def syscall_names(self) -> Mapping[int, str]:
        from .s390x_syscalls import SYSCALL_NAMES

        return SYSCALL_NAMES


ARCH = S390X()
