"""Commands that look at (and change) the stopped program: registers, memory, code, threads."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydbg_utrace.source import answers
from pydbg_utrace.source.format import frame_line
from pydbg_utrace.source.values import SourceError

from . import asm
from .commands import CommandError, command
from .symbols import maps
from .view import UNIT_SIZES, X86_64_GENERAL, examine_lines, register_line

if TYPE_CHECKING:
    from .context import Context



@command("info registers", "info registers [REGISTER...]", aliases=("r",),
         complete="registers")
def info_registers(dbg: Context, args: str) -> None:
    """The selected thread's registers (all, or those named)."""
    arch = dbg.session.arch
    dbg.session.registers()  # no thread stopped: say so before anything else
    names = [n.lstrip("$") for n in args.split()] or (
        X86_64_GENERAL if arch.name == "x86_64" else list(arch.register_names))
    for name in names:
        try:
            value = dbg.register(name)
        except KeyError:
            raise CommandError(f"Invalid register `{name}'") from None
        dbg.say(register_line(name, value, dbg.describe))


_FMT = re.compile(r"^/(\d*)([xduotcasi]?)([bhwg]?)([xduotcasi]?)$")


def parse_format(text: str, last: tuple[str, str]) -> tuple[int, str, str]:
    """``/8xb`` -> (8, 'x', 'b'); letters may come in either order, as in gdb."""
    m = _FMT.match(text)
    if m is None:
        raise CommandError(f"Invalid format {text!r}: use /NFU, F in xduotcasi, U in bhwg")
    count = int(m.group(1)) if m.group(1) else 1
    fmt = m.group(2) or m.group(4) or last[0]
    unit = m.group(3) or (last[1] if fmt not in ("a",) else "g")
    if fmt == "c" and not m.group(3):
        unit = "b"
    return count, fmt, unit


@command("x", "x/NFU ADDRESS", repeat=True, complete="symbols")
def examine(dbg: Context, args: str) -> None:
    """Examine memory: N units of size U in format F.

    U: b h w g (1 2 4 8 bytes).

    F: x hex, d signed, u unsigned, o octal, t binary, c char, a address,
    s string, i instruction.  ADDRESS is an expression ($sp+8, main, 0x4010).
    Without ADDRESS it goes on after the last x.
    """
    fmt_text, _, where = args.partition(" ") if args.startswith("/") else ("", "", args)
    count, fmt, unit = parse_format(fmt_text, dbg.x_format) if fmt_text else (
        1, *dbg.x_format)
    if where.strip():
        address = dbg.evaluate(where)
    elif dbg.x_next is not None:
        address = dbg.x_next
    else:
        raise CommandError("Argument required (starting display address).")
    if fmt == "s":
        dbg.x_next = _examine_strings(dbg, address, count)
    elif fmt == "i":
        dbg.x_next = _examine_instructions(dbg, address, count)
    else:
        size = UNIT_SIZES[unit]
        try:
            data = dbg.source.read(address, count * size)  # the file's, before `run`
        except OSError:
            raise CommandError(f"Cannot access memory at address {address:#x}") from None
        for line in examine_lines(data, address, fmt, unit, dbg.source.byteorder,
                                  dbg.describe):
            dbg.say(line)
        dbg.x_next = address + count * size
    dbg.x_format = (fmt, unit) if fmt not in ("s", "i") else (fmt, dbg.x_format[1])


def _examine_strings(dbg: Context, address: int, count: int) -> int:
    """gdb's x/s: the string as `print` quotes it (the file's, before `run`)."""
    printer = dbg.source.printer()
    for _ in range(count):
        text = printer.string_at(address)
        if text.startswith("<error:"):
            raise CommandError(f"Cannot access memory at address {address:#x}")
        where = dbg.describe(address)
        dbg.say(f"{address:#x}{' ' + where if where else ''}:\t{text}")
        address += _string_length(dbg, address) + 1
    return address


