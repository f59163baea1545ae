"""Unwinding: from the registers of frame 0 and memory, the caller frames.

gdb's order (``frame-unwind.c``): the DWARF CFI of the pc's file first
(``.eh_frame``, ``.debug_frame``); without CFI, the frame-pointer chain
(x86_64: ``[rbp]`` is the caller's rbp, ``[rbp+8]`` the return address, or at
a function's first instruction ``[rsp]``); and when neither applies, a reason
why the backtrace stops, worded as gdb words it.

Rules, as DWARF 5 section 6.4 and gdb's dwarf2 frame unwinder apply them:

- a caller's pc is looked up at ``pc - 1`` (the call may be the last
  instruction of its function), except for frame 0 and a frame interrupted by
  a signal (its pc is exact);
- the CFA becomes the caller's stack pointer; the return-address column its pc;
- registers without a rule keep their value (gdb treats "unspecified" as
  "same value"); ``undefined`` makes them unknown; an undefined return address
  is the outermost frame (glibc's ``_start``);
- an FDE with augmentation ``S`` (glibc's ``__restore_rt``) is a signal
  trampoline: gdb prints it as ``<signal handler called>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import location
from .location import Unavailable
from .program import Program
from .regs import RegisterMap
from .values import MemoryReader

_MASK = (1 << 64) - 1
_X86_64_SIGRETURN = bytes.fromhex("48c7c00f0000000f05")  # mov $15,%rax; syscall


@dataclass
class FrameState:
    """One frame's machine state: its pc and the registers known in it."""

    pc: int
    registers: dict[int, int]  # DWARF register number -> value
    exact_pc: bool = True  # frame 0, or interrupted by a signal: no "pc - 1"
    signal_trampoline: bool = False
    how: str = "registers"  # how this frame was found: registers, cfi, frame pointer
    cfa: int | None = field(default=None)

    @property
    def lookup_pc(self) -> int:
        """The pc to look up lines, functions and CFI with."""
        return self.pc if self.exact_pc else self.pc - 1


class RegisterContext:
    """The :class:`location.ExprContext` for CFI expressions: registers and memory only."""

    def __init__(self, registers: dict[int, int], read: MemoryReader, cfa: int | None = None,
                 address_size: int = 8, byteorder: str = "little"):
        self.byteorder = byteorder
        self.registers = registers
        self.read = read
        self._cfa = cfa
        self.address_size = address_size

    def read_memory(self, address: int, size: int) -> bytes:
        return self.read(address, size)

    def register(self, number: int) -> int:
        if number not in self.registers:
            raise Unavailable(f"register {number} is not saved")
        return self.registers[number]

    def frame_base(self) -> int:
        raise Unavailable("no frame base in CFI")

    def cfa(self) -> int:
        if self._cfa is None:
            raise Unavailable("no CFA yet")
        return self._cfa

    def entry_value(self, expr) -> int:
        raise Unavailable("no entry values in CFI")

    def relocate(self, address: int) -> int:
        return address


