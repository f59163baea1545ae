"""Commands at the source level: values, types, frames, lines, as gdb words them.

Each is a thin call into :mod:`pydbg_utrace.source` through the context's
:class:`~pydbg_utrace.repl.sourcelevel.SourceLevel`; the texts are gdb 13's
(tests/test_repl_vs_gdb_live.py compares them with gdb's, line by line).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from pydbg_utrace.source import answers
from pydbg_utrace.source.evaluate import evaluate
from pydbg_utrace.source.format import NO_SYMBOLS, frame_arguments
from pydbg_utrace.source.frames import global_value
from pydbg_utrace.source.printf import format_values, split_arguments
from pydbg_utrace.source.unwind import FrameState, amd64_frame_base, saved_addresses
from pydbg_utrace.source.values import SourceError

from .asm import FLAVORS
from .commands import CommandError, command

if TYPE_CHECKING:
    from .context import Context

_FORMAT = re.compile(r"^/(?P<fmt>[a-z]+)\s*(?P<rest>.*)$", re.S)
PRINT_FORMATS = set("xduotacfszi")


def split_format(args: str) -> tuple[str, str]:
    """``"/x n + 1"`` -> ``("x", "n + 1")``; a count (``/2x``) is not for print."""
    found = _FORMAT.match(args.strip())
    if found is None:
        return "", args.strip()
    fmt = found["fmt"]
    if len(fmt) != 1 or fmt not in PRINT_FORMATS:
        raise CommandError(f"Undefined output format \"{fmt}\".")
    return fmt, found["rest"].strip()


# -- values -----------------------------------------------------------------------------------
@command("print", "print[/FMT] [EXPR]", aliases=("p", "inspect"), complete="symbols")
def print_(ctx: Context, args: str) -> None:
    """Show the value of a C expression as $N (the history).


    EXPR: variables of the selected frame, globals, $registers, $N history,
    casts, *, &, [], ., ->, sizeof, assignment.  FMT: x d u o t c a f s.
    """
    fmt, expression = split_format(args)
    source = ctx.source
    ctx.say(answers.print_value(expression or "$", source.scope(), source.printer(),
                                source.history, fmt))


@command("output", "output EXPR")
def output(ctx: Context, args: str) -> None:
    """Show an expression's value alone (no $N, no newline)."""
    fmt, expression = split_format(args)
    value = evaluate(expression, ctx.source.scope())
    ctx.out.write(ctx.source.printer().value(value, fmt))
    ctx.out.flush()


@command("printf", 'printf "FORMAT", EXPR...', complete="symbols")
def printf(ctx: Context, args: str) -> None:
    """Print values under C conversions (%d %s %f ...)."""
    fmt, expressions = split_arguments(args)
    scope = ctx.source.scope()
    values = [evaluate(text, scope) for text in expressions]
    ctx.out.write(format_values(fmt, values, ctx.source.read))
    ctx.out.flush()


@command("ptype", "ptype EXPR|TYPE", complete="symbols")
def ptype(ctx: Context, args: str) -> None:
    """The type of EXPR or TYPE, with struct and enum bodies."""
    if not args:
        raise CommandError("Argument required (one or more choice items).")
    ctx.say(answers.ptype(args, ctx.source.scope()))


@command("whatis", "whatis EXPR|TYPE", complete="symbols")
def whatis(ctx: Context, args: str) -> None:
    """The type of an expression or a type name.

    A typedef name loses one level, as in gdb."""
    if not args:
        raise CommandError("Argument required (one or more choice items).")
    ctx.say(answers.whatis(args, ctx.source.scope()))


@command("display", "display[/FMT] EXPR")
def display(ctx: Context, args: str) -> None:
    """Show EXPR now and at every stop (see `undisplay`)."""
    source = ctx.source
    if not args:
        for line in source.display_lines():
            ctx.say(line)
        return
    fmt, expression = split_format(args)
    number = source.add_display(fmt, expression)
    if ctx.session.alive:
        for line in source.display_lines([number]):
            ctx.say(line)


@command("undisplay", "undisplay [N...]")
def undisplay(ctx: Context, args: str) -> None:
    """Stop showing the displays N (all if none)."""
    try:
        numbers = [int(word) for word in args.split()]
    except ValueError:
        raise CommandError(f"Arguments must be display numbers: {args}") from None
    ctx.source.remove_displays(numbers)


