"""The user's breakpoints, on the core's breakpoint service (``insert_breakpoint``).

A user breakpoint remembers its LOCATION as typed (``main``, ``greet+4``,
``*0x401136``) and is resolved again for each new program image: at ``run``
(ASLR moves PIE code) and after exec (the core drops every trap there).  One
that cannot be resolved yet stays *pending* and is tried again at each stop.
Traps are owned by the REPL engine through its attachment to the main thread;
the core reports a hit from any thread of the process to that engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydbg_utrace import UtraceError

from .expr import ExprError
from .session import DebugError

if TYPE_CHECKING:
    from .debugger import Debugger


@dataclass
class UserBreakpoint:
    number: int
    location: str
    temporary: bool = False
    enabled: bool = True
    hits: int = 0
    address: int | None = None  # where it is inserted now (None: pending or disabled)
    core: Any = None  # pydbg_utrace.breakpoints.Breakpoint while inserted

    @property
    def inserted(self) -> bool:
        return self.core is not None and self.core.inserted

    def describe(self, dbg: Debugger) -> str:
        if not self.inserted:
            return f"<pending> {self.location}" if self.enabled else self.location
        where = dbg.describe(self.address)
        return f"{self.address:#x} {where}".rstrip()


def resolve(dbg: Debugger, location: str) -> int:
    """The address of LOCATION: ``*ADDRESS`` as gdb writes it, or an expression."""
    text = location[1:] if location.startswith("*") else location
    return dbg.evaluate(text)


class Breakpoints:
    """All user breakpoints of the session, by number (shared with catch/watch points)."""

    def __init__(self) -> None:
        self.points: dict[int, UserBreakpoint] = {}
        self.hook: Any = None  # the core breakpoint on the dynamic linker's _dl_debug_state

    def add(self, dbg: Debugger, location: str, temporary: bool) -> UserBreakpoint:
        if not location:
            raise DebugError("Argument required (a location: address, symbol, symbol+off).")
        bp = UserBreakpoint(dbg.session.take_number(), location, temporary)
        if dbg.session.alive:
            address = resolve(dbg, location)  # a typo is an error now, not a pending point
            self._insert(dbg, bp, address)
        self.points[bp.number] = bp
        return bp

    def _insert(self, dbg: Debugger, bp: UserBreakpoint, address: int) -> None:
        session = dbg.session
        attachments = session.engine.attachments
        att = attachments.get(session.require_process().pid) or next(iter(attachments.values()))
        try:
            bp.core = att.insert_breakpoint(address, oneshot=bp.temporary)
        except (ValueError, OSError, UtraceError) as exc:
            raise DebugError(f"Cannot insert breakpoint {bp.number} at {address:#x}: "
                             f"{exc}") from None
        bp.address = address

    def _lift(self, dbg: Debugger, bp: UserBreakpoint) -> None:
        if bp.inserted and dbg.session.alive:
            att = next(iter(dbg.session.engine.attachments.values()), None)
            if att is not None:
                try:
                    att.remove_breakpoint(bp.core)
                except UtraceError:
                    pass
        bp.core, bp.address = None, None

    def refresh(self, dbg: Debugger) -> list[str]:
        """Insert what is enabled but not in the program (new image); what happened."""
        said = []
        if not dbg.session.alive:
            for bp in self.points.values():
                bp.core, bp.address = None, None
            self.hook = None
            dbg.session.engine.internal.clear()
            return said
        for bp in self.points.values():
            if not bp.enabled or bp.inserted:
                continue
            try:
                self._insert(dbg, bp, resolve(dbg, bp.location))
            except (ExprError, DebugError):
                continue  # still pending: maybe a library not loaded yet
            said.append(f"Breakpoint {bp.number} at {bp.address:#x}: {bp.location}")
        self._hook_libraries(dbg)
        return said

    def _hook_libraries(self, dbg: Debugger) -> None:
        """While some breakpoint is pending, stop (silently) where the dynamic linker
        announces a change of the loaded libraries (gdb's shlib event breakpoint)."""
        pending = any(bp.enabled and not bp.inserted for bp in self.points.values())
        engine = dbg.session.engine
        if pending and (self.hook is None or not self.hook.inserted):
            sym = dbg.symbols().lookup("_dl_debug_state")
            if sym is None:
                return  # a static program: nothing will be loaded
            att = next(iter(engine.attachments.values()))
            try:
                self.hook = att.insert_breakpoint(sym.address)
            except (ValueError, OSError, UtraceError):
                return
            engine.internal.add(sym.address)
        elif not pending and self.hook is not None:
            engine.internal.discard(self.hook.address)
            att = next(iter(engine.attachments.values()), None)
            if att is not None and self.hook.inserted:
                try:
                    att.remove_breakpoint(self.hook)
                except UtraceError:
                    pass
            self.hook = None

    def hit(self, address: int | None) -> list[UserBreakpoint]:
        """The breakpoints at ``address`` that just stopped the program (counted)."""
        found = [bp for bp in self.points.values()
                 if bp.enabled and bp.address == address and address is not None]
        for bp in found:
            bp.hits += 1
            if bp.temporary:
                self.points.pop(bp.number)
        return found

    def delete(self, dbg: Debugger, number: int) -> bool:
        bp = self.points.pop(number, None)
        if bp is None:
            return False
        self._lift(dbg, bp)
        return True

    def set_enabled(self, dbg: Debugger, number: int, enabled: bool) -> bool:
        bp = self.points.get(number)
        if bp is None:
            return False
        bp.enabled = enabled
        if enabled:
            self.refresh(dbg)
        else:
            self._lift(dbg, bp)
        return True
