"""Commands that look at (and change) the stopped program: registers, memory, code, threads."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydbg_utrace.memory import read_string

from .commands import CommandError, command
from .symbols import maps
from .view import UNIT_SIZES, c_string, code_lines, examine_lines, register_line

if TYPE_CHECKING:
    from .debugger import Debugger



@command("info registers", "info registers [REGISTER...]", aliases=("r",),
         complete="registers")
def info_registers(dbg: Debugger, args: str) -> None:
    """The selected thread's registers (all, or those named)."""
    regs = dbg.session.registers()
    names = [n.lstrip("$") for n in args.split()] or list(dbg.session.arch.register_names)
    for name in names:
        try:
            value = dbg.register(name)
        except KeyError:
            raise CommandError(f"Invalid register `{name}'") from None
        dbg.say(register_line(name, value))
    del regs


_SET = re.compile(r"^\$(\w+)\s*=\s*(.+)$")


@command("set", "set $REGISTER = VALUE", complete="registers")
def set_(dbg: Debugger, args: str) -> None:
    """Change a register (written back when it resumes).

    Also `set var $REGISTER = VALUE`.  VALUE is an expression: 0x10, $rsp+8, main.
    """
    text = args[4:].strip() if args.startswith("var ") else args
    m = _SET.match(text)
    if m is None:
        raise CommandError("Usage: set $REGISTER = VALUE")
    name, value = m.group(1), dbg.evaluate(m.group(2))
    regs = dbg.session.registers()
    try:
        if name == "pc":
            regs.pc = value & ((1 << 64) - 1)
        elif name == "sp":
            regs.sp = value & ((1 << 64) - 1)
        else:
            regs[name] = value if value >= 0 else value & ((1 << 64) - 1)
    except KeyError:
        raise CommandError(f"Invalid register `{name}'") from None
    except ValueError as exc:
        raise CommandError(str(exc)) from None


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
def examine(dbg: Debugger, args: str) -> None:
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
    dbg.session.require_process()
    if fmt == "s":
        dbg.x_next = _examine_strings(dbg, address, count)
    elif fmt == "i":
        dbg.x_next = _examine_instructions(dbg, address, count)
    else:
        size = UNIT_SIZES[unit]
        data = dbg.session.read_memory(address, count * size)
        for line in examine_lines(data, address, fmt, unit, dbg.session.arch.byteorder,
                                  dbg.describe):
            dbg.say(line)
        dbg.x_next = address + count * size
    dbg.x_format = (fmt, unit) if fmt not in ("s", "i") else (fmt, dbg.x_format[1])


def _examine_strings(dbg: Debugger, address: int, count: int) -> int:
    pid = dbg.session.require_process().pid
    for _ in range(count):
        try:
            data, complete = read_string(pid, address, 200)
        except OSError:
            raise CommandError(f"Cannot access memory at address {address:#x}") from None
        where = dbg.describe(address)
        dbg.say(f"{address:#x}{' ' + where if where else ''}:\t{c_string(data, complete)}")
        address += len(data) + 1
    return address


def _examine_instructions(dbg: Debugger, address: int, count: int) -> int:
    insns = _disassemble(dbg, address, count)
    pc = _pc_or_none(dbg)
    for line in code_lines(insns, pc, dbg.describe):
        dbg.say(line)
    return insns[-1].address + insns[-1].size if insns else address


def _disassemble(dbg: Debugger, address: int, count: int):
    code = dbg.session.read_code(address, 16 * count) if count else b""
    insns = dbg.session.arch.disassemble(code, address, count)
    if not insns:
        raise CommandError(f"Cannot decode an instruction at {address:#x}")
    return insns


def _pc_or_none(dbg: Debugger) -> int | None:
    try:
        return dbg.session.registers().pc
    except Exception:
        return None