@command("info display", "info display")
def info_display(ctx: Context, args: str) -> None:
    """The expressions shown at each stop."""
    displays = ctx.source.displays
    if not displays:
        ctx.say("There are no auto-display expressions now.")
        return
    ctx.say("Auto-display expressions now in effect:\nNum Enb Expression")
    for number, fmt, expression in displays:
        ctx.say(f"{number}:   y  {'/' + fmt + ' ' if fmt else ''}{expression}")


@command("info locals", "info locals")
def info_locals(ctx: Context, args: str) -> None:
    """The selected frame's local variables, innermost block first."""
    ctx.session.held_attachment()
    for line in answers.info_locals(ctx.source.frame(), ctx.source.printer()):
        ctx.say(line)


@command("info args", "info args")
def info_args(ctx: Context, args: str) -> None:
    """The selected frame's arguments."""
    ctx.session.held_attachment()
    for line in answers.info_args(ctx.source.frame(), ctx.source.printer()):
        ctx.say(line)


# -- frames -----------------------------------------------------------------------------------
@command("backtrace", "backtrace [full] [N]", aliases=("bt", "where"))
def backtrace(ctx: Context, args: str) -> None:
    """The call stack (DWARF CFI, then frame pointers).

    Then why it stops, if it does before the outermost frame.

    Up to `main`, as gdb; N limits it to the innermost N frames; `full`
    shows each frame's locals too.
    """
    words = args.split()
    full = "full" in words or "-full" in words
    counts = [w for w in words if w not in ("full", "-full")]
    if counts and not counts[0].isdigit():
        raise CommandError(f'No symbol "{counts[0]}" in current context.')
    ctx.session.held_attachment()
    frames, why = ctx.source.frames()
    printer = ctx.source.printer()
    lines = answers.backtrace(frames, printer)
    limit = int(counts[0]) if counts else None
    shown = lines if limit is None else lines[:limit]
    for frame, line in zip(frames, shown, strict=False):
        ctx.say(line)
        if full:  # gdb indents the values 8 columns, not its "No locals."
            for local in answers.info_locals(frame, printer):
                ctx.say(local if local in ("No locals.", NO_SYMBOLS) else " " * 8 + local)
    if len(shown) < len(lines) and ctx.interactive:  # gdb: only when typed (from_tty)
        ctx.say("(More stack frames follow...)")
    if why and limit is None and len(lines) == len(frames):
        ctx.say(why)


def _show_frame(ctx: Context, level: int) -> None:
    frame = ctx.source.select(level)
    for line in answers.frame_header(frame, ctx.source.printer()):
        ctx.say(line)
    ctx.source.list_around(frame)


def _steps(args: str) -> int:
    try:
        return int(args) if args.strip() else 1
    except ValueError:
        raise CommandError(f"Not a frame count: {args!r}") from None


@command("frame", "frame [N]", aliases=("f",))
def frame(ctx: Context, args: str) -> None:
    """Select frame N (0: innermost) and show it.

    `print` and `info locals` then see that frame."""
    ctx.session.held_attachment()
    level = ctx.source.selected if not args.strip() else _steps(args)
    _show_frame(ctx, level)


@command("up", "up [N]")
def up(ctx: Context, args: str) -> None:
    """Select the caller's frame (N frames up)."""
    ctx.session.held_attachment()
    frames, _ = ctx.source.frames()
    level = ctx.source.selected + _steps(args)
    if ctx.source.selected == len(frames) - 1:
        raise CommandError("Initial frame selected; you cannot go up.")
    _show_frame(ctx, min(level, len(frames) - 1))


@command("down", "down [N]")
def down(ctx: Context, args: str) -> None:
    """Select the callee's frame (N frames down)."""
    ctx.session.held_attachment()
    if ctx.source.selected == 0:
        raise CommandError("Bottom (innermost) frame selected; you cannot go down.")
    _show_frame(ctx, max(ctx.source.selected - _steps(args), 0))


