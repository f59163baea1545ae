"""Where a function's return value is when it returns (``finish``'s "Value returned").

The x86_64 System V ABI (section 3.2.3): integer-class scalars — integers,
enums, ``_Bool``, characters, pointers — come back in ``rax``, a 9 to 16 byte
one in ``rax`` then ``rdx``.  Floating point (``xmm0``) and aggregates
(classified field by field, or returned through memory) are not answered:
the value is ``<optimized out>`` rather than a guess.
"""

from __future__ import annotations

from .regs import RegisterMap
from .types import Type, byte_size, is_float, strip
from .values import Value, from_int

_INTEGER_CLASS = ("base", "enum", "pointer")


def return_value(t: Type, registers: dict[int, int], regs: RegisterMap) -> Value:
    """The value of type ``t`` a function just returned, from the registers at its return."""
    s = strip(t)
    size = byte_size(s)
    if regs.arch != "x86_64" or s.kind not in _INTEGER_CLASS or is_float(s) or size > 16 \
            or 0 not in registers:
        return Value(t, optimized_out=True)
    if size <= 8:
        return from_int(t, registers[0])
    if 1 not in registers:
        return Value(t, optimized_out=True)
    return Value(t, registers[0].to_bytes(8, "little") + registers[1].to_bytes(8, "little")
                 [:size - 8])
