"""Values and frames printed as gdb 13 prints them (``print``, ``info locals``, ``bt``).

The defaults are gdb's: ``print elements 200``, ``print repeats 10`` (a run
longer than 10 becomes ``<repeats N times>``), ``print symbol on`` (a pointer
into a symbol shows ``<sym+off>``), ``print frame-arguments scalars`` in
``bt`` (aggregates print as ``...``), and a pointer's type in parentheses only
at the top level (``(int *) 0x...`` but ``{p = 0x...}`` inside a struct).
``/FMT`` letters: x d u o t c a z s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .types import (
    Type,
    byte_size,
    is_char,
    is_float,
    strip,
    type_name,
)
from .values import MemoryReader, SourceError, Value, element_value, member_value

REPEAT_THRESHOLD = 10
PRINT_ELEMENTS = 200
_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v",
            27: "\\033"}


@dataclass
class Printer:
    """How to print: memory for ``char *`` strings, symbols for ``<sym>``."""

    read: MemoryReader | None = None
    symbolize: Callable[[int], str | None] = lambda address: None

    def value(self, v: Value, fmt: str = "", top: bool = True) -> str:
        """The text after ``$1 = ``."""
        if v.optimized_out:
            return "<optimized out>"
        s = strip(v.type)
        if v.partly_optimized_out and s.kind not in ("struct", "union", "array"):
            return "<optimized out>"
        if s.kind == "struct" or s.kind == "union":
            return self._struct(v, fmt)
        if s.kind == "array":
            return self._array(v, fmt)
        if s.kind == "function":
            symbol = self.symbolize(v.address or 0)
            where = f"{v.address or 0:#x}" + (f" <{symbol}>" if symbol else "")
            return "{" + type_name(v.type) + "} " + where
        if fmt and fmt not in "s":
            return self._formatted(v, fmt)
        if s.kind == "pointer":
            return self._pointer(v, top)
        if s.kind == "enum":
            return _enum(s, v.as_int())
        if s.kind == "base" and s.encoding == "boolean":
            number = v.as_int()
            return {0: "false", 1: "true"}.get(number, str(number))
        if is_float(s):
            return _float(v.as_float(), v.data, v.order)
        if is_char(s):
            number = v.as_int()
            return f"{number} {_char_literal(number & 0xFF)}"
        if s.kind == "void":
            return "void"
        return str(v.as_int())

    def _formatted(self, v: Value, fmt: str) -> str:
        s = strip(v.type)
        size = byte_size(s) or 8
        # gdb 13 formats a float's bytes under /x, not its value converted
        number = int.from_bytes(v.data, v.order) if is_float(s) else v.as_int()
        unsigned = number & ((1 << (8 * size)) - 1)
        if fmt == "x":
            return hex(unsigned)
        if fmt == "z":
            return "0x" + format(unsigned, f"0{2 * size}x")
        if fmt == "o":
            return "0" + format(unsigned, "o") if unsigned else "0"
        if fmt == "t":
            return format(unsigned, "b")
        if fmt == "d":
            return str(unsigned - (1 << (8 * size)) if unsigned >> (8 * size - 1) else unsigned)
        if fmt == "u":
            return str(unsigned)
        if fmt == "c":
            byte = unsigned & 0xFF
            signed = byte - 256 if byte > 127 else byte
            return f"{signed} {_char_literal(byte)}"
        if fmt == "a":
            symbol = self.symbolize(unsigned)
            return hex(unsigned) + (f" <{symbol}>" if symbol else "")
        raise SourceError(f"Undefined output format \"{fmt}\".")

    def _pointer(self, v: Value, top: bool) -> str:
        target = strip(v.type).target
        address = v.as_int() & ((1 << 64) - 1)
        if target is not None and is_char(target) and strip(target).kind == "base":
            return f"{address:#x}" + (" " + self.string_at(address) if address else "")
        symbol = self.symbolize(address) if address else None
        text = f"{address:#x}" + (f" <{symbol}>" if symbol else "")
        return f"({type_name(v.type)}) {text}" if top else text

    def string_at(self, address: int) -> str:
        """The C string at ``address`` as gdb quotes it (``x/s``, ``char *``): escapes,
        repeats, ``...`` past 200 characters, or ``<error: Cannot access memory ...>``."""
        if self.read is None:
            return ""
        data = b""
        try:
            while len(data) < PRINT_ELEMENTS:
                chunk = self.read(address + len(data), min(64, PRINT_ELEMENTS - len(data)))
                if not chunk:
                    break
                nul = chunk.find(b"\0")
                if nul >= 0:
                    return _string_segments(data + chunk[:nul], False)
                data += chunk
        except OSError:
            if not data:
                return f"<error: Cannot access memory at address {address:#x}>"
        return _string_segments(data[:PRINT_ELEMENTS], True)

    def _struct(self, v: Value, fmt: str) -> str:
        parts = []
        for m in strip(v.type).members:
            text = self.value(member_value(v, m), fmt, top=False)
            parts.append(f"{m.name} = {text}" if m.name else text)
        return "{" + ", ".join(parts) + "}"

    def _array(self, v: Value, fmt: str) -> str:
        s = strip(v.type)
        count = s.count or 0
        if is_char(s.target) and fmt in ("", "s") and not v.partly_optimized_out:
            data = v.data[:count]
            if data.endswith(b"\0"):  # gdb drops one trailing NUL of a char array
                data = data[:-1]
            limited = data[:PRINT_ELEMENTS]
            return _string_segments(limited, len(data) > PRINT_ELEMENTS) if limited else '""'
        items = [self.value(element_value(v, i), fmt, top=False)
                 for i in range(min(count, PRINT_ELEMENTS))]
        return "{" + _with_repeats(items) + ("..." if count > PRINT_ELEMENTS else "") + "}"


def _with_repeats(items: list[str]) -> str:
    parts, i = [], 0
    while i < len(items):
        j = i
        while j < len(items) and items[j] == items[i]:
            j += 1
        if j - i > REPEAT_THRESHOLD:
            parts.append(f"{items[i]} <repeats {j - i} times>")
            i = j
        else:
            parts.append(items[i])
            i += 1
    return ", ".join(parts)


def _string_segments(data: bytes, truncated: bool) -> str:
    """gdb's generic_printstr: quoted runs, long repeats as ``'c' <repeats N times>``."""
    parts, run, i = [], "", 0
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i]:
            j += 1
        if j - i > REPEAT_THRESHOLD:
            if run:
                parts.append('"' + run + '"')
                run = ""
            parts.append(f"{_char_literal(data[i])} <repeats {j - i} times>")
            i = j
            continue
        run += _escape(data[i], '"', data[i + 1] if i + 1 < len(data) else None)
        i += 1
    if run or not parts:
        parts.append('"' + run + '"')
    return ", ".join(parts) + ("..." if truncated else "")


