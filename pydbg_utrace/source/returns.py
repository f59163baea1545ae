"""Where a function's return value is when it returns (``finish``'s "Value returned").

The x86_64 System V ABI (section 3.2.3), as gdb's ``amd64_classify`` reads it:
a value of at most 16 bytes is cut into eightbytes, each classed INTEGER (some
integer, pointer or enum lies in it) or SSE (only float/double); INTEGER
eightbytes come back in ``rax`` then ``rdx``, SSE ones in the low half of
``xmm0`` then ``xmm1``, in order.  A ``long double`` alone comes back in
``st(0)``.  Anything larger, with a ``long double`` inside, or with a field off
its natural alignment is returned in memory, whose address the callee leaves
in ``rax``.  What cannot be answered (another arch, no FP registers, a complex
type) is ``<optimized out>`` rather than a guess.
"""

from __future__ import annotations

from collections.abc import Callable

from .regs import RegisterMap
from .types import Type, byte_size, is_float, strip
from .values import Value, at_address, from_int

_SCALARS = ("base", "enum", "pointer")
_XMM0 = 160  # FXSAVE: xmm0..xmm15, 16 bytes each, from byte 160
_ST0 = 32  # FXSAVE: st(0)..st(7), 16 bytes each (10 used), from byte 32
INTEGER, SSE, MEMORY = "INTEGER", "SSE", "MEMORY"


def classify(t: Type) -> list[str] | str:
    """The classes of ``t``'s eightbytes, or MEMORY (returned through memory)."""
    size = byte_size(t)
    if size > 16 or size == 0:
        return MEMORY
    classes: list[str | None] = [None] * ((size + 7) // 8)
    for offset, leaf in _leaves(t, 0):
        leaf_size = byte_size(leaf)
        if leaf_size == 16 and is_float(leaf):  # long double: x87, in memory in aggregates
            return MEMORY if strip(t).kind not in _SCALARS else "X87"
        if leaf_size and offset % leaf_size:  # unaligned (packed): memory
            return MEMORY
        wanted = SSE if is_float(leaf) else INTEGER
        for index in range(offset // 8, (offset + max(leaf_size, 1) - 1) // 8 + 1):
            if classes[index] != INTEGER:  # __int128 spans two eightbytes
                classes[index] = wanted
    return [c or SSE for c in classes]  # padding only: gdb's NO_CLASS, SSE at the end


def _leaves(t: Type, offset: int):
    """``(offset, scalar type)`` of every scalar inside ``t``."""
    s = strip(t)
    if s.kind in ("struct", "union"):
        for m in s.members:
            yield from _leaves(m.type, offset + m.offset)
    elif s.kind == "array":
        step = byte_size(s.target)
        for i in range(s.count or 0):
            yield from _leaves(s.target, offset + i * step)
    else:
        yield offset, s


def return_value(t: Type, registers: dict[int, int], regs: RegisterMap,
                 fpregs: bytes | None = None,
                 read: Callable[[int, int], bytes] | None = None) -> Value:
    """The value of type ``t`` a function just returned, from the registers at its
    return: ``registers`` by DWARF number, ``fpregs`` the FXSAVE area (SSE and x87
    values), ``read`` the memory (values returned through it)."""
    s = strip(t)
    size = byte_size(s)
    if regs.arch != "x86_64" or 0 not in registers or \
            s.kind not in (*_SCALARS, "struct", "union", "array"):
        return Value(t, optimized_out=True)
    classes = classify(s)
    if classes == MEMORY:
        if read is None:
            return Value(t, optimized_out=True)
        return at_address(t, registers[0], read)
    if classes == "X87":
        if fpregs is None:
            return Value(t, optimized_out=True)
        return Value(t, bytes(fpregs[_ST0:_ST0 + 10]) + bytes(size - 10))
    if s.kind in _SCALARS and classes == [INTEGER]:
        return from_int(t, registers[0])
    integers = [registers.get(0), registers.get(1)]  # rax, rdx (DWARF 0 and 1)
    vectors = [] if fpregs is None else \
        [bytes(fpregs[_XMM0 + 16 * i:_XMM0 + 16 * i + 8]) for i in range(2)]
    data = b""
    for kind in classes:
        if kind == INTEGER:
            word = integers.pop(0)
            if word is None:
                return Value(t, optimized_out=True)
            data += word.to_bytes(8, "little")
        else:
            if not vectors:
                return Value(t, optimized_out=True)
            data += vectors.pop(0)
    return Value(t, data[:size])
