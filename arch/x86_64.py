"""x86_64: registers, syscall ABI, breakpoints and steps.

Sources: ``struct user_regs_struct`` in arch/x86/include/asm/user_64.h (27
longs, the NT_PRSTATUS regset); syscall ABI in arch/x86/entry/entry_64.S
(number in rax, saved as orig_rax; args rdi rsi rdx r10 r8 r9; result in rax,
-errno on failure); a tracer skips a call by setting orig_rax to -1 at the
entry stop (the kernel then returns -ENOSYS); ``int3`` traps with rip one
past it; PTRACE_SINGLEBLOCK is 33 (arch/x86/include/uapi/asm/ptrace-abi.h).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import capstone

from .base import MAX_ERRNO, NT_PRFPREG, Arch, Registers, layout
from .syscall_tables import python_ptrace_table

_NAMES = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs "
          "eflags rsp ss fs_base gs_base ds es fs gs").split()
_ARG_REGISTERS = ("rdi", "rsi", "rdx", "r10", "r8", "r9")
_USER64_CS = 0x33  # __USER_CS: a 64-bit task in user mode (arch/x86/include/asm/segment.h)


class X86_64(Arch):
    name = "x86_64"
    byteorder = "little"
    word_size = 8
    register_names, fields = layout(*((n, 8) for n in _NAMES))
    regset_size = 27 * 8
    fp_regset_size = 512  # struct user_i387_struct (the FXSAVE area)
    extra_regsets: Mapping[int, int] = {NT_PRFPREG: fp_regset_size}
    pc_register = "rip"
    sp_register = "rsp"

    breakpoint_instruction = b"\xcc"  # int3
    breakpoint_pc_offset = 1  # the trap is reported after the int3
    breakpoint_si_code = 0x80  # SI_KERNEL: do_int3 sends it without a TRAP_ code
    has_singlestep = True
    blockstep_request = 33  # PTRACE_SINGLEBLOCK

    capstone_arch = capstone.CS_ARCH_X86
    capstone_mode = capstone.CS_MODE_64
    gdb_architecture = "i386:x86-64"
    # gdb/features/i386/64bit-core.xml (general part), then 64bit-linux.xml and
    # 64bit-segments.xml; the x87/SSE registers between them are not in NT_PRSTATUS.
    gdb_register_order = ("rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 "
                          "rip eflags cs ss ds es fs gs orig_rax fs_base gs_base").split()
    gdb_register_map: Mapping[str, str] = {}

    def syscall_number(self, regs: Registers) -> int:
        return regs.signed("orig_rax")

    def syscall_number_at_exit(self, regs: Registers) -> int | None:
        return regs.signed("orig_rax")  # kept by the kernel through the call

    # The kernel writes only rax (the result) at the exit; orig_rax and the
    # argument registers stay as the entry had them (entry_64.S, do_syscall_64).
    keeps_syscall_at_exit = True

    def syscall_at_exit(self, regs: Registers) -> tuple[int, tuple[int, ...]] | None:
        nr = regs.signed("orig_rax")
        if nr == -1 or regs["cs"] != _USER64_CS:
            # rt_sigreturn restored the interrupted registers (and set orig_rax
            # to -1); a 32-bit call (int 0x80 in compat mode) has other registers.
            return None
        return nr, self.syscall_args(regs)

    def set_syscall_number(self, regs: Registers, nr: int) -> None:
        regs["orig_rax"] = nr

    def syscall_args(self, regs: Registers) -> tuple[int, ...]:
        return tuple(regs[r] for r in _ARG_REGISTERS)

    def syscall_result(self, regs: Registers) -> tuple[int, int | None]:
        value = regs.signed("rax")
        if -MAX_ERRNO <= value < 0:
            return value, -value
        return value, None

    def set_syscall_result(self, regs: Registers, value: int = 0,
                           errno: int | None = None) -> None:
        regs["rax"] = -errno if errno is not None else value

    def abort_syscall(self, regs: Registers) -> None:
        regs["orig_rax"] = -1

    @cached_property
    def syscall_names(self) -> Mapping[int, str]:
        # python-ptrace's table keeps 283's pre-2.6.25 name "timerfd": the kernel's
        # (and strace's) is timerfd_create
        return {**python_ptrace_table("x86_64"), 283: "timerfd_create"}


ARCH = X86_64()
