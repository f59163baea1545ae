"""Commands that move the program by source lines and frames, and shape breakpoints' stops.

``next``/``step``/``until``/``finish``/``advance``/``start`` as gdb does them
(see :mod:`.stepping`), ``signal``, and the per-breakpoint ``condition``,
``ignore`` and ``commands``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .commands import CommandError, command
from .policy import signal_number
from .stepping import Stepper

if TYPE_CHECKING:
    from .context import Context


def _count(args: str) -> int:
    try:
        count = int(args, 0) if args.strip() else 1
    except ValueError:
        raise CommandError(f"Not a count: {args!r}") from None
    if count < 1:
        raise CommandError("The count must be at least 1.")
    return count


def _stepper(ctx: Context) -> Stepper:
    ctx.session.held_attachment()
    return Stepper(ctx.session, ctx.source)


def _lines(ctx: Context, args: str, over_calls: bool, until: bool = False) -> None:
    stop = None
    for _ in range(_count(args)):
        stop = _stepper(ctx).step_lines(over_calls, until)
        if stop.reason != "step" or not stop.extra.get("source"):
            break
    assert stop is not None
    ctx.show_stop(stop)


@command("next", "next [N]", aliases=("n",), repeat=True)
def next_(ctx: Context, args: str) -> None:
    """Run to the next source line; calls run to their end.


    A call is stepped over with a breakpoint at its return address, so it runs
    at full speed (a breakpoint inside it still stops there)."""
    _lines(ctx, args, over_calls=True)


@command("step", "step [N]", aliases=("s",), repeat=True)
def step(ctx: Context, args: str) -> None:
    """Run to the next source line, into called functions.

    A function without line info is run to its return."""
    _lines(ctx, args, over_calls=False)


@command("until", "until [LOCATION]", aliases=("u",), repeat=True, complete="symbols")
def until(ctx: Context, args: str) -> None:
    """Like next, but never back to an earlier line (loops).


    With LOCATION: run until it, or until the current frame returns."""
    if args.strip():
        _to_location(ctx, args, this_frame=True)
    else:
        _lines(ctx, "", over_calls=True, until=True)


@command("advance", "advance LOCATION", complete="symbols")
def advance(ctx: Context, args: str) -> None:
    """Run to LOCATION (or until this frame returns)."""
    if not args.strip():
        raise CommandError("Argument required (a location).")
    _to_location(ctx, args, this_frame=False)


def _to_location(ctx: Context, args: str, this_frame: bool) -> None:
    stepper = _stepper(ctx)
    where = ctx.source.location(args, ctx.evaluate)
    ctx.show_stop(stepper.run_to_location(where.address, this_frame))


@command("finish", "finish", aliases=("fin",))
def finish(ctx: Context, args: str) -> None:
    """Run until the selected frame returns; show its value."""
    stop, after = _stepper(ctx).finish(interactive=ctx.interactive)
    ctx.show_stop(stop)
    for line in after:
        ctx.say(line)


@command("start", "start [ARGS...]", complete="files")
def start(ctx: Context, args: str) -> None:
    """Run the program to a temporary breakpoint at main."""
    ctx.execute("tbreak main")
    ctx.execute(f"run {args}".rstrip())


@command("signal", "signal SIGNAL", complete="signals")
def signal_(ctx: Context, args: str) -> None:
    """Resume the program with SIGNAL delivered (0: none).


    The signal reaches the program even if `handle` says nopass, and this
    delivery does not stop for it."""
    session = ctx.session
    att = session.held_attachment()
    try:
        signo = signal_number(args.strip()) if args.strip() not in ("0", "") else 0
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if not args.strip():
        raise CommandError("Argument required (signal number).")
    if signo:
        ctx.say(f"Continuing with signal {args.strip().upper()}.")
        session.deliver_signal(att.thread.tid, signo)
    ctx.show_stop(session.cont())


# -- shaping breakpoints -------------------------------------------------------------------------
def _breakpoint(ctx: Context, word: str):
    if not word.isdigit():
        raise CommandError(f"Bad breakpoint argument: '{word}'")
    bp = ctx.breaks.points.get(int(word))
    if bp is None:
        raise CommandError(f"No breakpoint number {word}.")
    return bp


@command("condition", "condition N [EXPR]")
def condition(ctx: Context, args: str) -> None:
    """Stop at breakpoint N only when EXPR is true.

    Without EXPR it stops always again."""
    word, _, expression = args.strip().partition(" ")
    bp = _breakpoint(ctx, word)
    bp.condition = expression.strip() or None
    if bp.condition is None:
        ctx.say(f"Breakpoint {bp.number} now unconditional.")


@command("ignore", "ignore N COUNT")
def ignore(ctx: Context, args: str) -> None:
    """Pass breakpoint N COUNT times before it stops again."""
    words = args.split()
    if len(words) != 2 or not words[1].isdigit():
        raise CommandError("Argument required (a breakpoint number and a count).")
    bp = _breakpoint(ctx, words[0])
    bp.ignore = int(words[1])
    if not ctx.interactive:
        return  # gdb says it only when typed (from_tty), not in scripts
    if bp.ignore == 0:
        ctx.say(f"Will stop next time breakpoint {bp.number} is reached.")
    elif bp.ignore == 1:
        ctx.say(f"Will ignore next crossing of breakpoint {bp.number}.")
    else:
        ctx.say(f"Will ignore next {bp.ignore} crossings of breakpoint {bp.number}.")


@command("commands", "commands [N]")
def commands_(ctx: Context, args: str) -> None:
    """Commands to run when breakpoint N stops.

    N: the last breakpoint if none.  End them with `end`.

    A first line `silent` keeps the stop itself quiet."""
    points = ctx.breaks.points
    if not points:
        raise CommandError("No breakpoints specified.")
    bp = _breakpoint(ctx, args.strip()) if args.strip() else points[max(points)]
    ctx.collect_lines(lambda lines: setattr(bp, "commands", lines))


# -- read and access watchpoints -------------------------------------------------------------
def _access_watch(ctx: Context, args: str, access: str) -> None:
    expression = args.strip()
    if not expression:
        raise CommandError("Argument required (expression to compute).")
    address, size = ctx.lvalue(expression)
    if size not in (1, 2, 4, 8):
        size = ctx.session.arch.word_size
    w = ctx.session.add_watch(expression, address, size, access=access)
    ctx.say(f"{w.kind} {w.number}: {expression}")


@command("rwatch", "rwatch EXPR", complete="symbols")
def rwatch(ctx: Context, args: str) -> None:
    """Stop when the program reads EXPR (a debug register).

    x86 debug registers see reads together with writes: a hit that changed
    the value was a write, and is not reported (nor by gdb)."""
    _access_watch(ctx, args, "r")


@command("awatch", "awatch EXPR", complete="symbols")
def awatch(ctx: Context, args: str) -> None:
    """Stop when the program reads or writes EXPR.

    A debug register watches it (x86_64).  Both reads and writes stop."""
    _access_watch(ctx, args, "rw")
