"""Breakpoints, watchpoints and the commands that list and switch all stop points.

Breakpoints, watchpoints and catchpoints share one numbering, as in gdb, so
``delete``/``disable``/``enable``/``info breakpoints`` work on all three.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .commands import CommandError, command

if TYPE_CHECKING:
    from .context import Context


@command("break", "break LOCATION [if COND]", aliases=("b", "br"), complete="symbols")
def break_(dbg: Context, args: str) -> None:
    """Stop when the program reaches LOCATION.

    LOCATION: FILE:LINE, LINE, a function (stops after its prologue, at its
    first line), *ADDRESS, or an address expression (main+4, $pc+4).  Set
    before `run`, it is found in the file and placed again when the program
    is loaded; one in a library not loaded yet stays pending until the
    dynamic linker loads it.
    """
    _add(dbg, args, temporary=False)


@command("tbreak", "tbreak LOCATION [if COND]", complete="symbols")
def tbreak(dbg: Context, args: str) -> None:
    """A breakpoint that is deleted when first hit."""
    _add(dbg, args, temporary=True)


def _add(dbg: Context, args: str, temporary: bool) -> None:
    parts = re.split(r"\s+if(?=[\s(])", args.strip(), maxsplit=1)
    location = parts[0].strip()
    condition = parts[1].strip() if len(parts) > 1 else None
    bp = dbg.breaks.add(dbg, location, temporary=temporary)
    bp.condition = condition or None
    _report(dbg, bp)


def _report(dbg: Context, bp) -> None:
    dbg.say(bp.announce())


@command("watch", "watch ADDRESS|SYMBOL", complete="symbols")
def watch(dbg: Context, args: str) -> None:
    """Stop when a variable (or the word at ADDRESS) changes.

    A hardware watchpoint (a debug register; the program runs at full
    speed) where the core has one free, else a software one: `continue`
    single-steps the selected thread and compares after each instruction
    (slow, exact; other threads stay stopped).  A symbol's own size is
    watched (1, 2, 4 or 8 bytes), else a word.  They end with the process.
    """
    if not args:
        raise CommandError("Argument required (expression to compute).")
    session = dbg.session
    address, size = dbg.lvalue(args)
    if size not in (1, 2, 4, 8):
        size = session.arch.word_size
    w = session.add_watch(args, address, size)
    kind = "Hardware watchpoint" if w.hardware is not None else "Watchpoint"
    dbg.say(f"{kind} {w.number}: {args} ({size} bytes at {address:#x})")


def _numbers(args: str) -> list[int]:
    try:
        return [int(word) for word in args.split()]
    except ValueError:
        raise CommandError(f"Not a breakpoint number: {args!r}") from None


def _all_numbers(dbg: Context) -> list[int]:
    session = dbg.session
    return sorted([*session.policy.catchpoints, *session.watches, *dbg.breaks.points])


@command("delete", "delete [N...]", aliases=("d",))
def delete(dbg: Context, args: str) -> None:
    """Delete the stop points N (all of them if none).

    Breakpoints, watchpoints and catchpoints share the numbers.
    """
    session = dbg.session
    for number in _numbers(args) or _all_numbers(dbg):
        if session.policy.catchpoints.pop(number, None) is not None:
            continue
        if session.remove_watch(number):
            continue
        if dbg.breaks.delete(dbg, number):
            continue
        raise CommandError(f"No breakpoint number {number}.")
    session.apply_events()


def _switch(dbg: Context, args: str, enabled: bool) -> None:
    session = dbg.session
    for number in _numbers(args) or _all_numbers(dbg):
        if dbg.breaks.set_enabled(dbg, number, enabled) or session.enable_watch(number, enabled):
            continue
        point = session.policy.catchpoints.get(number)
        if point is None:
            raise CommandError(f"No breakpoint number {number}.")
        point.enabled = enabled
    session.apply_events()


@command("disable", "disable [N...]")
def disable(dbg: Context, args: str) -> None:
    """Disable the stop points N (all if none)."""
    _switch(dbg, args, False)


@command("enable", "enable [N...]")
def enable(dbg: Context, args: str) -> None:
    """Enable the stop points N (all if none)."""
    _switch(dbg, args, True)


@command("info breakpoints", "info breakpoints", aliases=("b", "break", "watchpoints"))
def info_breakpoints(dbg: Context, args: str) -> None:
    """Every breakpoint, watchpoint and catchpoint (gdb's table)."""
    session = dbg.session
    rows: dict[int, str] = {}
    for bp in dbg.breaks.points.values():
        address = "<PENDING>" if bp.address is None else f"0x{bp.address:016x}"
        what = bp.location if bp.address is None else bp.describe(dbg).partition(" ")[2]
        rows[bp.number] = _row(bp.number, "breakpoint", "del" if bp.temporary else "keep",
                               bp.enabled, address, what) + _details(bp)
    for catch in session.policy.catchpoints.values():
        rows[catch.number] = _row(catch.number, "catchpoint", "keep", catch.enabled, "",
                                  catch.describe())
    for w in session.watches.values():
        what = f"{w.expression} ({w.size} bytes at {w.address:#x})"
        kind = {"r": "read watchpoint", "rw": "acc watchpoint"}.get(
            w.access, "hw watchpoint" if w.hardware is not None else "watchpoint")
        rows[w.number] = _row(w.number, kind, "keep", w.enabled, "", what) + _hits(w.hits)
    if not rows:
        dbg.say("No breakpoints, watchpoints or catchpoints.")
        return
    dbg.say(f"{'Num':<8}{'Type':<15}{'Disp':<5}{'Enb':<4}{'Address':<19}What")
    for number in sorted(rows):
        dbg.say(rows[number])


def _row(number: int, kind: str, disposition: str, enabled: bool, address: str,
         what: str) -> str:
    return (f"{number:<8}{kind:<15}{disposition:<5}{'y' if enabled else 'n':<4}"
            f"{address:<19}{what}").rstrip()


def _details(bp) -> str:
    """gdb's lines under a breakpoint: its condition, hits, ignore count, commands."""
    text = f"\n\tstop only if {bp.condition}" if bp.condition else ""
    text += _hits(bp.hits)
    if bp.ignore:
        text += f"\n\tWill ignore next {bp.ignore} crossings of breakpoint."
    return text + "".join(f"\n        {line}" for line in bp.commands)


def _hits(hits: int) -> str:
    return f"\n\tbreakpoint already hit {hits} time{'s' * (hits != 1)}" if hits else ""