class Unwinder:
    def __init__(self, program: Program, regs: RegisterMap, read: MemoryReader):
        self.program = program
        self.regs = regs
        self.read = read
        first = program.images[0] if program.images else None
        self.byteorder = "big" if first is not None and not first.debug.elf.little_endian \
            else "little"

    def backtrace(self, frame0: FrameState, limit: int = 64) -> tuple[list[FrameState], str]:
        """Frames innermost first, and why the walk stopped ('' at the outermost frame)."""
        frames = [frame0]
        while len(frames) < limit:
            caller = self.caller(frames[-1])
            if isinstance(caller, str):
                return frames, caller
            frames.append(caller)
        return frames, ""

    def caller(self, frame: FrameState) -> FrameState | str:
        """The calling frame, or the reason there is none ('' for the outermost)."""
        image = self.program.image_at(frame.lookup_pc)
        row = image.cfi.row_at(frame.lookup_pc - image.bias) if image is not None else None
        try:
            if row is not None:
                caller = self._by_cfi(frame, row, image.bias)
            else:
                caller = self._by_frame_pointer(frame)
        except Unavailable as exc:
            return f"Backtrace stopped: {exc}"
        if isinstance(caller, str):
            return caller
        if caller.pc == 0:
            return ""
        caller.signal_trampoline = self.is_signal_trampoline(caller.pc)
        if frame.cfa is not None and caller.registers.get(self.regs.sp) is not None:
            if caller.pc == frame.pc and caller.registers[self.regs.sp] == \
                    frame.registers.get(self.regs.sp):
                return "Backtrace stopped: previous frame identical to this frame (corrupt stack?)"
        return caller

    def cfa_of(self, frame: FrameState) -> int | None:
        """The frame's canonical frame address (its caller's sp before the call)."""
        if frame.cfa is None:
            image = self.program.image_at(frame.lookup_pc)
            row = image.cfi.row_at(frame.lookup_pc - image.bias) if image is not None else None
            if row is not None:
                try:
                    frame.cfa = self._cfa(frame, row)
                except Unavailable:
                    return None
        return frame.cfa

    def _cfa(self, frame: FrameState, row) -> int:
        rule = row.cfa
        if rule.expr is not None:
            ops = location.parse(rule.expr, self._structs(frame))
            return location.evaluate_value(ops, RegisterContext(
                frame.registers, self.read, byteorder=self.byteorder))
        if rule.reg not in frame.registers:
            raise Unavailable(f"register {rule.reg} for the CFA is not known")
        return (frame.registers[rule.reg] + rule.offset) & _MASK

    def _structs(self, frame: FrameState):
        return self.program.image_at(frame.lookup_pc).cfi.structs

    def _by_cfi(self, frame: FrameState, row, bias: int) -> FrameState | str:
        cfa = self._cfa(frame, row)
        frame.cfa = cfa
        ctx = RegisterContext(frame.registers, self._read_checked, cfa,
                              byteorder=self.byteorder)
        registers = {n: v for n, v in frame.registers.items()}
        registers[self.regs.sp] = cfa
        for number, rule in row.rules.items():
            value = self._apply(rule, number, frame, ctx, cfa)
            if value is None:
                registers.pop(number, None)
            else:
                registers[number] = value
        if row.return_column not in registers or \
                row.rules.get(row.return_column) is not None and \
                row.rules[row.return_column].type == "UNDEFINED":
            return ""  # the outermost frame: its return address is undefined
        return FrameState(registers[row.return_column], registers, exact_pc=row.signal_frame,
                          how="cfi")

    def is_signal_trampoline(self, pc: int) -> bool:
        """gdb's SIGTRAMP_FRAME: an FDE marked ``S`` (glibc's ``__restore_rt``, whose
        FDE starts one byte early so that ``pc - 1`` finds it), or on x86_64 the
        kernel's ``rt_sigreturn`` code itself (amd64_linux_sigtramp_p)."""
        image = self.program.image_at(pc - 1)
        row = image.cfi.row_at(pc - 1 - image.bias) if image is not None else None
        if row is not None:
            return row.signal_frame
        if self.regs.arch == "x86_64":
            try:
                return self.read(pc, len(_X86_64_SIGRETURN)) == _X86_64_SIGRETURN
            except OSError:
                return False
        return False

    def _apply(self, rule, number: int, frame: FrameState, ctx, cfa: int) -> int | None:
        kind = rule.type
        if kind == "UNDEFINED":
            return None
        if kind == "SAME_VALUE":
            return frame.registers.get(number)
        if kind == "OFFSET":
            return self._word((cfa + rule.arg) & _MASK)
        if kind == "VAL_OFFSET":
            return (cfa + rule.arg) & _MASK
        if kind == "REGISTER":
            return frame.registers.get(rule.arg)
        if kind in ("EXPRESSION", "VAL_EXPRESSION"):
            ops = location.parse(rule.arg, self._structs(frame))
            value = location.evaluate_value(ops, ctx, push_cfa=True)
            return self._word(value) if kind == "EXPRESSION" else value
        return frame.registers.get(number)  # ARCHITECTURAL: what the ABI says, i.e. kept

    def _by_frame_pointer(self, frame: FrameState) -> FrameState | str:
        regs = self.regs
        if regs.arch != "x86_64" or regs.frame_pointer is None:
            return f"Backtrace stopped: no CFI for {frame.pc:#x}"
        sp = frame.registers.get(regs.sp)
        found = self.program.function_at(frame.lookup_pc)
        at_entry = found is not None and found[1].low + found[0].bias == frame.pc
        registers = dict(frame.registers)
        if at_entry and sp is not None:  # before push %rbp: the return address is at [rsp]
            pc, cfa = self._word(sp), sp + 8
        else:
            fp = frame.registers.get(regs.frame_pointer)
            if fp is None or sp is None or fp < sp:
                return f"Backtrace stopped: no CFI and no frame pointer at {frame.pc:#x}"
            pc, cfa = self._word(fp + 8), fp + 16
            registers[regs.frame_pointer] = self._word(fp)
        frame.cfa = cfa
        registers[regs.sp] = cfa
        registers[regs.return_column] = pc
        return FrameState(pc, registers, exact_pc=False, how="frame pointer")

    def _word(self, address: int) -> int:
        return int.from_bytes(self._read_checked(address, 8), self.byteorder)

    def _read_checked(self, address: int, size: int) -> bytes:
        try:
            data = self.read(address, size)
        except OSError:
            data = b""
        if len(data) < size:
            raise Unavailable(f"Cannot access memory at address {address:#x}")
        return data


