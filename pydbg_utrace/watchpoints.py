"""Hardware watchpoints on x86_64: the debug registers DR0-DR3, DR6 and DR7.

The CPU has four address slots (DR0-DR3); DR7 says which are enabled, on
what access (write, or read/write) and over how many bytes (1, 2, 4 or 8,
aligned to that size).  When one fires, the thread gets a SIGTRAP *after*
the accessing instruction, with ``si_code`` ``TRAP_HWBKPT`` and the slot's
bit set in DR6.  ptrace reaches them through ``PTRACE_POKEUSER`` at
``offsetof(struct user, u_debugreg)`` (848 on x86_64, 8 bytes apart).

Debug registers belong to each *thread*: the tracer writes the process's
slots into every thread, and into each new one at its first stop.  A fork
child does not inherit them and exec clears them (the kernel's
``flush_ptrace_hw_breakpoint``).

The first half of this module is pure (DR7 encoding, validation, DR6
decoding) and unit-tested without a process; the second half is the table
of one process's slots and the I/O, and the service that owns the tables
and hangs on the tracer's hooks (:mod:`pydbg_utrace.hooks`), run by the
tracer thread only.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import kernel
from .errors import NoSuchThreadError, NotSupportedError
from .events import Event
from .hooks import Service, ServicePort

if TYPE_CHECKING:
    from .seams import AttachmentSide as Attachment
    from .seams import EngineSide as Engine
    from .seams import ProcessSide as Process
    from .seams import ThreadSide as Thread

BREAKPOINT = Event.BREAKPOINT  # hits are reported with report_breakpoint

DEBUGREG_OFFSET = 848  # offsetof(struct user, u_debugreg) on x86_64
SLOTS = 4  # DR0-DR3
DR6, DR7 = 6, 7
DR6_STEP = 1 << 14  # BS: the trap was (also) a single step
TRAP_TRACE, TRAP_HWBKPT = 2, 4  # si_code of a step and of a debug-register hit
#: R/W bits: 00 break on executing the instruction (a hardware breakpoint, LEN 00),
#: 01 on writes, 11 on reads and writes (x86 has no read-only).
ACCESS_BITS = {"x": 0b00, "w": 0b01, "rw": 0b11}
#: LEN bits: 00 one byte, 01 two, 11 four, 10 eight.
LEN_BITS = {1: 0b00, 2: 0b01, 4: 0b11, 8: 0b10}
SUPPORTED_ARCHES = ("x86_64",)


class NoFreeSlotError(RuntimeError):
    """All four debug registers are in use in this process."""


# -- pure: validation and encoding -------------------------------------------------

def check(address: int, size: int, access: str) -> None:
    """ValueError (one line) unless the debug registers can watch this."""
    if access not in ACCESS_BITS:
        raise ValueError(f"watch access {access!r}: use 'w' (writes), 'rw' (reads and "
                         "writes) or 'x' (execution); x86 debug registers cannot watch reads "
                         "alone")
    if access == "x" and size != 1:
        raise ValueError(f"an execute breakpoint is 1 byte (the instruction's first), not {size}")
    if size not in LEN_BITS:
        raise ValueError(f"watch size {size}: the debug registers watch 1, 2, 4 or 8 bytes")
    if address % size:
        raise ValueError(f"watch address {address:#x} is not aligned to its size {size}")
    if not 0 <= address < 1 << 47:
        raise ValueError(f"watch address {address:#x} is not a user-space address")


def dr7_bits(slot: int, size: int, access: str) -> int:
    """DR7's bits for one enabled slot: local enable, R/W and LEN."""
    if not 0 <= slot < SLOTS:
        raise ValueError(f"debug register slot {slot} (0-{SLOTS - 1})")
    control = ACCESS_BITS[access] | LEN_BITS[size] << 2
    return 1 << (2 * slot) | control << (16 + 4 * slot)


def encode_dr7(slots: Sequence[tuple[int, str] | None]) -> int:
    """DR7 for up to four slots, each ``(size, access)`` or None (disabled)."""
    value = 0
    for slot, spec in enumerate(slots):
        if spec is not None:
            value |= dr7_bits(slot, *spec)
    return value