@command("info frame", "info frame")
def info_frame(ctx: Context, args: str) -> None:
    """The selected frame: its pc, caller, CFA, arguments' base and saved registers."""
    ctx.session.held_attachment()
    source = ctx.source
    frame = source.frame()
    frames, _ = source.frames()
    printer = source.printer()
    regs = source.regmap
    cfa = frame.unwinder.cfa_of(frame.state)
    at = f"{cfa:#x}" if cfa is not None else "?"
    line = frame.line
    where = f" in {frame.name or '??'}" + (f" ({line.file}:{line.line})" if line else "")
    ctx.say(f"Stack level {frame.level}, frame at {at}:")
    caller = frame.caller
    # main's caller is not a frame of bt (backtrace past-main off), but its pc is known
    above = caller.state if caller is not None else frame.unwinder.caller(frame.state)
    saved = f"; saved {regs.pc_name} = {above.pc:#x}" if isinstance(above, FrameState) else ""
    ctx.say(f" {regs.pc_name} = {frame.pc:#x}{where}{saved}")
    links = []
    if caller is not None and frame.level < len(frames) - 1:  # none above main
        links.append(f"called by frame at {_frame_at(caller)}")
    if frame.level > 0:
        links.append(f"caller of frame at {_frame_at(frames[frame.level - 1])}")
    if links:
        ctx.say(" " + ", ".join(links))
    if line is not None:
        ctx.say(f" source language {_language(frame)}.")
    argv = frame_arguments(frame, printer)  # with name@entry, as bt
    base = _frame_base(ctx, frame)
    ctx.say(f" Arglist at {base}, args: {argv}")
    ctx.say(f" Locals at {base}, Previous frame's sp is {at}")
    saved_at = saved_addresses(frame.unwinder, frame.state)
    order = GDB_ORDER.get(regs.arch)
    numbers = sorted((n for n in saved_at if n != regs.sp and n in regs.names),
                     key=lambda n: order.index(regs.names[n]) if order and regs.names[n] in order
                     else 1000 + n)
    if numbers:
        ctx.say(" Saved registers:")
        ctx.say(" " + ",".join(f" {regs.names[n]} at {saved_at[n]:#x}" for n in numbers))


#: gdb's register numbering (the order of "Saved registers"), where it is not DWARF's
GDB_ORDER = {"x86_64": ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                        *(f"r{n}" for n in range(8, 16)), "rip", "eflags"]}


def _language(frame) -> str:
    """gdb's name of the unit's DW_AT_language: asm for assembler sources, else c."""
    image = frame.image
    unit = image.debug.unit_at(frame.file_pc) if image is not None else None
    attribute = unit.top.attributes.get("DW_AT_language") if unit is not None else None
    return "asm" if attribute is not None and attribute.value == 0x8001 else "c"


def _frame_base(ctx: Context, frame) -> str:
    """gdb's "Arglist at": on x86_64 amd64_frame_base (rbp once the frame is set
    up, else rsp less the pushes to come); elsewhere the CFA."""
    regs = ctx.source.regmap
    registers = frame.state.registers
    found = frame.program.function_at(frame.state.lookup_pc)
    if regs.arch != "x86_64" or found is None or regs.sp not in registers:
        cfa = frame.unwinder.cfa_of(frame.state)
        return f"{cfa:#x}" if cfa is not None else "?"
    image, fn = found
    start = fn.low + image.bias
    try:
        code = ctx.source.read(start, 8)
    except OSError:
        code = b""
    base = amd64_frame_base(code, start, frame.pc, registers[regs.sp],
                            registers.get(regs.frame_pointer))
    return f"{base:#x}"


def _frame_at(frame) -> str:
    cfa = frame.unwinder.cfa_of(frame.state)
    return f"{cfa:#x}" if cfa is not None else "?"


# -- lines ---------------------------------------------------------------------------------------
@command("list", "list [LINE|FILE:LINE|FUNCTION|FIRST,LAST]", aliases=("l",),
         complete="symbols")