def _escape(byte: int, quote: str, following: int | None = None) -> str:
    if byte in _ESCAPES:
        return _ESCAPES[byte]
    if chr(byte) == quote or byte == 0x5C:
        return "\\" + chr(byte)
    if 0x20 <= byte < 0x7F:
        return chr(byte)
    return f"\\{byte:03o}"


def _char_literal(byte: int) -> str:
    return "'" + _escape(byte, "'") + "'"


def _enum(t: Type, number: int) -> str:
    for name, value in t.enumerators:
        if value == number:
            return name
    values = [value for _, value in t.enumerators]
    flag = values and all(v > 0 and v & (v - 1) == 0 for v in values)
    if flag and number > 0:  # gdb's flag enums: (A | B | unknown: 0x8)
        names, rest = [], number
        for name, value in t.enumerators:
            if rest & value:
                names.append(name)
                rest &= ~value
        if rest:
            names.append(f"unknown: {rest:#x}")
        return "(" + " | ".join(names) + ")"
    return str(number)


def _float(number: float, data: bytes, order: str = "little") -> str:
    size = len(data)
    if math.isnan(number):  # gdb shows the mantissa bits: nan(0x8000000000000)
        raw = int.from_bytes(data, order)
        bits = 23 if size == 4 else 52 if size == 8 else 63
        sign = "-" if raw >> (8 * min(size, 10) - 1) & 1 else ""
        return f"{sign}nan({raw & ((1 << bits) - 1):#x})"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    digits = 9 if size == 4 else 17 if size == 8 else 18  # gdb: %g with DIG+3 digits
    return f"{number:.{digits}g}"


