"""One process a gdb connection debugs: gdb's *inferior*, with its engine and gdb's traps in it.

A connection starts with one; with ``fork-events`` every fork the program
makes adds one (gdb's ``detach-on-fork off``, ``follow-fork-mode child``)
until gdb detaches it (``D;pid``) or it exits.  Each has its own
:class:`~.engine.GdbEngine`, so the core keeps their holds, breakpoints and
watchpoints apart as it does any two engines'.  A vfork child borrows its
parent's memory until it execs or exits: it gets traps of its own where gdb
believes the parent's are, and gives back what it could not take out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydbg_utrace import UtraceError

if TYPE_CHECKING:
    from pydbg_utrace import Attachment, Process

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
    # A vfork child runs on its parent's memory until it execs or exits: the
    # parent's inferior, and the originals under the traps this child put there.
    vfork_parent: Inferior | None = None
    borrowed: dict[int, bytes] = field(default_factory=dict)

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

    def vfork_child(self, engine: GdbEngine) -> Inferior:
        """The inferior of a vfork child, which borrows this one's memory.

        gdb believes the traps it put in the parent are in the child too, as
        they are natively (gdbserver copies the parent's breakpoint list into
        the child).  The core lifts every trap while a vfork child runs, so
        the child's engine inserts its own at the same addresses.
        """
        child = Inferior(engine, self.launched, vfork_parent=self)
        for address, bp in self.breakpoints.items():
            if bp is not INHERITED:
                _quietly(child.insert_breakpoint, address)
        return child

    def attachment(self) -> Attachment:
        """An attachment of our engine, for process-wide requests (breakpoints)."""
        atts = self.engine.attachments()
        if not atts:
            raise ValueError(f"process {self.pid} has no thread left")
        return atts[0]

    def insert_breakpoint(self, address: int) -> None:
        """gdb's Z0 (an inherited copy is gone: gdb means a trap of its own now)."""
        if self.breakpoints.get(address, INHERITED) is not INHERITED:
            return
        self.breakpoints[address] = self.attachment().insert_breakpoint(address)
        if self.vfork_parent is not None:
            # The memory's own bytes, which the core keeps under the trap: put
            # back through the parent if the child cannot take the trap out.
            self.borrowed[address] = self.process.memory.read(
                address, len(self.process.arch.breakpoint_instruction))

    def remove_breakpoint(self, address: int) -> None:
        """gdb's z0 (KeyError: not one gdb inserted here)."""
        bp = self.breakpoints.pop(address)
        self.borrowed.pop(address, None)  # the core writes the original back
        if bp is not INHERITED:
            self.attachment().remove_breakpoint(bp)

    def give_back(self) -> None:
        """A vfork child exec'd or exited: the memory is the parent's again.

        The core dropped the child's traps without writing (an exec: that is
        the child's old memory) or could not write them (an exit): the
        originals go back through the parent's memory service, which leaves
        the parent's own traps (any engine's) where they are.
        """
        parent, self.vfork_parent = self.vfork_parent, None
        borrowed, self.borrowed = self.borrowed, {}
        if parent is None:
            return
        for address, original in borrowed.items():
            _quietly(parent.process.memory.write, address, original)

    def forget_traps_if_exec(self) -> None:
        """After an exec the old program's traps are gone with its address space."""
        if self.engine.execs != self.execs:
            self.execs = self.engine.execs
            self.give_back()
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
        self.give_back()  # (what a dead vfork child could not take out)
        self.engine.detach()


def _quietly(fn: Callable, *args: object) -> None:
    try:
        fn(*args)
    except (UtraceError, OSError, ValueError):
        pass