def list_(ctx: Context, args: str) -> None:
    """Show ten source lines around LINE or FUNCTION.

    Again without an argument: the next ten."""
    source = ctx.source
    image = source.main_image()
    lister = source.lister
    text = args.strip()
    if not text:
        if lister.name is None:  # gdb: around main before anything is listed
            lines = answers.list_function(image.debug, lister, "main")
        else:
            lines = lister.more()
    elif "," in text:
        first, _, last = text.partition(",")
        file = source.default_file()
        lines = answers.list_lines(image.debug, lister, file, int(first), int(last))
    elif ":" in text:
        file, _, line = text.rpartition(":")
        lines = answers.list_lines(image.debug, lister, file, int(line))
    elif text.isdigit():
        lines = answers.list_lines(image.debug, lister, source.default_file(), int(text))
    else:
        lines = _list_function(source, text)
    for line in lines:
        ctx.say(line)


def _list_function(source, name: str) -> list[str]:
    for image in source.program().images:
        if image.debug.has_dwarf and image.debug.function_named(name) is not None:
            return answers.list_function(image.debug, source.lister, name)
    raise SourceError(f'Function "{name}" not defined.')


@command("info address", "info address SYMBOL", complete="symbols")
def info_address(ctx: Context, args: str) -> None:
    """Where SYMBOL lives: a function's or a static's address, a local's DWARF
    location, or an ELF symbol of a file without debugging information."""
    name = args.strip()
    if not name:
        raise CommandError('Argument required.')
    source, session = ctx.source, ctx.session
    if session.alive and session.is_held(session.current):
        frame = source.frame()
        for var, _value in [*frame.arguments(), *frame.locals()]:
            if var.name == name:
                ctx.say(_local_address(name, var, frame.file_pc))
                return
    program = source.program()
    for image in program.images:
        if not image.debug.has_dwarf:
            continue
        var = image.debug.global_named(name)
        if var is not None:
            value = global_value(var, image, source.read)
            if value.address is not None:
                ctx.say(f'Symbol "{name}" is static storage at address {value.address:#x}.')
            else:
                ctx.say(f'Symbol "{name}" is optimized out.')
            return
        fn = image.debug.function_named(name)
        # a DWARF name of its own (glibc's kill has four DIEs at one address), not
        # only an ELF alias of another function (printf of __printf): gdb's full symbol
        if fn is not None and (name in (fn.name, fn.source_name)
                               or image.debug.index.units("functions", name)):
            ctx.say(f'Symbol "{name}" is a function at address {fn.low + image.bias:#x}.')
            return
        if image.debug.enumerator_named(name) is not None:
            ctx.say(f'Symbol "{name}" is constant.')
            return
    for image in program.images:  # gdb's minimal symbols
        address = image.debug.symbol_address(name)
        if address is not None:
            ctx.say(f'Symbol "{name}" is at {address + image.bias:#x} in a file compiled '
                    "without debugging.")
            return
    raise CommandError(f'No symbol "{name}" in current context.')


def _local_address(name: str, var, file_pc: int) -> str:
    """gdb's words for a local: its location expression, disassembled (the -O0
    case, ``DW_OP_fbreg N``), or optimized out."""
    expr = var.location.at(file_pc) if var.location is not None else None
    if expr is None:
        return f'Symbol "{name}" is optimized out.'
    if expr[:1] == b"\x91":  # DW_OP_fbreg SLEB128
        offset, consumed = _sleb128(expr[1:])
        if 1 + consumed == len(expr):
            return f'Symbol "{name}" is a complex DWARF expression:\n' \
                   f"     0: DW_OP_fbreg {offset}\n."
    return f'Symbol "{name}" is a variable with a DWARF location of {len(expr)} bytes ' \
           f"({expr.hex()})."


def _sleb128(data: bytes) -> tuple[int, int]:
    value = shift = 0
    for count, byte in enumerate(data, 1):
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte & 0x40:
                value -= 1 << shift
            return value, count
    return value, len(data)


@command("info line", "info line [FUNCTION|FILE:LINE|*ADDRESS]", complete="symbols")
def info_line(ctx: Context, args: str) -> None:
    """Which addresses a source line's code occupies."""
    source = ctx.source
    program = source.program()
    text = args.strip()
    if re.fullmatch(r"[A-Za-z_]\w*", text):
        for image in program.images:
            if image.debug.has_dwarf and image.debug.function_named(text) is not None:
                ctx.say(answers.info_line(image.debug, text, image.bias, program.symbolize))
                return
        raise SourceError(f'Function "{text}" not defined.')
    if text:
        where = source.location(text, ctx.evaluate)
        address = where.address
    else:
        address = source.frame().pc
    found = program.line_at(address)
    if found is None:
        ctx.say(f"No line number information available for address {_sym(program, address)}")
        return
    ctx.say(f'Line {found.line} of "{found.file}" starts at address '
            f"{_sym(program, found.start)} and ends at {_sym(program, found.end)}.")


