"""``bt`` by the frame-pointer chain, and an honest word when there is none.

With frame pointers (x86_64 ``-fno-omit-frame-pointer``, gcc's default at
``-O0``) each frame starts ``push rbp; mov rbp, rsp``: ``[rbp]`` is the
caller's rbp and ``[rbp+8]`` the return address.  At a function's first
instruction, after its ``push rbp``, and at its ``ret`` the frame is not set
up (or is gone) and the return address is found on the stack instead.
Without frame pointers rbp is an ordinary register and the chain leads
nowhere: we stop when it leaves the stack or stops growing, and say why.
Unwinding by DWARF CFI is not done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .session import DebugError
from .symbols import maps

if TYPE_CHECKING:
    from .debugger import Debugger

NO_FP = ("(no frame-pointer chain here: the code was built without frame pointers, "
         "so bt cannot unwind it)")
NO_CALLER_FP = "(backtrace stops: the caller keeps no frame pointer)"


def frames(dbg: Debugger, limit: int = 64) -> tuple[list[int], str]:
    """The pc of each frame, innermost first, and a note if the walk ended early."""
    session = dbg.session
    arch = session.arch
    regs = session.registers()
    if arch.name != "x86_64":
        return [regs.pc], f"(bt walks x86_64 frame pointers only, not {arch.name})"
    pcs = [regs.pc]
    on_stack = _return_address_on_stack(dbg, regs.pc, regs.sp)
    if on_stack is not None:
        pcs.append(on_stack)
    stack = _stack_of(session.require_process().pid, regs.sp)
    fp = regs["rbp"]
    while len(pcs) < limit:
        if stack is None or not stack[0] <= fp < stack[1] or fp < regs.sp:
            return pcs, NO_FP if len(pcs) == 1 else NO_CALLER_FP
        try:
            data = session.read_memory(fp, 16)
        except DebugError:
            return pcs, NO_CALLER_FP
        next_fp = int.from_bytes(data[:8], "little")
        ret = int.from_bytes(data[8:], "little")
        if ret == 0:
            return pcs, ""
        pcs.append(ret)
        if next_fp == 0:  # the outermost frame: _start clears rbp
            return pcs, ""
        if next_fp <= fp:
            return pcs, NO_CALLER_FP
        fp = next_fp
    return pcs, ""


def _return_address_on_stack(dbg: Debugger, pc: int, sp: int) -> int | None:
    """At a function's entry, after its push rbp, or at its ret: the return address."""
    session = dbg.session
    found = dbg.symbols().symbolize(pc)
    try:
        insn = session.arch.disassemble(session.read_code(pc, 16), pc, 1)
    except DebugError:
        return None
    if insn and insn[0].mnemonic == "ret" or found and found[1] == 0:
        slot = sp
    elif found and found[1] == 1 and session.read_memory(pc - 1, 1) == b"\x55":  # push rbp
        slot = sp + 8
    else:
        return None
    try:
        return int.from_bytes(session.read_memory(slot, 8), "little")
    except DebugError:
        return None


def _stack_of(pid: int, sp: int) -> tuple[int, int] | None:
    for m in maps(pid):
        if m.start <= sp < m.end:
            return m.start, m.end
    return None