@command("disassemble", "disassemble [ADDRESS [COUNT]]", complete="symbols")
def disassemble(dbg: Debugger, args: str) -> None:
    """Disassemble COUNT instructions from ADDRESS (the pc).

    COUNT defaults to the whole function when ADDRESS names one, else 10.

    A symbol as ADDRESS disassembles that function when its size is known.
    The current instruction is marked `=>`.
    """
    words = args.split()
    count = None
    if len(words) > 1 and re.fullmatch(r"\d+", words[-1]):
        count = int(words.pop())
    where = " ".join(words)
    address = dbg.evaluate(where) if where else dbg.session.registers().pc
    if count is None:
        count = _function_length(dbg, address, bool(where))
    insns = _disassemble(dbg, address, count)
    found = dbg.symbols().symbolize(address)
    title = f" of {found[0].name}" if found and found[1] == 0 else ""
    dbg.say(f"Dump of assembler code{title} from {address:#x}:")
    for line in code_lines(insns, _pc_or_none(dbg), dbg.describe):
        dbg.say(line)
    dbg.say("End of assembler dump.")


def _function_length(dbg: Debugger, address: int, named: bool) -> int:
    """All of a function named at its start; otherwise 10 instructions."""
    found = dbg.symbols().symbolize(address)
    if named and found and found[1] == 0 and found[0].size:
        code = dbg.session.read_memory(address, found[0].size)
        return len(dbg.session.arch.disassemble(code, address)) or 10
    return 10


@command("bt", "bt [N]", aliases=("backtrace", "where"))
def backtrace(dbg: Debugger, args: str) -> None:
    """The call stack, by the frame-pointer chain (x86_64).

    Needs frame pointers (gcc -O0, or -fno-omit-frame-pointer); says so
    where the chain ends because the code keeps none.
    """
    from .backtrace import frames

    pcs, note = frames(dbg, int(args) if args.isdigit() else 64)
    for i, pc in enumerate(pcs):
        dbg.say(f"#{i:<3}{pc:#018x} in {dbg.describe(pc) or '??'}")
    if note:
        dbg.say(note)


@command("info threads", "info threads")
def info_threads(dbg: Debugger, args: str) -> None:
    """The program's threads; `*` marks the selected one."""
    session = dbg.session
    session.require_process()
    dbg.say(f"  {'Id':<5}{'Target Id':<22}{'State':<10}Where")
    for number, tid in session.threads():
        mark = "*" if tid == session.current else " "
        held = tid in session.engine.held
        where = ""
        if held:
            with session.attachment(tid).examine() as regs:
                where = f"{regs.pc:#x} {dbg.describe(regs.pc)}".rstrip()
        state = "stopped" if held else "running"
        dbg.say(f"{mark} {number:<5}{'Thread ' + str(tid):<22}{state:<10}{where}")


@command("thread", "thread [N]")
def thread(dbg: Debugger, args: str) -> None:
    """Select thread N, or show the selected one."""
    session = dbg.session
    session.require_process()
    if args:
        by_number = {number: tid for number, tid in session.threads()}
        if not args.isdigit() or int(args) not in by_number:
            raise CommandError(f"Invalid thread ID: {args}")
        session.current = by_number[int(args)]
    dbg.say(f"[Current thread is {session.thread_number(session.current)} "
            f"(Thread {session.current})]")


@command("info sharedlibrary", "info sharedlibrary", aliases=("dll",))
def info_sharedlibrary(dbg: Debugger, args: str) -> None:
    """The shared libraries mapped (from /proc/PID/maps)."""
    pid = dbg.session.require_process().pid
    exe = _exe(pid)
    dbg.say(f"{'From':<20}{'To':<20}Shared Object Library")
    seen: dict[str, list[int]] = {}
    for m in maps(pid):
        if m.path.startswith("/") and m.path != exe and "x" in m.perms:
            span = seen.setdefault(m.path, [m.start, m.end])
            span[0], span[1] = min(span[0], m.start), max(span[1], m.end)
    for path, (start, end) in seen.items():
        dbg.say(f"{start:<#20x}{end:<#20x}{path}")


def _exe(pid: int) -> str:
    import os

    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


@command("info proc mappings", "info proc mappings")
def info_proc_mappings(dbg: Debugger, args: str) -> None:
    """The program's memory map (/proc/PID/maps)."""
    pid = dbg.session.require_process().pid
    dbg.say(f"process {pid}")
    dbg.say(f"{'Start Addr':>18} {'End Addr':>18} {'Size':>10} {'Offset':>8} Perms  objfile")
    for m in maps(pid):
        dbg.say(f"{m.start:#18x} {m.end:#18x} {m.end - m.start:#10x} {m.offset:#8x} "
                f"{m.perms:<6} {m.path}")