def _string_length(dbg: Context, address: int) -> int:
    length = 0
    while length < 4096:
        try:
            chunk = dbg.source.read(address + length, 64)
        except OSError:
            return length
        nul = chunk.find(b"\0")
        if nul >= 0:
            return length + nul
        length += len(chunk)
    return length


def _examine_instructions(dbg: Context, address: int, count: int) -> int:
    insns = _disassemble(dbg, address, count)
    pc = _pc_or_none(dbg)
    for line in asm.listing(insns, pc, dbg.describe):
        dbg.say(line)
    return insns[-1].address + insns[-1].size if insns else address


def _disassemble(dbg: Context, address: int, count: int) -> list[asm.AsmLine]:
    code = dbg.session.read_code(address, 16 * count) if count else b""
    insns = asm.lines_for(dbg.session.arch, code, address, count, dbg.disassembly_flavor)
    if not insns:
        raise CommandError(f"Cannot decode an instruction at {address:#x}")
    return insns


def _pc_or_none(dbg: Context) -> int | None:
    """Where ``=>`` goes: the selected frame's pc (gdb's get_frame_pc), else the thread's."""
    try:
        pc = dbg.session.registers().pc
    except Exception:
        return None
    if dbg.source.selected:
        try:
            return dbg.source.frame().pc
        except Exception:
            return pc
    return pc


@command("disassemble", "disassemble [ADDRESS [COUNT]]", complete="symbols")
def disassemble(dbg: Context, args: str) -> None:
    """Disassemble the function around ADDRESS (the pc).

    Without COUNT: the whole function that holds ADDRESS, when its bounds
    are known (DWARF, or the ELF symbol's size), else 10 instructions.
    Targets are named as gdb names them (<main+108>).  The current
    instruction is marked `=>`.
    """
    words = args.split()
    count = None
    if len(words) > 1 and re.fullmatch(r"\d+", words[-1]):
        count = int(words.pop())
    where = " ".join(words)
    address = dbg.evaluate(where) if where else dbg.session.registers().pc
    function = _function_around(dbg, address) if count is None else None
    machine = _arch(dbg)
    if function is not None:
        name, start, end = function
        try:
            code = dbg.source.read(start, end - start)  # the file's, before `run`
        except OSError:
            raise CommandError(f"Cannot access memory at address {start:#x}") from None
        insns = asm.lines_for(machine, code, start, 0, dbg.disassembly_flavor)
        dbg.say(f"Dump of assembler code for function {name}:")
    else:
        start = None
        insns = _disassemble(dbg, address, count or 10)
        dbg.say(f"Dump of assembler code from {address:#x}:")
    for line in asm.listing(insns, _pc_or_none(dbg), dbg.describe, start):
        dbg.say(line)
    dbg.say("End of assembler dump.")


def _arch(dbg: Context):
    """The program's arch; before `run`, its file's (by ELF machine)."""
    if dbg.session.alive:
        return dbg.session.arch
    from pydbg_utrace import arch

    with open(dbg.source.main_image().path, "rb") as f:
        return arch.for_elf_header(f.read(64))


def _function_around(dbg: Context, address: int) -> tuple[str, int, int] | None:
    """(name, start, end) of the function holding ``address``: DWARF, else ELF."""
    try:
        found = dbg.source.program().function_at(address)
    except Exception:  # noqa: BLE001 -- no DWARF to ask: the ELF symbol below
        found = None
    if found is not None:
        image, fn = found
        return fn.name, fn.low + image.bias, fn.high + image.bias
    if not dbg.session.alive:
        return None
    symbol = dbg.symbols().symbolize(address)
    if symbol is not None and symbol[0].size:
        start = address - symbol[1]
        return symbol[0].name, start, start + symbol[0].size
    return None