def decode_dr7(value: int) -> list[tuple[int, str] | None]:
    """The inverse of :func:`encode_dr7` (slots enabled locally or globally)."""
    access_of = {bits: name for name, bits in ACCESS_BITS.items()}
    size_of = {bits: size for size, bits in LEN_BITS.items()}
    out: list[tuple[int, str] | None] = []
    for slot in range(SLOTS):
        if not value >> (2 * slot) & 0b11:
            out.append(None)
            continue
        control = value >> (16 + 4 * slot) & 0xF
        out.append((size_of[control >> 2], access_of.get(control & 0b11, "x")))
    return out


def fired_slots(dr6: int) -> list[int]:
    """Which slots DR6 says fired (B0-B3)."""
    return [slot for slot in range(SLOTS) if dr6 >> slot & 1]


def debugreg_offset(n: int) -> int:
    """Where ``u_debugreg[n]`` is for PEEKUSER/POKEUSER."""
    return DEBUGREG_OFFSET + 8 * n


def require_support(arch_name: str) -> None:
    if arch_name not in SUPPORTED_ARCHES:
        raise NotSupportedError(
            f"hardware watchpoints are implemented for the x86_64 debug registers only; "
            f"not on {arch_name} (its watch facility is not programmed by pydbg-utrace)")


# -- the table of one process ------------------------------------------------------

@dataclass(eq=False)
class Watchpoint:
    """One engine's watchpoint; several with the same (address, size, access) share a slot."""

    address: int
    size: int
    access: str
    engine: Engine
    hits: int = 0
    slot: WatchSlot | None = field(default=None, repr=False)

    @property
    def inserted(self) -> bool:
        return self.slot is not None


@dataclass(eq=False)
class WatchSlot:
    """One debug register in use: what it watches and whose watchpoints sit on it."""

    index: int
    address: int
    size: int
    access: str
    watchpoints: list[Watchpoint] = field(default_factory=list)

    def owned_by(self, engine: Engine) -> bool:
        """Does ``engine`` own a watchpoint here?  Counts the hit if so."""
        for wp in self.watchpoints:
            if wp.engine is engine:
                wp.hits += 1
                return True
        return False


class WatchpointTable:
    """The four debug-register slots of one process (the same in every thread)."""

    def __init__(self) -> None:
        self.slots: list[WatchSlot | None] = [None] * SLOTS

    def add(self, wp: Watchpoint) -> bool:
        """Put ``wp`` on a slot; True if a new slot was taken (threads need writing)."""
        for slot in self.slots:
            if slot is not None and (slot.address, slot.size, slot.access) == \
                    (wp.address, wp.size, wp.access):
                slot.watchpoints.append(wp)
                wp.slot = slot
                return False
        if None not in self.slots:
            raise NoFreeSlotError(f"all {SLOTS} debug registers are in use in this process")
        index = self.slots.index(None)
        slot = self.slots[index] = WatchSlot(index, wp.address, wp.size, wp.access, [wp])
        wp.slot = slot
        return True

    def discard(self, wp: Watchpoint) -> bool:
        """Take ``wp`` off its slot; True if the slot was freed (threads need writing)."""
        slot, wp.slot = wp.slot, None
        if slot is None or self.slots[slot.index] is not slot or wp not in slot.watchpoints:
            return False
        slot.watchpoints.remove(wp)
        if slot.watchpoints:
            return False
        self.slots[slot.index] = None
        return True

    def forget(self) -> None:
        """Drop every slot without touching threads (exec cleared the registers)."""
        for slot in self.slots:
            for wp in slot.watchpoints if slot is not None else ():
                wp.slot = None
        self.slots = [None] * SLOTS

    def dr7(self) -> int:
        return encode_dr7([None if s is None else (s.size, s.access) for s in self.slots])

    def __bool__(self) -> bool:
        return any(slot is not None for slot in self.slots)

    # -- I/O (tracer thread; the thread must be in a ptrace stop) ------------------------
    def program(self, tid: int) -> None:
        """Write the slots into one thread: disable, set addresses, enable."""
        kernel.poke_user(tid, debugreg_offset(DR7), 0)
        for slot in self.slots:
            if slot is not None:
                kernel.poke_user(tid, debugreg_offset(slot.index), slot.address)
        kernel.poke_user(tid, debugreg_offset(DR7), self.dr7())

    @staticmethod
    def clear(tid: int) -> None:
        """Disable every slot of one thread (detach)."""
        kernel.poke_user(tid, debugreg_offset(DR7), 0)

    def take_fired(self, tid: int) -> list[WatchSlot]:
        """The slots whose hit stopped this thread (from DR6, which is then cleared)."""
        dr6 = kernel.peek_user(tid, debugreg_offset(DR6))
        fired = [s for i in fired_slots(dr6) if (s := self.slots[i]) is not None]
        if fired_slots(dr6):
            kernel.poke_user(tid, debugreg_offset(DR6), 0)
        return fired