# -- frames ---------------------------------------------------------------------------------

def frame_arguments(frame, printer: Printer) -> str:
    """``n=5, s=0x... "hi"`` as ``bt`` shows them: aggregates as ``...``
    (``print frame-arguments scalars``) and, as ``print entry-values default``,
    ``n=n@entry=5`` when the caller's value is known and equal, ``n=4, n@entry=5``
    when it differs."""
    parts = []
    for var, value in frame.arguments():
        s = strip(var.type)
        if s.kind in ("struct", "union", "array") and not value.optimized_out:
            parts.append(f"{var.name}=...")
            continue
        text = printer.value(value, top=False)
        entry = frame.entry_value_of(var)
        if entry is None or entry.optimized_out:
            parts.append(f"{var.name}={text}")
        elif not value.optimized_out and entry.data == value.data:
            parts.append(f"{var.name}={var.name}@entry={text}")
        else:
            parts.append(f"{var.name}={text}, {var.name}@entry="
                         f"{printer.value(entry, top=False)}")
    return ", ".join(parts)


def frame_line(frame, printer: Printer) -> str:
    """One ``bt`` line: ``#1  0x0000555555555163 in fact (n=1) at t.c:3``."""
    head = f"#{frame.level:<2} "
    if frame.state.signal_trampoline:
        return head + "<signal handler called>"
    fn = frame.function
    line = frame.line
    # gdb shows the pc unless it is the first instruction of a statement's row
    # (frame_show_address: pc != sal.pc || !sal.is_stmt); a frame whose callee was
    # inlined stands at the call's line, and shows no pc
    show_address = frame.callee_inline is None and (
        frame.level > 0 and not frame.state.exact_pc or line is None or
        line.start != frame.pc or not line.is_stmt)
    address = f"0x{frame.pc:016x} in " if show_address else ""
    image = frame.image
    # gdb names the shared library of a frame without line info (not the program)
    library = image is not None and image is not frame.program.images[0]
    where = f" from {image.name}" if library and line is None else ""
    if fn is None:
        symbol = printer.symbolize(frame.state.lookup_pc)
        name = symbol.split("+")[0] if symbol else "??"
        return f"{head}{address}{name} (){where}"
    text = f"{head}{address}{frame.name} ({frame_arguments(frame, printer)})"
    if line is not None:
        text += f" at {line.file}:{line.line}"
    return text + where


NO_SYMBOLS = "No symbol table info available."


def info_locals(frame, printer: Printer) -> list[str]:
    """gdb: no block at all (no unit covers the pc) is "no symbol table", a unit
    without a function there (glibc's ``__restore_rt``) just has no locals."""
    image = frame.image
    if image is None or not image.debug.has_dwarf or image.debug.unit_at(frame.file_pc) is None:
        return [NO_SYMBOLS]
    found = frame.locals()
    if not found:
        return ["No locals."]
    return [f"{var.name} = {printer.value(value, top=False)}" for var, value in found]


def info_args(frame, printer: Printer) -> list[str]:
    if frame.function is None:  # gdb asks for the function here, not the block
        return [NO_SYMBOLS]
    found = frame.arguments()
    if not found:
        return ["No arguments."]
    return [f"{var.name} = {printer.value(value, top=False)}" for var, value in found]

