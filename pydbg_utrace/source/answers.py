"""gdb's answers as text: what ``print``, ``ptype``, ``whatis``, ``info line``,
``break FILE:LINE``, ``bt``, ``frame N``, ``info locals``/``info args`` print.

The REPL's commands call these with a scope (:mod:`scope`) and a
:class:`~pydbg_utrace.source.format.Printer`; each returns the lines gdb would
print (errors are :class:`SourceError` with gdb's one-line wording).
"""

from __future__ import annotations

import os

from .debuginfo import DebugInfo
from .evaluate import Scope, evaluate, type_from_text
from .format import Printer, frame_line, info_args, info_locals
from .frames import SourceFrame
from .lines import same_file
from .listing import Lister, source_path
from .scope import History
from .types import ptype_text, strip, type_name
from .values import SourceError


def print_value(expression: str, scope: Scope, printer: Printer, history: History,
                fmt: str = "") -> str:
    """``print[/FMT] EXPR``: ``$N = TEXT`` (void values are not recorded, as in gdb)."""
    value = evaluate(expression, scope)
    if strip(value.type).kind == "void" and not value.data:
        return "$" + str(history.add(value)) + " = void"
    return f"${history.add(value)} = {printer.value(value, fmt)}"


def whatis(expression: str, scope: Scope) -> str:
    """``whatis``: a typedef name loses one level, as in gdb; an expression's type."""
    t = type_from_text(expression, scope)
    if t is not None:
        return "type = " + type_name(t.target if t.kind == "typedef" and t.target else t)
    return "type = " + type_name(evaluate(expression, scope).type)


def ptype(expression: str, scope: Scope) -> str:
    t = type_from_text(expression, scope)
    if t is None:
        t = evaluate(expression, scope).type
    return "type = " + ptype_text(t)


def info_line(debug: DebugInfo, function: str, bias: int = 0, symbolize=None) -> str:
    """``info line FUNCTION``: the line holding the function's first instruction."""
    fn = debug.function_named(function)
    if fn is None:
        raise SourceError(f'Function "{function}" not defined.')
    address = fn.low
    found = debug.line_at(address)
    if found is None:
        raise SourceError(f'No line number information available for address {address:#x}')
    start, end = found.start + bias, found.end + bias
    return (f'Line {found.line} of "{found.file}" starts at address '
            f"{_with_symbol(start, symbolize)} and ends at {_with_symbol(end, symbolize)}.")


def _with_symbol(address: int, symbolize) -> str:
    name = symbolize(address) if symbolize is not None else None
    return f"{address:#x}" + (f" <{name}>" if name else "")


def break_line(debug: DebugInfo, file: str, line: int, number: int, bias: int = 0) -> str:
    """``break FILE:LINE``: ``Breakpoint N at 0x...: file F, line L.``"""
    actual, addresses = debug.line_addresses(file, line)
    if not addresses:
        raise SourceError(f'No line {line} in file "{file}".')
    found = debug.line_at(addresses[0])  # past a prologue the line may be a later one
    shown = found.file if found is not None else file
    actual = found.line if found is not None else actual
    if len(addresses) == 1:
        return f"Breakpoint {number} at {addresses[0] + bias:#x}: file {shown}, line {actual}."
    return f"Breakpoint {number} at {addresses[0] + bias:#x}: {shown}:{actual}. " \
        f"({len(addresses)} locations)"


def break_function(debug: DebugInfo, function: str, number: int, bias: int = 0) -> str:
    """``break FUNCTION``: past the prologue, ``Breakpoint N at 0x...: file F, line L.``"""
    fn = debug.function_named(function)
    if fn is None:
        raise SourceError(f'Function "{function}" not defined.')
    address = debug.after_prologue(fn)
    found = debug.line_at(address)
    if found is None:
        return f"Breakpoint {number} at {address + bias:#x}"
    return f"Breakpoint {number} at {address + bias:#x}: file {found.file}, line {found.line}."


def list_function(debug: DebugInfo, lister: Lister, function: str) -> list[str]:
    """``list FUNCTION``: ten lines around the function's opening line."""
    fn = debug.function_named(function)
    if fn is None:
        raise SourceError(f'Function "{function}" not defined.')
    found = debug.line_at(fn.low)
    if found is None:
        raise SourceError(f"No line number known for {function}.")
    return lister.around(_path_in_unit(debug, fn.low, found.file), found.file, found.line)


def list_lines(debug: DebugInfo, lister: Lister, file: str, first: int,
               last: int | None = None) -> list[str]:
    """``list FILE:LINE`` (ten lines around it) or ``list FIRST,LAST`` in ``file``."""
    for unit in debug.units_with_file(file):
        table = debug.line_table(unit)
        recorded = next((f for f in sorted(table.files) if same_file(f, file)), None)
        if recorded is not None:
            comp_dir = unit.top.attributes.get("DW_AT_comp_dir")
            path = source_path(recorded, comp_dir.value.decode() if comp_dir else None)
            if last is None:
                return lister.around(path, recorded, first)
            return lister.range(path, recorded, first, last)
    raise SourceError(f'No source file named {file}.')


def _path_in_unit(debug: DebugInfo, address: int, file: str) -> str:
    unit = debug.unit_at(address)
    comp_dir = unit.top.attributes.get("DW_AT_comp_dir") if unit is not None else None
    return source_path(file, comp_dir.value.decode(errors="replace") if comp_dir else None)


def backtrace(frames: list[SourceFrame], printer: Printer) -> list[str]:
    """``bt``: up to ``main`` (gdb's ``backtrace past-main off``)."""
    lines = []
    for frame in frames:
        lines.append(frame_line(frame, printer))
        if frame.inline is None and frame.name == "main":
            break
    return lines


def frame_header(frame: SourceFrame, printer: Printer) -> list[str]:
    """``frame N``/``up``/``down``: the frame line and its source line (gdb reports
    a missing source file on stderr, so then there is no second line)."""
    text = source_line(frame)
    return [frame_line(frame, printer)] + ([text] if text is not None else [])


def source_line(frame: SourceFrame) -> str | None:
    line = frame.line
    if line is None:
        return None
    path = line.file
    image = frame.image
    unit = image.debug.unit_at(frame.file_pc) if image is not None else None
    folder = unit.top.attributes.get("DW_AT_comp_dir") if unit is not None else None
    if folder is not None and not os.path.isabs(path):
        path = os.path.join(folder.value.decode(errors="replace"), path)
    try:
        with open(path, errors="replace") as f:
            text = f.read().splitlines()
        return f"{line.line}\t{text[line.line - 1]}"
    except (OSError, IndexError):
        return None


__all__ = ["backtrace", "break_function", "break_line", "frame_header", "info_args",
           "info_line", "info_locals", "list_function", "list_lines", "print_value", "ptype",
           "source_line", "whatis"]
