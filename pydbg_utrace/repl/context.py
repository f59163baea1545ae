"""The one interface command modules see: what a command may ask of the debugger.

Command modules (``cmd_*``) and :mod:`.completion` are typed against
:class:`Context` and never import :mod:`.debugger`; the debugger satisfies it
(and imports the command modules through :mod:`.language`).  So the
dependencies point one way: debugger -> language -> cmd_* -> context ->
breaks, session, sourcelevel.  The breakpoint table, which Context names, is
typed against its own narrower ``breaks.BreakContext``.  A test can hand a
command any object with these members (tests/test_repl_layers.py checks the
direction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from .breaks import Breakpoints
    from .engine import Stop
    from .session import Session
    from .sourcelevel import SourceLevel
    from .symbols import SymbolTable


class Context(Protocol):
    """What a command handler ``(ctx, argument_text)`` may use."""

    out: TextIO
    session: Session  # the program and how it moves (public API of the core)
    source: SourceLevel  # frames, values, lines: the source-level view of the program
    breaks: Breakpoints  # the user's breakpoints
    confirm: Callable[[str], bool]  # gdb's query(): True to go ahead
    quit_requested: bool
    interactive: bool  # commands typed at a terminal (gdb's from_tty), not a script
    x_format: tuple[str, str]  # the last `x` format and unit
    x_next: int | None  # where a bare `x` goes on
    disassembly_flavor: str  # "att" (gdb's default) or "intel"

    def execute(self, line: str) -> bool:
        """Run another command line (``start`` is ``tbreak main`` + ``run``)."""

    def collect_lines(self, done: Callable[[list[str]], None]) -> None:
        """The next lines typed, up to ``end``, go to ``done`` (``commands``)."""

    def say(self, text: str = "") -> None:
        """One line (or several) of answer, flushed."""

    def show_stop(self, stop: Stop) -> None:
        """Tell the user why the program stopped (the context view, or a source line)."""

    def evaluate(self, text: str) -> int:
        """An address-valued expression (``main``, ``$sp+8``, ``&counter``)."""

    def lvalue(self, text: str) -> tuple[int, int | None]:
        """An object's address and size; an address expression's value and None."""

    def describe(self, address: int) -> str:
        """``<main+4>`` or the empty string."""

    def symbols(self) -> SymbolTable:
        """The live process's symbols."""

    def register(self, name: str) -> int:
        """The selected thread's register (``pc``, ``sp`` or a name)."""