@command("info threads", "info threads")
def info_threads(dbg: Context, args: str) -> None:
    """The program's threads; `*` marks the selected one (gdb's columns)."""
    session = dbg.session
    session.require_process()
    rows = [(tid, number, _target_id(dbg, tid), _frame_of(dbg, tid))
            for number, tid in session.threads()]
    width = max([len("Target Id")] + [len(target) for _, _, target, _ in rows])
    dbg.say(f"  {'Id':<4} {'Target Id':<{width}} Frame ")
    for tid, number, target, frame in rows:
        mark = "*" if tid == session.current else " "
        dbg.say(f"{mark} {number:<4} {target:<{width}} {frame}")


def _target_id(dbg: Context, tid: int, with_name: bool = True) -> str:
    return dbg.session.target_id(tid, with_name)


def _frame_of(dbg: Context, tid: int) -> str:
    """The thread's innermost frame as ``bt`` writes it, without ``#0  ``."""
    session = dbg.session
    if not session.is_held(tid):
        return "(running)"
    selected, session.current = session.current, tid
    level = dbg.source.selected
    try:
        frames, _ = dbg.source.frames()
        line = frame_line(frames[0], dbg.source.printer()) if frames else ""
    except (SourceError, CommandError, OSError, LookupError):
        line = ""
    finally:
        session.current = selected
    if tid != selected and session.is_held(selected):
        dbg.source.frames()  # the selected thread's again, with its selected frame
        dbg.source.selected = level
    if not line:
        with session.attachment(tid).examine() as regs:
            return f"{regs.pc:#x} {dbg.describe(regs.pc)}".rstrip()
    return line.split(" ", 1)[1].lstrip()


@command("thread", "thread [N]")
def thread(dbg: Context, args: str) -> None:
    """Select thread N and show its frame."""
    session = dbg.session
    session.require_process()
    if not args:
        dbg.say(f"[Current thread is {session.thread_number(session.current)} "
                f"({_target_id(dbg, session.current, with_name=False)})]")
        return
    by_number = {number: tid for number, tid in session.threads()}
    if not args.isdigit() or int(args) not in by_number:
        raise CommandError(f"Invalid thread ID: {args}")
    session.current = by_number[int(args)]
    dbg.source.selected = 0
    dbg.say(f"[Switching to thread {args} ({_target_id(dbg, session.current, False)})]")
    if session.is_held(session.current):
        frames, _ = dbg.source.frames()
        if frames:
            for line in answers.frame_header(dbg.source.select(0), dbg.source.printer()):
                dbg.say(line)


@command("info sharedlibrary", "info sharedlibrary", aliases=("dll",))
def info_sharedlibrary(dbg: Context, args: str) -> None:
    """The shared libraries loaded, as gdb lists them (their .text's bounds)."""
    from pydbg_utrace.source.solibs import library_rows

    rows = library_rows(dbg.source.program(), dbg.source.read) if dbg.session.alive else []
    if not rows:
        dbg.say("No shared libraries loaded at this time.")
        return
    dbg.say(f"{'From':<20}{'To':<20}{'Syms Read':<12}Shared Object Library")
    for start, end, debug, name in rows:
        dbg.say(f"{start:#018x}  {end:#018x}  {'Yes' if debug else 'Yes (*)':<12}{name}")
    if not all(debug for _, _, debug, _ in rows):
        dbg.say("(*): Shared library is missing debugging information.")


def _exe(pid: int) -> str:
    import os

    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


@command("info proc mappings", "info proc mappings")
def info_proc_mappings(dbg: Context, args: str) -> None:
    """The program's memory map (/proc/PID/maps)."""
    pid = dbg.session.require_process().pid
    dbg.say(f"process {pid}")
    dbg.say(f"{'Start Addr':>18} {'End Addr':>18} {'Size':>10} {'Offset':>8} Perms  objfile")
    for m in maps(pid):
        dbg.say(f"{m.start:#18x} {m.end:#18x} {m.end - m.start:#10x} {m.offset:#8x} "
                f"{m.perms:<6} {m.path}")
