"""How strace spells values: quoted strings, numbers, flag sets, addresses.

Behaviour follows strace 6.x (its ``string_quote`` and ``printflags``),
written here from its documented output; nothing here reads memory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PLAIN = re.compile(rb'[ !#-\[\]-~]*')  # printable ASCII but " and \\
_ESCAPES = {0x22: '\\"', 0x5C: "\\\\", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t",
            0x0B: "\\v"}


def quote(data: bytes, hex_strings: int = 0, force_hex: bool = False,
          lookahead: bytes = b"") -> str:
    """``data`` as strace quotes it (the quotes included, no ellipsis).

    ``hex_strings`` is -x (1: the whole string in \\x if any byte is neither
    printable nor white space) or -xx (2: always).  ``lookahead`` is the byte
    after the shown part: an octal escape stays 3 digits long before a digit.
    """
    if not force_hex and hex_strings < 2 and _PLAIN.fullmatch(data):
        return '"' + data.decode("ascii") + '"'  # the common case: nothing to escape
    if force_hex or hex_strings >= 2 or (hex_strings == 1 and any(
            b > 0x7E or (b < 0x20 and not 9 <= b <= 13) for b in data)):
        return '"' + "".join(f"\\x{b:02x}" for b in data) + '"'
    out = []
    following = data[1:] + lookahead[:1]
    for i, b in enumerate(data):
        if b in _ESCAPES:
            out.append(_ESCAPES[b])
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            nxt = following[i] if i < len(following) else None
            if nxt is not None and 0x30 <= nxt <= 0x37:
                out.append(f"\\{b:03o}")
            else:
                out.append(f"\\{b:o}")
    return '"' + "".join(out) + '"'


def address(value: int) -> str:
    """A pointer: NULL or hex."""
    return "NULL" if value == 0 else f"{value:#x}"


def signed(value: int, bits: int = 32) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def flags(value: int, table: Sequence[tuple[int, str]], zero: str = "0") -> str:
    """``A|B|0x40``: the names of the bits set, in the table's order, then the rest in hex.

    A table entry may cover several bits (``MAP_SHARED_VALIDATE``): it
    matches when all its bits are set and none of them was named yet.
    """
    if value == 0:
        return zero
    names = []
    rest = value
    for bits, name in table:
        if bits and value & bits == bits and rest & bits == bits:
            names.append(name)
            rest &= ~bits
    if rest:
        names.append(f"{rest:#x}")
    return "|".join(names)


def lookup(value: int, table: dict[int, str], unknown: str = "{:#x}") -> str:
    """A named constant, or the number as strace shows an unknown one (``/* X_??? */``)."""
    name = table.get(value)
    return name if name is not None else unknown.format(value)