def saved_addresses(unwinder: Unwinder, frame: FrameState) -> dict[int, int]:
    """Where this frame saved its caller's registers (DWARF number -> stack address):
    gdb's ``info frame`` "Saved registers" (lval_memory only).  CFI rules
    ``offset(N)``/``expression``, or the frame-pointer fallback's rbp and rip."""
    image = unwinder.program.image_at(frame.lookup_pc)
    row = image.cfi.row_at(frame.lookup_pc - image.bias) if image is not None else None
    regs = unwinder.regs
    cfa = unwinder.cfa_of(frame)
    if row is None:
        if cfa is None or regs.frame_pointer is None:
            return {}
        return {regs.frame_pointer: cfa - 16, regs.return_column: cfa - 8}
    found = {}
    for number, rule in row.rules.items():
        if rule.type == "OFFSET" and cfa is not None:
            found[number] = (cfa + rule.arg) & _MASK
        elif rule.type == "EXPRESSION" and cfa is not None:
            ops = location.parse(rule.arg, image.cfi.structs)
            ctx = RegisterContext(frame.registers, unwinder.read, cfa,
                                  byteorder=unwinder.byteorder)
            try:
                found[number] = location.evaluate_value(ops, ctx, push_cfa=True)
            except Unavailable:
                continue
    return found


def amd64_frame_base(code: bytes, start: int, pc: int, rsp: int, rbp: int | None) -> int:
    """gdb's amd64 frame base (``info frame``'s "Arglist at", amd64_frame_cache):
    ``rbp`` once ``[endbr64] push %rbp; mov %rsp,%rbp`` ran before ``pc``, else
    ``rsp`` less what is not pushed yet (8 before the push, 0 after it)."""
    at = start + (4 if code.startswith(b"\xf3\x0f\x1e\xfa") else 0)
    sp_offset = -8
    if pc > at and code[at - start:at - start + 1] == b"\x55":
        sp_offset += 8
        mov = code[at - start + 1:at - start + 4]
        if pc > at + 1 and mov in (b"\x48\x89\xe5", b"\x48\x8b\xec") and rbp is not None:
            return rbp
    return (rsp + sp_offset) & _MASK
