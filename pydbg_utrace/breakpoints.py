"""Software breakpoints shared by engines: one trap per address, many owners.

A :class:`Trap` is an instruction we wrote into the program (the arch's
breakpoint instruction) with the original bytes it hides.  Engines own
:class:`Breakpoint` objects; any number of them may sit on one trap, and the
trap goes only when the last one does.  The stepper uses traps too (ppc64's
atomic sequences): those belong to a stepping thread, not to an engine.

A trap whose last owner went while other threads ran is *retired* rather
than forgotten (gdb's "moribund locations"): a thread may have executed it
just before the original went back and still owe the tracer its report.  The
table remembers, per retired address, the threads that may still owe one;
each is crossed off when it reports any stop that proves it owes nothing
(see :meth:`BreakpointTable.settled`), and the address is forgotten when
none is left.

This module edits memory and keeps the tables: :class:`BreakpointService`
owns one :class:`BreakpointTable` per process (keyed by the process, as the
watchpoint service keeps its own), and decides what happens to the traps at
a hit, a fork, a vfork, an exec, a detach and when an engine leaves, on the
tracer's hooks (:mod:`pydbg_utrace.hooks`).  A hit is its ``trap`` hook, as
a debug-register hit is the watchpoint service's: it rewinds the PC, tells
the owners (conditions, hit counts, oneshot) and owes the thread a
step-over.  The mechanics around our traps -- stepping over one with the
other threads held, software-step traps, late hits of removed traps, a
detach's owed hits -- are the tracer's (``tracer/traps.py``,
``tracer/lifecycle.py``): they read the tables through the service
(``tracer.ports.TrapTables``).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import kernel
from .errors import NoSuchThreadError
from .events import Event
from .hooks import Service, ServicePort
from .memory import AddressSpace, same_memory

if TYPE_CHECKING:
    from .seams import AttachmentSide as Attachment
    from .seams import EngineSide as Engine
    from .seams import ProcessSide as Process
    from .seams import ReportSide as Report
    from .seams import ThreadSide as Thread

log = logging.getLogger("pydbg_utrace")


@dataclass(eq=False)
class Breakpoint:
    """One engine's breakpoint at ``address`` in one process.

    ``condition(report)`` false: this engine is not told of the hit.
    ``oneshot``: removed after its first reported hit.
    """

    address: int
    engine: Engine
    condition: Callable[[Report], bool] | None = None
    oneshot: bool = False
    hits: int = 0
    table: BreakpointTable | None = field(default=None, repr=False)

    @property
    def inserted(self) -> bool:
        return self.table is not None


@dataclass(eq=False)
class Trap:
    original: bytes
    breakpoints: list[Breakpoint] = field(default_factory=list)
    steppers: set[Any] = field(default_factory=set)  # threads whose soft step ends here

    def wanted(self) -> bool:
        return bool(self.breakpoints or self.steppers)


class BreakpointTable:
    """The traps of one address space."""

    def __init__(self, space: AddressSpace, instruction: bytes,
                 suspects: Callable[[], Iterable[int]] = tuple,
                 lent: Callable[[], bool] = bool,
                 owing: Callable[[Callable[[int], None] | None], None] = lambda settle: None):
        self.space = space
        self.instruction = instruction
        self.traps: dict[int, Trap] = space.traps  # the space hides them from reads
        # Retired traps: address -> tids that may still report a hit there.
        # ``suspects()`` names, at removal time, every thread that could.
        self.retired: dict[int, set[int]] = {}
        self.suspects = suspects
        # ``lent()``: a vfork child runs on this memory; the traps stay in the
        # table but not in memory until it is given back (lower_all).
        self.lent = lent
        # Every address a trap was removed from, with its original (until exec): a
        # child forked before a removal still has the trap in its copy (scrub_copy).
        self.removed: dict[int, bytes] = {}
        # ``owing(self.settled)`` while a retired trap may still be owed a hit,
        # ``owing(None)`` once none is: the process calls it at every stop then
        # (Process.settled), and nothing else does.
        self.owing = owing

    def add(self, bp: Breakpoint) -> None:
        self._trap(bp.address).breakpoints.append(bp)
        bp.table = self

    def discard(self, bp: Breakpoint) -> None:
        trap = self.traps.get(bp.address)
        if trap is not None and bp in trap.breakpoints:
            trap.breakpoints.remove(bp)
            self._maybe_remove(bp.address)
        bp.table = None

    def add_step(self, thread: Any, address: int) -> None:
        self._trap(address).steppers.add(thread)

    def discard_steps(self, thread: Any) -> None:
        for address, trap in list(self.traps.items()):
            if thread in trap.steppers:
                trap.steppers.discard(thread)
                self._maybe_remove(address)

    def trap_at(self, address: int) -> Trap | None:
        return self.traps.get(address)

    def owes_hit(self, address: int) -> bool:
        """Is ``address`` a retired trap whose late hit this is?

        Not if the program itself now has the trap instruction there (its own
        breakpoint instruction, or a re-inserted trap of ours).
        """
        if address not in self.retired:
            return False
        return self.space.read_raw(address, len(self.instruction)) != self.instruction

    def settled(self, tid: int) -> None:
        """Thread ``tid`` reported a stop that proves it owes no retired trap a hit.

        A thread that executed a trap reports the SIGTRAP at its next return
        to user mode; before it, only job-control stops (an interrupt, a group
        stop) can come (the kernel handles those first, and dequeues
        synchronous signals such as that SIGTRAP before any other).  So any
        other stop -- a signal, a system call, an event, a step -- or its
        death settles it.
        """
        for address, suspects in list(self.retired.items()):
            suspects.discard(tid)
            if not suspects:
                del self.retired[address]
        if not self.retired:
            self.owing(None)

    def lift(self, address: int) -> None:
        """Put the original instruction back for a moment (stepping over it)."""
        self.space.write_raw(address, self.traps[address].original)

    def lower(self, address: int) -> None:
        """Put the trap back after :meth:`lift` (not while the memory is lent)."""
        if address in self.traps and not self.lent():
            self.space.write_raw(address, self.instruction)

    def adopt(self, address: int, original: bytes) -> None:
        """Take over a trap already in memory (a forked child's copy)."""
        self.traps.setdefault(address, Trap(original))

    def lift_all(self) -> None:
        """Put every original back but keep the table (a vfork child runs meanwhile)."""
        for address in self.traps:
            self.lift(address)

    def lower_all(self) -> None:
        """Put every trap back (the vfork children have given the memory back)."""
        for address in self.traps:
            self.lower(address)

    def restore_all(self) -> None:
        """Write every original back (detach, fork child) and forget the traps."""
        for address, trap in list(self.traps.items()):
            self.space.write_raw(address, trap.original)
        self.forget()

    def forget(self) -> None:
        """Drop every trap without writing (exec: that memory is gone)."""
        for trap in self.traps.values():
            for bp in trap.breakpoints:
                bp.table = None
        self.traps.clear()
        self.retired.clear()
        self.removed.clear()
        self.owing(None)

    def scrub_copy(self, copy: AddressSpace) -> None:
        """Put back, in a forked child's ``copy``, the originals of traps removed since.

        fork() copies the memory before the tracer hears of the child, so a trap
        removed in between is gone from the parent but still in the copy.  An
        address that holds our trap instruction in the copy but no trap in this
        table is such a leftover.
        """
        for address, original in self.removed.items():
            if address not in self.traps \
                    and copy.read_raw(address, len(self.instruction)) == self.instruction:
                copy.write_raw(address, original)

    def breakpoints(self) -> list[Breakpoint]:
        return [bp for trap in self.traps.values() for bp in trap.breakpoints]

    def _trap(self, address: int) -> Trap:
        trap = self.traps.get(address)
        if trap is None:
            original = self.space.read_raw(address, len(self.instruction))
            if len(original) != len(self.instruction):
                raise ValueError(f"cannot place a breakpoint at {address:#x}: not mapped")
            if not self.lent():  # else written when the vfork child gives it back
                self.space.write_raw(address, self.instruction)
            trap = self.traps[address] = Trap(original)
        return trap

    def _maybe_remove(self, address: int) -> None:
        trap = self.traps[address]
        if not trap.wanted():
            del self.traps[address]
            self.space.write_raw(address, trap.original)
            self.removed[address] = trap.original
            suspects = set(self.suspects())
            if suspects:
                self.retired.setdefault(address, set()).update(suspects)
                self.owing(self.settled)


class BreakpointService(Service):
    """Software breakpoints as a service: it owns the trap tables (one per process),
    serves the engine API, and decides the traps' fate at fork, vfork, exec,
    detach and an engine's leaving."""

    def __init__(self, port: ServicePort) -> None:
        self.port = port
        # Keyed by the process object: dropped with it (or at exec, detach).
        self.tables: weakref.WeakKeyDictionary[Process, BreakpointTable] = \
            weakref.WeakKeyDictionary()

    # -- the tables (tracer.ports.TrapTables) --------------------------------------------
    def table_for(self, process: Process) -> BreakpointTable:
        """The process's table, made on first use (in its memory as it is now)."""
        table = self.tables.get(process)
        if table is None:
            table = self.tables[process] = _table(process)
        return table

    def live(self, process: Process | None) -> BreakpointTable | None:
        """The process's table if it has a trap in it now, else None."""
        table = self.tables.get(process) if process is not None else None
        return table if table is not None and table.traps else None

    def owing(self, process: Process | None) -> BreakpointTable | None:
        """The process's table if a removed trap may still be owed a late hit, else None."""
        table = self.tables.get(process) if process is not None else None
        return table if table is not None and table.retired else None

    def trap_at(self, process: Process | None, address: int) -> Trap | None:
        """Our trap at ``address`` in ``process`` (None if none)."""
        table = self.live(process)
        return table.trap_at(address) if table is not None else None

    def to_inherit(self, process: Process) -> BreakpointTable | None:
        """The table if it has traps now or removed since exec: a child forked
        meanwhile may have a copy of either (else None)."""
        table = self.tables.get(process)
        return table if table is not None and (table.traps or table.removed) else None

    def restore_for_detach(self, process: Process) -> dict[int, bytes]:
        """Write every original back, forget the table; the originals of the traps,
        live or removed since exec (a thread or child of it may still meet one)."""
        table = self.tables.pop(process, None)
        if table is None or not (table.traps or table.removed):
            return {}
        originals = dict(table.removed)
        originals.update((address, trap.original) for address, trap in table.traps.items())
        table.restore_all()  # leave the program its own code
        return originals

    # -- the engine API (Attachment.insert_breakpoint / remove_breakpoint) ---------------
    def insert(self, att: Attachment, address: int, condition: Any, oneshot: bool
               ) -> Breakpoint:
        if att.detached or not att.thread.alive:
            raise NoSuchThreadError(f"thread {att.thread.tid} is gone or the engine detached")
        bp = Breakpoint(address, att.engine, condition, oneshot)
        process = att.thread.process
        try:
            self.table_for(process).add(bp)
        except (kernel.KernelError, ValueError) as exc:
            if process.gone_in_kernel():  # a memory error of a process that just died
                raise NoSuchThreadError(f"process {process.pid} has exited") from exc
            raise
        att.events |= Event.BREAKPOINT
        return bp

    def remove(self, bp: Breakpoint) -> None:
        table = bp.table
        if table is None:
            return
        try:
            table.discard(bp)
        except (kernel.KernelError, ValueError) as exc:
            bp.table = None  # the table has let go of it; only its memory was unwritable
            process = self.port.process_of(table.space.pid)
            if process is None or process.gone_in_kernel():
                raise NoSuchThreadError(f"process {table.space.pid} has exited") from exc
            raise

    # -- the hooks --------------------------------------------------------------------
    def trap(self, thread: Thread, info: Any) -> bool:
        """A hit of one of our traps?  Rewind the PC to it, tell the engines that own
        it, and owe the thread a step-over; True if the trap was ours (owned or not).

        (A software step's own traps are the tracer's, taken before this hook.)
        """
        if info is None or info.code != thread.arch.breakpoint_si_code:
            return False  # (the end of a step-over, a step's TRAP_TRACE: never a hit)
        table = self.live(thread.process)
        if table is None:
            return False
        try:
            regs = self.port.registers(thread)
        except kernel.NoSuchProcessError:
            return True  # killed (an execve's, a group exit's) since it stopped: exit follows
        address = regs.pc - thread.arch.breakpoint_pc_offset
        trap = table.trap_at(address)
        if trap is None:
            return False
        if regs.pc != address:
            regs.pc = address  # written back when it resumes
        self.port.owe_step_over(thread, address)
        owners = [att for att in thread.attachments if self._owns_hit(att, trap, address)]
        if owners:
            self.port.report_hit(thread, owners, address)
            for bp in [bp for bp in trap.breakpoints if bp.oneshot and bp.hits]:
                table.discard(bp)
        return True

    def _owns_hit(self, att: Attachment, trap: Trap, address: int) -> bool:
        """Does ``att``'s engine own a breakpoint on ``trap`` whose condition holds?
        Counts the hit if so."""
        report = None
        for bp in trap.breakpoints:
            if bp.engine is not att.engine or not bp.table:
                continue
            if bp.condition is not None:
                report = report or self.port.condition_report(att.thread, address)
                try:
                    if not bp.condition(report):
                        continue
                except Exception:
                    log.exception("breakpoint condition at %#x raised", bp.address)
                    continue
            bp.hits += 1
            return True
        return False

    def cloned(self, parent: Thread, child: Thread, kind: str) -> None:
        # (A clone(CLONE_VM) child shares the traps: writing the originals
        # into it would take them from the parent too.)
        table = self.to_inherit(parent.process)
        if kind in ("fork", "clone") and table is not None \
                and not same_memory(parent.tid, child.tid):
            self._inherit(table, child)

    def _inherit(self, parent: BreakpointTable, child: Thread) -> None:
        """A forked child has copies of our traps: keep those its own engines own."""
        kept_engines = {att.engine for att in child.attachments}
        child_table = self.table_for(child.process)
        parent.scrub_copy(child_table.space)
        for address, trap in parent.traps.items():
            wanted = [bp for bp in trap.breakpoints if bp.engine in kept_engines]
            if not wanted:
                child_table.space.write_raw(address, trap.original)
                continue
            child_table.adopt(address, trap.original)
            for bp in wanted:
                child_table.add(Breakpoint(address, bp.engine, bp.condition, bp.oneshot))

    def vfork_started(self, parent: Thread) -> None:
        """The traps are lifted meanwhile (the table is kept; put back at VFORK_DONE),
        so no step-over is needed or done in this process then."""
        table = self.live(parent.process)
        if table is not None:
            table.lift_all()

    def vfork_done(self, thread: Thread) -> None:
        table = self.live(thread.process)
        if table is not None and not thread.process.memory_lent():
            table.lower_all()

    def exec(self, process: Process) -> None:
        """The old address space is gone, and our traps with it: forget them (no write)."""
        table = self.tables.pop(process, None)
        if table is not None:
            table.forget()

    def engine_left(self, att: Attachment, last_in_process: bool) -> None:
        """Its breakpoints go with its last attachment in the process, and the
        software-step traps with a thread nobody steps any more."""
        table = self.live(att.thread.process)
        if table is None:
            return
        if not att.thread.steppers:
            table.discard_steps(att.thread)
        if not last_in_process:
            return
        try:
            for bp in table.breakpoints():
                if bp.engine is att.engine:
                    table.discard(bp)
        except kernel.NoSuchProcessError:
            pass  # it died meanwhile: its death report follows


def _table(process: Process) -> BreakpointTable:
    """A new table for ``process``'s memory, knowing the process only weakly (the
    service's dictionary holds the table while the process lives, not longer)."""
    ref = weakref.ref(process)

    def suspects() -> list[int]:
        alive = ref()
        return alive.unsettled() if alive is not None else []

    def lent() -> bool:
        alive = ref()
        return alive is not None and alive.memory_lent()

    def owing(settle: Callable[[int], None] | None) -> None:
        alive = ref()
        if alive is not None:
            alive.settle = settle

    return BreakpointTable(process.memory, process.arch.breakpoint_instruction,
                           suspects, lent, owing)


def scrub_child_copy(parent_tid: int, child: int, originals: dict[int, bytes],
                     instruction: bytes) -> None:
    """Write ``originals`` into a forked child's copy of the memory where our traps are.

    Not into a child sharing the memory (a thread, a vfork or CLONE_VM
    child): the originals are back there already.
    """
    if same_memory(parent_tid, child):
        return
    copy = AddressSpace(child)
    try:
        for address, original in originals.items():
            if copy.read_raw(address, len(instruction)) == instruction:
                copy.write_raw(address, original)
    except kernel.KernelError:
        pass  # it died meanwhile
    finally:
        copy.close()
