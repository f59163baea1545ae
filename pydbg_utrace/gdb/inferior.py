"""One process a gdb connection debugs: gdb's *inferior*, with its engine and gdb's traps in it.

A connection starts with one; with ``fork-events`` every fork the program
makes adds one (gdb's ``detach-on-fork off``, ``follow-fork-mode child``)
until gdb detaches it (``D;pid``) or it exits.  Each has its own
:class:`~.engine.GdbEngine`, so the core keeps their holds, breakpoints and
watchpoints apart as it does any two engines'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydbg_utrace import UtraceError

if TYPE_CHECKING:
    from pydbg_utrace import Process

    from .engine import GdbEngine

#: A breakpoint gdb believes inserted in a fork child: the child's copy of the
#: parent's trap, which the core has already put the original back over (the
#: child's engine is not the parent's).  gdb removes it (its "detach
#: breakpoints"): OK, with nothing left to do.
INHERITED = None


@dataclass(eq=False)
class Inferior:
    """A process of this connection: its engine, and the breakpoints gdb put in it."""

    engine: GdbEngine
    launched: bool  # started by this server (or forked by a program it started)
    breakpoints: dict[int, object] = field(default_factory=dict)  # address -> Breakpoint
    watchpoints: dict[tuple[int, int, int], object] = field(default_factory=dict)
    execs: int = 0  # the engine's exec count when our tables were last valid
    exited: bool = False  # gdb has been told of its end

    @property
    def pid(self) -> int:
        return self.engine.pid

    @property
    def process(self) -> Process:
        return self.engine.process

    def fork_child(self, engine: GdbEngine) -> Inferior:
        """The inferior of a child this one forked: gdb's traps are copies there."""
        inherited = dict.fromkeys(self.breakpoints, INHERITED)
        return Inferior(engine, self.launched, inherited)

    def forget_traps_if_exec(self) -> None:
        """After an exec the old program's traps are gone with its address space."""
        if self.engine.execs != self.execs:
            self.execs = self.engine.execs
            self.breakpoints.clear()
            self.watchpoints.clear()

    def let_go(self) -> None:
        """Our breakpoints and watchpoints out, our holds released: the others go on."""
        atts = self.engine.attachments()
        att = atts[0] if atts else None
        if att is not None:
            for bp in self.breakpoints.values():
                if bp is not INHERITED:
                    _quietly(att.remove_breakpoint, bp)
            for wp in self.watchpoints.values():
                _quietly(att.remove_watchpoint, wp)
        self.breakpoints.clear()
        self.watchpoints.clear()
        self.engine.detach()


def _quietly(fn: Callable, *args: object) -> None:
    try:
        fn(*args)
    except (UtraceError, OSError, ValueError):
        pass
