"""The user's breakpoints, on the core's breakpoint service (``insert_breakpoint``).

A user breakpoint remembers its LOCATION as typed (``main``, ``greet+4``,
``*0x401136``) and is resolved again for each new program image: at ``run``
(ASLR moves PIE code) and after exec (the core drops every trap there).  One
that cannot be resolved yet stays *pending* and is tried again at each stop.
Traps are owned by the REPL engine through its attachment to the main thread;
the core reports a hit from any thread of the process to that engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydbg_utrace import UtraceError
from pydbg_utrace.source.evaluate import evaluate
from pydbg_utrace.source.lines import LineRange
from pydbg_utrace.source.values import SourceError

from .expr import ExprError
from .session import DebugError, Session

if TYPE_CHECKING:
    from .sourcelevel import SourceLevel
    from .symbols import SymbolTable


class BreakContext(Protocol):
    """What the breakpoint table uses of the debugger: a narrower view of
    :class:`.context.Context` (which names this table, so this module may not
    import it back)."""

    session: Session
    source: SourceLevel

    def say(self, text: str = "") -> None: ...

    def evaluate(self, text: str) -> int: ...

    def describe(self, address: int) -> str: ...

    def symbols(self) -> SymbolTable: ...


@dataclass
class UserBreakpoint:
    number: int
    location: str
    temporary: bool = False
    enabled: bool = True
    hits: int = 0
    address: int | None = None  # where it is (None: pending)
    line: LineRange | None = None  # the source line there
    core: Any = None  # pydbg_utrace.breakpoints.Breakpoint while inserted
    condition: str | None = None  # `condition N EXPR`: stop only when true
    ignore: int = 0  # `ignore N COUNT`: crossings still to pass
    commands: list[str] = field(default_factory=list)  # `commands N`: run at each stop
    function: str = ""  # the function it is in, as last named
    stub: bool = False  # at a PLT stub until the library with the function is loaded

    @property
    def inserted(self) -> bool:
        return self.core is not None and self.core.inserted

    def describe(self, dbg: BreakContext) -> str:
        if self.address is None:
            return f"<pending> {self.location}" if self.enabled else self.location
        if self.line is None and self.inserted:  # placed while the linker was at work
            try:
                self.line = dbg.source.program().line_at(self.address)
            except (SourceError, DebugError, OSError):
                pass
        if self.line is not None:
            fn = dbg.describe(self.address).strip("<>").split("+")[0] or self.function
            if self._named_by_location(dbg):
                fn = self.location  # gdb: the DIE its linespec found (kill, not __GI_kill)
            self.function = fn  # kept for when the program is gone (gdb still names it)
            return f"{self.address:#x} in {fn} at {self.line.file}:{self.line.line}"
        where = dbg.describe(self.address)
        return f"{self.address:#x} {where}".rstrip()

    def _named_by_location(self, dbg: BreakContext) -> bool:
        """Is the LOCATION a name of one of the DWARF functions here?  (glibc's
        syscall-template.S has several for one pc: kill, __kill, __GI_kill...)"""
        if not re.fullmatch(r"[A-Za-z_]\w*", self.location) or self.address is None:
            return False
        try:
            image = dbg.source.program().image_at(self.address)
            if image is None or not image.debug.has_dwarf:
                return False
            pc = self.address - image.bias
            unit = image.debug.unit_at(pc)
            return unit is not None and any(
                fn.name == self.location and fn.contains(pc)
                for fn in image.debug.functions(unit))
        except (SourceError, DebugError, OSError):
            return False

    def announce(self) -> str:
        """gdb's ``Breakpoint 1 at 0x1171: file f.c, line 58.``"""
        kind = "Temporary breakpoint" if self.temporary else "Breakpoint"
        if self.address is None:
            return f"{kind} {self.number} ({self.location}) pending."
        if self.line is None:
            return f"{kind} {self.number} at {self.address:#x}"
        return f"{kind} {self.number} at {self.address:#x}: file {self.line.file}, " \
            f"line {self.line.line}."


def resolve(dbg: BreakContext, location: str):
    """Where LOCATION is: ``FILE:LINE``, ``FUNCTION`` past its prologue, ``*ADDRESS``
    or an address expression (:meth:`SourceLevel.location`)."""
    try:
        return dbg.source.location(location, dbg.evaluate)
    except SourceError as exc:
        raise DebugError(str(exc)) from None


