"""gdb's packets as typed requests: :func:`parse` turns a payload into one.

Every packet the gdb engine serves has a frozen dataclass here; anything else,
including ``vMustReplyEmpty`` and the ``q`` queries we do not serve, is
:class:`Unknown`, which the server answers with the empty reply (the manual:
"an empty response ... means the packet is not supported").  A known packet
that is malformed (bad hex, missing fields, odd-length register data) raises
:class:`~.packets.ProtocolError` with a message the server sends as ``E.msg``.

Numbers are hex, as everywhere in the protocol.  Thread ids follow gdb's
multiprocess syntax (manual, "thread-id syntax"): ``pPID.TID``, ``pPID``
(= ``pPID.-1``), plain ``TID``, with ``-1`` for all and ``0`` for any.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from .packets import ProtocolError  # noqa: F401 (used by parse, being written)


@dataclass(frozen=True, slots=True)
class ThreadId:
    """A gdb thread id.  ``pid`` is None when gdb used the plain form."""

    pid: int | None
    tid: int

    ALL: ClassVar[ThreadId]
    ANY: ClassVar[ThreadId]

    def encode(self) -> bytes:
        """The wire form: ``p4d2.4d3`` or ``4d3``, ``-1`` for all."""
        raise NotImplementedError

    def matches(self, pid: int, tid: int) -> bool:
        """Does this id (possibly all/any) name thread ``tid`` of process ``pid``?"""
        raise NotImplementedError


ThreadId.ALL = ThreadId(None, -1)
ThreadId.ANY = ThreadId(None, 0)


class BreakpointType(enum.IntEnum):
    """The ``Z``/``z`` type digit."""

    SOFTWARE = 0
    HARDWARE = 1
    WRITE_WATCH = 2
    READ_WATCH = 3
    ACCESS_WATCH = 4


class ResumeKind(enum.Enum):
    """What one ``vCont`` action does to its threads."""

    CONTINUE = "c"
    STEP = "s"
    STOP = "t"
    RANGE_STEP = "r"


class Request:
    """Base of every parsed packet."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Unknown(Request):
    """A packet we do not serve: answer with the empty reply."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class QuerySupported(Request):
    """``qSupported[:f+;f-;f=v...]``: gdb's features, ``+``/``-`` as bools."""

    features: Mapping[str, bool | str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class QueryHaltReason(Request):
    """``?``: why the target is stopped (answered with a stop reply)."""


@dataclass(frozen=True, slots=True)
class ReadRegisters(Request):
    """``g``: all registers of the Hg thread."""


@dataclass(frozen=True, slots=True)
class WriteRegisters(Request):
    """``G XX...``: all registers, raw bytes in target order (hex decoded)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ReadRegister(Request):
    """``p n``: register number ``n`` (target description numbering)."""

    number: int


@dataclass(frozen=True, slots=True)
class WriteRegister(Request):
    """``P n=XX...``: register ``n`` gets ``value`` (raw bytes, target order)."""

    number: int
    value: bytes


@dataclass(frozen=True, slots=True)
class ReadMemory(Request):
    """``m addr,length``."""

    address: int
    length: int


@dataclass(frozen=True, slots=True)
class WriteMemory(Request):
    """``M addr,length:XX...`` (hex) or ``X addr,length:bin`` (binary): ``data``
    decoded.  ``X addr,0:`` is gdb's probe for ``X`` support (answer OK)."""

    address: int
    data: bytes
    binary: bool = False


@dataclass(frozen=True, slots=True)
class QueryResumeActions(Request):
    """``vCont?``: which vCont actions we support."""


@dataclass(frozen=True, slots=True)
class ResumeAction:
    """One ``vCont`` action: ``c``/``C sig``/``s``/``S sig``/``t``/``r start,end``,
    for ``thread`` (``ThreadId.ALL`` when gdb gave none).  The leftmost action
    whose thread matches a thread applies to it (manual, ``vCont``)."""

    kind: ResumeKind
    thread: ThreadId = ThreadId.ALL
    signal: int | None = None
    step_range: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Resume(Request):
    """``vCont;ACTION[:THREAD]...``."""

    actions: tuple[ResumeAction, ...]


@dataclass(frozen=True, slots=True)
class Continue(Request):
    """``c [addr]`` or ``C sig[;addr]``: continue the Hc thread(s)."""

    address: int | None = None
    signal: int | None = None


@dataclass(frozen=True, slots=True)
class Step(Request):
    """``s [addr]`` or ``S sig[;addr]``: single-step the Hc thread."""

    address: int | None = None
    signal: int | None = None


@dataclass(frozen=True, slots=True)
class SetThread(Request):
    """``Hg id`` (registers, memory: ``operation`` 'g') or ``Hc id`` ('c': c/s)."""

    operation: str
    thread: ThreadId


@dataclass(frozen=True, slots=True)
class ThreadListStart(Request):
    """``qfThreadInfo``."""


@dataclass(frozen=True, slots=True)
class ThreadListNext(Request):
    """``qsThreadInfo``."""


@dataclass(frozen=True, slots=True)
class ThreadAlive(Request):
    """``T id``: OK if the thread is alive, else an error."""

    thread: ThreadId


@dataclass(frozen=True, slots=True)
class QueryAttached(Request):
    """``qAttached[:pid]``: 1 if we attached to an existing process, 0 if we launched it."""

    pid: int | None = None


@dataclass(frozen=True, slots=True)
class InsertBreakpoint(Request):
    """``Zt,addr,kind[;cond...]``: kind is the breakpoint length or watch size."""

    type: BreakpointType
    address: int
    kind: int


@dataclass(frozen=True, slots=True)
class RemoveBreakpoint(Request):
    """``zt,addr,kind``."""

    type: BreakpointType
    address: int
    kind: int


@dataclass(frozen=True, slots=True)
class XferRead(Request):
    """``qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH``."""

    object: str
    annex: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Detach(Request):
    """``D`` or ``D;pid``."""

    pid: int | None = None


@dataclass(frozen=True, slots=True)
class Kill(Request):
    """``k``: kill; gdb expects no reply."""


@dataclass(frozen=True, slots=True)
class KillProcess(Request):
    """``vKill;pid``: kill process ``pid``; answered OK or an error."""

    pid: int


@dataclass(frozen=True, slots=True)
class StartNoAckMode(Request):
    """``QStartNoAckMode``: reply OK (still acked), then :meth:`Framer.start_no_ack`."""


@dataclass(frozen=True, slots=True)
class PassSignals(Request):
    """``QPassSignals:sig;sig...``: deliver these without stopping (replaces the set)."""

    signals: frozenset[int]


@dataclass(frozen=True, slots=True)
class CatchSyscalls(Request):
    """``QCatchSyscalls:0`` (off) or ``QCatchSyscalls:1[;nr...]`` (on; no numbers = all)."""

    enabled: bool
    numbers: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class QueryCurrentThread(Request):
    """``qC``: the current thread (answered ``QCp1234.1234``)."""


def parse(payload: bytes) -> Request:
    """The request in one packet's payload (see the module docstring)."""
    raise NotImplementedError