def _sym(program, address: int) -> str:
    name = program.symbolize(address)
    return f"{address:#x}" + (f" <{name}>" if name else "")


# -- changing the program ---------------------------------------------------------------------
_SETTINGS = {"disable-randomization", "disassembly-flavor", "confirm", "pagination", "width",
             "height", "print", "listsize", "style", "logging", "verbose", "complaints",
             "startup-with-shell"}
_BRACED = re.compile(r"^\{(?P<type>[^}]+)\}\s*(?P<address>.+?)\s*=\s*(?P<value>.+)$", re.S)


@command("set", "set var EXPR = VALUE | set {TYPE}ADDR = VALUE | set SETTING VALUE",
         complete="registers")
def set_(ctx: Context, args: str) -> None:
    """Change a variable, memory, a register, or a setting.

    `set var n = 5`, `set var p->x = p->y`, `set {int}0x4010 = 7`,
    `set $rax = 0`.  Settings: `set disable-randomization on|off` (on, as
    gdb: launched programs run without ASLR); others of gdb's are accepted.
    """
    text = args.strip()
    word, _, rest = text.partition(" ")
    if word in ("var", "variable"):
        text = rest.strip()
    elif word in _SETTINGS:
        _setting(ctx, word, rest.strip())
        return
    braced = _BRACED.match(text)
    if braced is not None:  # gdb's {type} addr: the object of that type there
        text = f"*({braced['type']} *)({braced['address']}) = {braced['value']}"
    if "=" not in text:
        raise CommandError("Usage: set var EXPR = VALUE")
    evaluate(text, ctx.source.scope())


def _setting(ctx: Context, name: str, value: str) -> None:
    if name == "disable-randomization":
        if value not in ("", "on", "off"):
            raise CommandError(f'"on" or "off" expected, not "{value}".')
        ctx.session.disable_randomization = value != "off"
    elif name == "disassembly-flavor":
        if value not in FLAVORS:
            raise CommandError(f'Undefined item: "{value}".' if value else
                               'Requires an argument. Valid arguments are att, intel.')
        ctx.disassembly_flavor = value


@command("show disassembly-flavor", "show disassembly-flavor")
def show_disassembly_flavor(ctx: Context, args: str) -> None:
    """The syntax of x/i and disassemble: att (gdb's default) or intel."""
    ctx.say(f'The disassembly flavor is "{ctx.disassembly_flavor}".')


@command("show disable-randomization", "show disable-randomization")
def show_disable_randomization(ctx: Context, args: str) -> None:
    """Whether launched programs run without ASLR."""
    state = "on" if ctx.session.disable_randomization else "off"
    ctx.say(f"Disabling randomization of debuggee's virtual address space is {state}.")


@command("echo", "echo TEXT")
def echo(ctx: Context, args: str) -> None:
    """Print TEXT; \\n is a newline (no newline of its own)."""
    ctx.out.write(args.encode().decode("unicode_escape"))
    ctx.out.flush()


# -- the process ---------------------------------------------------------------------------------
@command("info proc", "info proc")
def info_proc(ctx: Context, args: str) -> None:
    """The process: pid, command line, working directory, executable."""
    if args.strip():
        raise CommandError(f'Undefined info proc command: "{args.strip()}".  '
                           'Try "help info proc".')
    pid = ctx.session.require_process().pid
    ctx.say(f"process {pid}")
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().rstrip(b"\0").split(b"\0")
        ctx.say(f"cmdline = '{' '.join(a.decode(errors='replace') for a in argv)}'")
        ctx.say(f"cwd = '{os.readlink(f'/proc/{pid}/cwd')}'")
        ctx.say(f"exe = '{os.readlink(f'/proc/{pid}/exe')}'")
    except OSError as exc:
        raise CommandError(f"Cannot read /proc/{pid}: {exc.strerror}") from None

