"""gdb's ``printf "FORMAT", ARG...``: C conversions over evaluated values.

As gdb's printf_command: the format is a C string literal; each conversion
takes one argument, an expression evaluated in the scope; ``%d``/``%i`` read
the value as a C ``int`` (``%ld``, ``%lld``, ``%zd`` as ``long``, ``%hd`` as
``short``; ``%hh`` and ``%a`` are not gdb's), ``%u %o %x %X %c`` likewise
unsigned; ``%s`` reads the NUL-terminated string a ``char *`` points to (or a ``char`` array
holds); ``%p`` is ``0x...`` (``(nil)`` for 0, as glibc); ``%f %e %g %E %G``
take a float or double (an integer's bytes are read as the float of its size,
as gdb does: ``printf "%f", 42`` is ``0.000000``).  Flags, width and
precision are C's.  The errors are gdb's words.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from .types import is_float, strip_qualifiers
from .values import MemoryReader, SourceError, Value

_CONVERSION = re.compile(r"%(?P<flags>[-+ #0]*)(?P<width>\d+|\*)?(?:\.(?P<precision>\d+|\*))?"
                         r"(?P<length>h|ll|l|L|z)?(?P<kind>[diouxXcspfeEgG%])")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "a": "\a", "b": "\b", "f": "\f",
            "r": "\r", "v": "\v", "e": "\x1b", "'": "'"}
_INT_BITS = {None: 32, "h": 16, "l": 64, "ll": 64, "z": 64, "L": 64}
STRING_LIMIT = 1 << 16  # bytes a %s reads at most (gdb reads to the NUL)


def split_arguments(text: str) -> tuple[str, list[str]]:
    """``"x=%d\\n", a[1], f(b, c)`` -> the format's text (escapes decoded) and the
    argument expressions (commas inside brackets, parentheses and quotes kept)."""
    text = text.strip()
    if not text.startswith('"'):
        raise SourceError("Bad format string, missing '\"'")
    out, at = [], 1
    while at < len(text) and text[at] != '"':
        char = text[at]
        if char == "\\" and at + 1 < len(text):
            at, decoded = _escape(text, at + 1)
            out.append(decoded)
            continue
        out.append(char)
        at += 1
    if at >= len(text):
        raise SourceError("Bad format string, non-terminated '\"'")
    rest = text[at + 1:].strip()
    if rest and not rest.startswith(","):
        raise SourceError("Invalid argument syntax")
    return "".join(out), _top_level_split(rest[1:]) if rest else []


def _escape(text: str, at: int) -> tuple[int, str]:
    char = text[at]
    if char in _ESCAPES:
        return at + 1, _ESCAPES[char]
    octal = re.match(r"[0-7]{1,3}", text[at:])
    if octal:
        return at + len(octal[0]), chr(int(octal[0], 8))
    raise SourceError(f"Unrecognized escape character \\{char} in format string.")


def _top_level_split(text: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    if any(not p for p in parts):
        raise SourceError("Invalid argument syntax")
    return parts


def format_values(fmt: str, values: list[Value], read: MemoryReader) -> str:
    """The text of ``fmt`` with each conversion filled by the next of ``values``."""
    pieces = _pieces(fmt)
    conversions = [p for p in pieces if isinstance(p, re.Match) and p["kind"] != "%"]
    if any("*" in (m["width"] or "") + (m["precision"] or "") for m in conversions):
        raise SourceError("`*' not supported for precision or width in printf")
    if len(conversions) != len(values):
        raise SourceError("Wrong number of arguments for specified format-string")
    taken = iter(values)
    return "".join(p if isinstance(p, str) else "%" if p["kind"] == "%"
                   else _one(p, next(taken), read) for p in pieces)


def _pieces(fmt: str) -> list:
    """Literal text and conversion matches, in order."""
    pieces: list = []
    at = 0
    while (start := fmt.find("%", at)) >= 0:
        pieces.append(fmt[at:start])
        m = _CONVERSION.match(fmt, start)
        if m is None:
            bad = re.match(r"%[-+ #0\d.*]*(?:ll|l|L|z|h)?(.?)", fmt[start:])[1]
            raise SourceError(f"Unrecognized format specifier '{bad}' in printf")
        pieces.append(m)
        at = m.end()
    pieces.append(fmt[at:])
    return pieces


def _one(m: re.Match, value: Value, read: MemoryReader) -> str:
    kind = m["kind"]
    spec = "%" + m["flags"] + (m["width"] or "") + \
        ("." + m["precision"] if m["precision"] is not None else "")
    if kind == "s":
        return (spec + "s") % _string(value, read)
    if kind == "p":
        address = value.as_int()
        return (spec + "s") % (f"{address:#x}" if address else "(nil)")
    if kind in "feEgG":
        return (spec + kind) % _as_double(value)
    bits = _INT_BITS[m["length"]]
    number = value.as_int() & ((1 << bits) - 1)
    if kind in "di" and number >> (bits - 1):
        number -= 1 << bits
    if kind == "c":
        return (spec + "c") % chr(number & 0xFF)
    return (spec + ("d" if kind == "u" else kind)) % number


def _as_double(value: Value) -> float:
    """gdb's printf_floating: a value that is not a float is *reinterpreted* as the
    float of its size (``printf "%f", 42`` is 0.000000), not converted."""
    if is_float(value.type):
        return value.as_float()
    data = value.data
    if len(data) == 4:
        return struct.unpack(("<" if value.order == "little" else ">") + "f", data)[0]
    if len(data) == 8:
        return struct.unpack(("<" if value.order == "little" else ">") + "d", data)[0]
    raise SourceError("Value can't be converted to float.")


def _string(value: Value, read: MemoryReader) -> str:
    t = strip_qualifiers(value.type)
    if t.kind == "array":
        data = value.data
    elif value.as_int() == 0:
        return "(null)"  # glibc's printf, which gdb's calls
    else:
        data = _read_c_string(value.as_int(), read)
    return data.split(b"\0", 1)[0].decode("latin-1")


def _read_c_string(address: int, read: Callable[[int, int], bytes]) -> bytes:
    data = b""
    while len(data) < STRING_LIMIT:
        try:
            chunk = read(address + len(data), 64)
        except OSError:
            if not data:
                raise SourceError(f"Cannot access memory at address {address:#x}") from None
            chunk = b""
            for offset in range(64):  # the string may end just before unmapped memory
                try:
                    chunk += read(address + len(data) + offset, 1)
                except OSError:
                    break
            if not chunk:
                return data
        data += chunk
        if b"\0" in chunk:
            return data
    return data