class WatchpointService(Service):
    """The debug registers as a service (:mod:`pydbg_utrace.hooks`): it owns the tables.

    One :class:`WatchpointTable` per process with a slot in use; programmed
    into every thread (new ones at birth, a vfork parent when it is back),
    read at a debug trap, cleared at detach, forgotten at exec.
    """

    def __init__(self, port: ServicePort) -> None:
        self.port = port
        # Keyed by the process object: dropped with it (or at exec).
        self.tables: weakref.WeakKeyDictionary[Process, WatchpointTable] = \
            weakref.WeakKeyDictionary()

    def table_of(self, process: Process | None) -> WatchpointTable | None:
        """The process's watchpoint table if it has a slot in use, else None."""
        if process is None:
            return None
        table = self.tables.get(process)
        return table if table else None

    def table_for(self, process: Process) -> WatchpointTable:
        """The process's table, made on first use."""
        table = self.tables.get(process)
        if table is None:
            table = self.tables[process] = WatchpointTable()
        return table

    # -- the engine API (Attachment.insert_watchpoint / remove_watchpoint) ---------------
    def insert(self, att: Attachment, address: int, size: int, access: str) -> Watchpoint:
        thread = att.thread
        if att.detached or not thread.alive:
            raise NoSuchThreadError(f"thread {thread.tid} is gone or the engine detached")
        require_support(thread.arch.name)
        check(address, size, access)
        process = thread.process
        table = self.table_for(process)
        wp = Watchpoint(address, size, access, att.engine)
        if table.add(wp):
            try:
                self._program(process, table)
            except kernel.KernelError:
                table.discard(wp)
                self._program(process, table)
                raise
        att.events |= BREAKPOINT
        return wp

    def remove(self, wp: Watchpoint) -> None:
        for process, table in list(self.tables.items()):
            if table and wp.slot in table.slots and self.port.process_of(process.pid) is process:
                if table.discard(wp):
                    self._program(process, table)
                return
        wp.slot = None

    def _program(self, process: Process, table: WatchpointTable) -> None:
        """Write the slots into every thread, holding the running ones meanwhile."""
        def program(tid: int) -> None:
            try:
                table.program(tid)
            except kernel.NoSuchProcessError:
                pass  # exiting: its death follows

        self.port.with_threads_stopped(process, program)

    def _arm(self, thread: Thread) -> None:
        """A thread stopped at birth (or back from vfork) gets the process's registers."""
        table = self.table_of(thread.process)
        if table is not None:
            try:
                table.program(thread.tid)
            except kernel.NoSuchProcessError:
                pass

    # -- the hooks --------------------------------------------------------------------
    def new_thread(self, thread: Thread) -> None:
        self._arm(thread)

    def vfork_done(self, thread: Thread) -> None:
        self._arm(thread)  # slots written while it was in the kernel missed it

    def exec(self, process: Process) -> None:
        """The kernel cleared every thread's debug registers: forget the slots."""
        table = self.tables.pop(process, None)
        if table is not None:
            table.forget()

    def trap(self, thread: Thread, info: Any) -> bool:
        """Report the slots DR6 says fired to the engines owning them; any fired?"""
        if info is not None and info.code not in (TRAP_HWBKPT, TRAP_TRACE):
            return False
        table = self.table_of(thread.process)
        if table is None:
            return False
        try:
            fired = table.take_fired(thread.tid)
        except kernel.NoSuchProcessError:
            return False
        for slot in fired:
            owners = [att for att in thread.attachments if slot.owned_by(att.engine)]
            if owners:
                self.port.report_hit(thread, owners, slot.address, slot)
        return bool(fired)

    def engine_left(self, att: Attachment, last_in_process: bool) -> None:
        if not last_in_process:
            return
        table = self.table_of(att.thread.process)
        if table is None:
            return
        try:
            for slot in list(table.slots):
                for wp in list(slot.watchpoints) if slot is not None else ():
                    if wp.engine is att.engine:
                        self.remove(wp)
        except kernel.NoSuchProcessError:
            pass  # it died meanwhile: its death report follows

    def detach(self, thread: Thread) -> None:
        if self.table_of(thread.process) is not None:
            WatchpointTable.clear(thread.tid)
