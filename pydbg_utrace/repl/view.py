"""What the user sees: the context view after a stop, registers, memory, code.

Pure formatting over values the session hands in; nothing here moves the
program.  Plain text that fits 80 columns; colour (changed registers, the
current instruction) only when the output is a terminal.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

from .engine import Stop

WIDTH = 80
# The registers worth a glance, per arch; `info registers` shows them all.
CONTEXT_REGISTERS = {
    "x86_64": ("rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip "
               "eflags").split(),
}


class Style:
    """ANSI emphasis, or a ``*`` marker where there is no terminal."""

    def __init__(self, color: bool):
        self.color = color

    def mark(self, label: str, changed: bool) -> str:
        """``label`` plus one column: highlighted (or ``*``) if the value changed."""
        if not changed:
            return label + " "
        return f"\x1b[1;31m{label}\x1b[0m " if self.color else label + "*"

    def bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if self.color else text


def rule(title: str) -> str:
    title = f"[ {title} ]"
    return f"{'-' * 4}{title}{'-' * max(0, WIDTH - 4 - len(title))}"


def register_grid(values: dict[str, int], previous: dict[str, int], style: Style,
                  width: int = 16) -> list[str]:
    """Registers three to a line (79 columns); those changed since the last stop marked."""
    cells = []
    for name, value in values.items():
        changed = name in previous and previous[name] != value
        cells.append(f"{style.mark(f'{name:>6}', changed)}{value:#0{width + 2}x}")
    return ["  ".join(cells[i:i + 3]) for i in range(0, len(cells), 3)]


# gdb's `info registers` on x86_64: its order (the general group: no orig_rax, and
# fs_base/gs_base only by name; gdb then shows the AVX-512 k0-k7 where the CPU has
# them, which we do not read), and the registers whose natural column is not a number.
X86_64_GENERAL = ("rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags "
                  "cs ss ds es fs gs").split()
_CODE_POINTERS = {"rip", "pc"}
_DATA_POINTERS = {"rsp", "rbp", "sp"}
# i386_eflags_type: bit -> name (bit 1 is reserved, always set, never shown)
_EFLAGS = {0: "CF", 2: "PF", 4: "AF", 6: "ZF", 7: "SF", 8: "TF", 9: "IF", 10: "DF", 11: "OF",
           14: "NT", 16: "RF", 17: "VM", 18: "AC", 19: "VIF", 20: "VIP", 21: "ID"}


def register_line(name: str, value: int, describe: Callable[[int], str] | None = None) -> str:
    """gdb's ``info registers`` line: the name, the hex value from column 15 and
    the natural one from column 35 (gdb's pad_to_column: at least one space).
    The natural value: ``0x1139 <main+4>`` for the pc, hex for the stack and
    frame pointers, ``[ ZF PF IF ]`` for eflags, a signed number otherwise."""
    if name in _CODE_POINTERS:
        where = describe(value) if describe is not None else ""
        natural = f"{value:#x}" + (f" {where}" if where else "")
    elif name in _DATA_POINTERS:
        natural = f"{value:#x}"
    elif name == "eflags":
        natural = "[ " + "".join(f"{flag} " for bit, flag in _EFLAGS.items()
                                 if value >> bit & 1) + "]"
    else:
        natural = str(value if value < 1 << 63 else value - (1 << 64))
    head = f"{name} ".ljust(15)
    return f"{head}{f'{value:#x} '.ljust(20)}{natural}"


# -- x/FMT -------------------------------------------------------------------------------
UNIT_SIZES = {"b": 1, "h": 2, "w": 4, "g": 8}
_STRUCT = {1: "B", 2: "H", 4: "I", 8: "Q"}


def examine_lines(data: bytes, address: int, fmt: str, unit: str, byteorder: str,
                  describe: Callable[[int], str]) -> list[str]:
    """gdb's ``x`` output for numeric formats (x d u o t c a): one line per row."""
    size = UNIT_SIZES[unit]
    per_line = {1: 8, 2: 8, 4: 4, 8: 2}[size]
    prefix = "<" if byteorder == "little" else ">"
    values = struct.unpack(f"{prefix}{len(data) // size}{_STRUCT[size]}", data)
    lines = []
    for row in range(0, len(values), per_line):
        at = address + row * size
        label = f"{at:#x}{(' ' + describe(at)) if describe(at) else ''}:"
        cells = [format_unit(v, fmt, size) for v in values[row:row + per_line]]
        if fmt == "a":  # gdb names what an address points into: 0x555555555169 <add>
            cells = [f"{cell} {describe(v)}".rstrip()
                     for cell, v in zip(cells, values[row:row + per_line], strict=True)]
        lines.append(label + "\t" + "\t".join(cells))
    return lines


def format_unit(value: int, fmt: str, size: int) -> str:
    bits = 8 * size
    signed = value - (1 << bits) if value >> (bits - 1) else value
    if fmt == "x":
        return f"{value:#0{2 + 2 * size}x}"
    if fmt == "d":
        return str(signed)
    if fmt == "u":
        return str(value)
    if fmt == "o":
        return f"0{value:o}" if value else "0"
    if fmt == "t":
        return f"{value:0{bits}b}"
    if fmt == "c":
        return f"{signed} {_char(value & 0xFF)}"
    if fmt == "a":
        return f"{value:#x}"
    raise ValueError(f"unknown format {fmt!r}")


def _char(byte: int) -> str:
    named = {0: "\\000", 9: "\\t", 10: "\\n", 13: "\\r", 39: "\\'", 92: "\\\\"}
    if byte in named:
        return f"'{named[byte]}'"
    return f"'{chr(byte)}'" if 32 <= byte < 127 else f"'\\{byte:03o}'"


def c_string(data: bytes, complete: bool) -> str:
    text = "".join(
        chr(b) if 32 <= b < 127 and b not in (34, 92) else
        {10: "\\n", 9: "\\t", 34: '\\"', 92: "\\\\"}.get(b, f"\\{b:03o}")
        for b in data)
    return f'"{text}"' + ("" if complete else "...")


# -- stops -----------------------------------------------------------------------------
def stop_reason(stop: Stop, thread_number: int, syscall_text: str = "") -> str:
    """The one line that says why we are at the prompt."""
    where = f"Thread {thread_number} ({stop.tid})"
    catch = stop.extra.get("catchpoint")
    if stop.reason == "catch-syscall":
        return f"Catchpoint {catch} (call to syscall {stop.detail}), {where}: {syscall_text}"
    if stop.reason == "syscall-entry":
        return f"Syscall entry, {where}: {syscall_text}"
    if stop.reason == "syscall-exit":
        return f"Syscall exit, {where}: {syscall_text}"
    if stop.reason == "signal":
        return f"{where} received signal {stop.detail}."
    if stop.reason in ("fork", "clone", "exec"):
        return f"Catchpoint {catch} ({stop.reason}), {where}: {stop.detail}".rstrip(": ")
    if stop.reason == "watchpoint":
        return f"{stop.detail}\n{where}"
    if stop.reason == "breakpoint":
        return f"{stop.detail}, {where}"
    text = {"step": "Stepped", "interrupt": "Interrupted", "attached": "Attached",
            "started": "Program started, stopped at its first instruction"}
    if stop.reason == "interrupt" and stop.detail:  # a long step: how far it got
        return f"Interrupted {stop.detail}, {where}"
    return f"{text.get(stop.reason, stop.reason)}, {where}"


def context_view(header: str, registers: dict[str, int], previous: dict[str, int],
                 code: Iterable[str], style: Style) -> str:
    lines = [rule("registers"), *register_grid(registers, previous, style),
             rule("code"), *code, rule("stop"), style.bold(header)]
    return "\n".join(lines)