class Breakpoints:
    """All user breakpoints of the session, by number (shared with catch/watch points)."""

    def __init__(self) -> None:
        self.points: dict[int, UserBreakpoint] = {}
        self.hook: Any = None  # the core breakpoint on the dynamic linker's _dl_debug_state

    def add(self, dbg: BreakContext, location: str, temporary: bool) -> UserBreakpoint:
        if not location:
            raise DebugError("Argument required (a location: address, symbol, symbol+off).")
        alive = dbg.session.alive
        try:
            where = resolve(dbg, location)  # from the file before `run`
        except (ExprError, DebugError):
            if alive:
                raise  # a typo is an error now, not a pending point
            where = None
        bp = UserBreakpoint(dbg.session.take_number(), location, temporary)
        if where is not None:
            bp.address, bp.line, bp.stub = where.address, where.line, where.stub
        if alive:
            self._insert(dbg, bp, where.address)
        self.points[bp.number] = bp
        return bp

    def _insert(self, dbg: BreakContext, bp: UserBreakpoint, address: int) -> None:
        session = dbg.session
        session.require_process()
        att = session.any_attachment()
        if att is None:
            raise DebugError(f"Cannot insert breakpoint {bp.number} at {address:#x}: "
                             "the program has no threads left")
        try:
            bp.core = att.insert_breakpoint(address)  # a temporary one: lifted by hit()
        except (ValueError, OSError, UtraceError) as exc:
            raise DebugError(f"Cannot insert breakpoint {bp.number} at {address:#x}: "
                             f"{exc}") from None
        bp.address = address
        session.on_tracer(session.engine.mark_user_breakpoint, address, True)

    def _lift(self, dbg: BreakContext, bp: UserBreakpoint) -> None:
        if bp.address is not None and not any(
                other.address == bp.address and other is not bp and other.inserted
                for other in self.points.values()):
            dbg.session.on_tracer(dbg.session.engine.mark_user_breakpoint, bp.address, False)
        if bp.inserted and dbg.session.alive:
            att = dbg.session.any_attachment()
            if att is not None:
                try:
                    att.remove_breakpoint(bp.core)
                except UtraceError:
                    pass
        bp.core = None

    def refresh(self, dbg: BreakContext) -> list[str]:
        """Insert what is enabled but not in the program (new image); what happened."""
        said = []
        if not dbg.session.alive:
            for bp in self.points.values():
                bp.core = None
            self.hook = None
            dbg.session.engine.mark_internal(None, False)  # (no program: no callbacks)
            return said
        for bp in self.points.values():
            if bp.enabled and bp.inserted and bp.stub:
                self._leave_stub(dbg, bp)
            if not bp.enabled or bp.inserted:
                continue
            try:
                where = resolve(dbg, bp.location)  # again: the program may sit elsewhere
                bp.address, bp.line, bp.stub = where.address, where.line, where.stub
                self._insert(dbg, bp, where.address)
            except (ExprError, DebugError):
                continue  # still pending: maybe a library not loaded yet
            said.append(f"Breakpoint {bp.number} at {bp.address:#x}: {bp.location}")
        self._hook_libraries(dbg)
        return said

    def _leave_stub(self, dbg: BreakContext, bp: UserBreakpoint) -> None:
        """A breakpoint at ``kill@plt`` moves to ``kill`` once a library has it (gdb
        re-sets its breakpoints at each library change), silently, as gdb."""
        try:
            where = resolve(dbg, bp.location)
        except (ExprError, DebugError):
            return
        if where.stub:
            return
        self._lift(dbg, bp)
        bp.address, bp.line, bp.stub = where.address, where.line, False
        try:
            self._insert(dbg, bp, where.address)
        except DebugError:
            bp.address = None  # pending again, tried at the next change

    def _hook_libraries(self, dbg: BreakContext) -> None:
        """While some breakpoint is pending, stop (silently) where the dynamic linker
        announces a change of the loaded libraries (gdb's shlib event breakpoint)."""
        pending = any(bp.enabled and (bp.address is None or bp.stub)
                      for bp in self.points.values())
        session = dbg.session
        engine = session.engine
        if pending and (self.hook is None or not self.hook.inserted):
            sym = dbg.symbols().lookup("_dl_debug_state")
            if sym is None:
                return  # a static program: nothing will be loaded
            att = session.any_attachment()
            if att is None:
                return
            try:
                self.hook = att.insert_breakpoint(sym.address)
            except (ValueError, OSError, UtraceError):
                return
            session.on_tracer(engine.mark_internal, sym.address, True)
        elif not pending and self.hook is not None:
            session.on_tracer(engine.mark_internal, self.hook.address, False)
            att = session.any_attachment()
            if att is not None and self.hook.inserted:
                try:
                    att.remove_breakpoint(self.hook)
                except UtraceError:
                    pass
            self.hook = None

    def at(self, address: int | None) -> list[UserBreakpoint]:
        return [bp for bp in self.points.values()
                if bp.enabled and bp.inserted and bp.address == address and address is not None]

    def hit(self, dbg: BreakContext, address: int | None) -> list[UserBreakpoint]:
        """The breakpoints at ``address`` that stop the program now (counted): those
        whose condition holds and whose ignore count is spent, as gdb decides."""
        found = []
        for bp in self.at(address):
            if bp.condition is not None and not _holds(dbg, bp):
                continue
            bp.hits += 1
            if bp.ignore > 0:
                bp.ignore -= 1
                continue
            found.append(bp)
        for bp in found:
            if bp.temporary:
                self.points.pop(bp.number)
                self._lift(dbg, bp)
        return found

    def clear_hit_counts(self) -> None:
        """A new run starts counting again (gdb's clear_breakpoint_hit_counts)."""
        for bp in self.points.values():
            bp.hits = 0

    def delete(self, dbg: BreakContext, number: int) -> bool:
        bp = self.points.pop(number, None)
        if bp is None:
            return False
        self._lift(dbg, bp)
        return True

    def set_enabled(self, dbg: BreakContext, number: int, enabled: bool) -> bool:
        bp = self.points.get(number)
        if bp is None:
            return False
        bp.enabled = enabled
        if enabled:
            self.refresh(dbg)
        else:
            self._lift(dbg, bp)
        return True


def _holds(dbg: BreakContext, bp: UserBreakpoint) -> bool:
    """The condition's truth in the frame that hit; an error stops, as in gdb."""
    try:
        return evaluate(bp.condition or "1", dbg.source.scope()).as_int() != 0
    except (SourceError, DebugError, OSError) as exc:
        dbg.say(f"Error in testing condition for breakpoint {bp.number}:\n{exc}")
        return True
