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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from .packets import ProtocolError


@dataclass(frozen=True, slots=True)
class ThreadId:
    """A gdb thread id.  ``pid`` is None when gdb used the plain form."""

    pid: int | None
    tid: int

    ALL: ClassVar[ThreadId]
    ANY: ClassVar[ThreadId]

    def encode(self) -> bytes:
        """The wire form: ``p4d2.4d3`` or ``4d3``, ``-1`` for all."""
        tid = _id_text(self.tid)
        return tid if self.pid is None else b"p" + _id_text(self.pid) + b"." + tid

    def matches(self, pid: int, tid: int) -> bool:
        """Does this id (possibly all/any) name thread ``tid`` of process ``pid``?"""
        return (self.pid in (None, -1, 0) or self.pid == pid) and self.tid in (-1, 0, tid)

    @classmethod
    def parse(cls, text: bytes) -> ThreadId:
        """``pPID.TID``, ``pPID`` (all its threads), ``TID``; ``-1`` all, ``0`` any."""
        if text.startswith(b"p"):
            pid, dot, tid = text[1:].partition(b".")
            return cls(_id_number(pid), _id_number(tid) if dot else -1)
        return cls(None, _id_number(text))


def _id_text(number: int) -> bytes:
    return b"-1" if number == -1 else b"%x" % number


def _id_number(text: bytes) -> int:
    return -1 if text == b"-1" else hex_number(text, "thread id")


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
class XferWrite(Request):
    """``qXfer:OBJECT:write:ANNEX:OFFSET:DATA`` (``DATA`` binary, unescaped by the framer)."""

    object: str
    annex: str
    offset: int
    data: bytes


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


@dataclass(frozen=True, slots=True)
class ProgramSignals(Request):
    """``QProgramSignals:sig;sig...``: signals gdb lets the program receive (replaces the set)."""

    signals: frozenset[int]


@dataclass(frozen=True, slots=True)
class ExtendedMode(Request):
    """``!``: ``target extended-remote`` (the server stays up after the process ends)."""


@dataclass(frozen=True, slots=True)
class Attach(Request):
    """``vAttach;pid`` (extended mode)."""

    pid: int


@dataclass(frozen=True, slots=True)
class Run(Request):
    """``vRun;PROGRAM;ARG...`` (extended mode; hex-encoded, empty program = the last one)."""

    program: bytes
    arguments: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class EnvironmentSet(Request):
    """``QEnvironmentHexEncoded:HEX(NAME=VALUE)``: set a variable for the next ``vRun``."""

    name: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class EnvironmentUnset(Request):
    """``QEnvironmentUnset:HEX(NAME)``: remove a variable for the next ``vRun``."""

    name: bytes


@dataclass(frozen=True, slots=True)
class EnvironmentReset(Request):
    """``QEnvironmentReset``: the next ``vRun`` gets the server's own environment again."""


@dataclass(frozen=True, slots=True)
class SetWorkingDir(Request):
    """``QSetWorkingDir:[HEX(DIR)]``: the next ``vRun``'s directory (empty: the server's)."""

    directory: bytes


@dataclass(frozen=True, slots=True)
class DisableRandomization(Request):
    """``QDisableRandomization:0|1``: address-space randomization for the next ``vRun``."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class ThreadEvents(Request):
    """``QThreadEvents:0|1``: thread creation (``create:``) and exit stop replies."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class Monitor(Request):
    """``qRcmd,HEX``: gdb's ``monitor COMMAND``."""

    command: bytes


# -- field parsers -------------------------------------------------------------------
_HEX = re.compile(rb"[0-9a-fA-F]+")


def hex_number(text: bytes, what: str) -> int:
    """A hex field; anything else (empty, signs, spaces) is a ProtocolError naming ``what``."""
    if not _HEX.fullmatch(text):
        raise ProtocolError(f"bad {what} {_shown(text)}: expected hex digits")
    return int(text, 16)


def hex_data(text: bytes, what: str) -> bytes:
    """Hex-encoded bytes (even length, hex digits only)."""
    if text and not _HEX.fullmatch(text):
        raise ProtocolError(f"bad {what}: not hex")
    if len(text) % 2:
        raise ProtocolError(f"bad {what}: odd number of hex digits ({len(text)})")
    return bytes.fromhex(text.decode())


def _shown(text: bytes) -> str:
    return repr(text[:40].decode("latin-1")) + ("..." if len(text) > 40 else "")


def _split(text: bytes, separator: bytes, count: int, what: str) -> list[bytes]:
    parts = text.split(separator, count - 1)
    if len(parts) != count:
        raise ProtocolError(f"malformed {what} packet: expected {count} fields "
                            f"separated by {separator.decode()!r}")
    return parts


def _signal_list(body: bytes) -> frozenset[int]:
    # gdb ends the list with ';' (remote.c remote_pass_signals): skip empty items.
    return frozenset(hex_number(s, "signal number") for s in body.split(b";") if s)


# -- one parser per packet kind --------------------------------------------------------
def _supported(payload: bytes) -> Request:
    features: dict[str, bool | str] = {}
    _, _, body = payload.partition(b":")
    for item in filter(None, body.split(b";")):
        text = item.decode("latin-1")
        if "=" in text:
            name, _, value = text.partition("=")
            features[name] = value
        elif text[-1] in "+-":
            features[text[:-1]] = text[-1] == "+"
        else:
            features[text] = True
    return QuerySupported(features)


def _write_registers(payload: bytes) -> Request:
    return WriteRegisters(hex_data(payload[1:], "G register data"))


def _read_register(payload: bytes) -> Request:
    return ReadRegister(hex_number(payload[1:], "register number"))


def _write_register(payload: bytes) -> Request:
    number, value = _split(payload[1:], b"=", 2, "P")
    return WriteRegister(hex_number(number, "register number"),
                         hex_data(value, "register value"))


def _address_length(text: bytes, what: str) -> tuple[int, int]:
    address, length = _split(text, b",", 2, what)
    return hex_number(address, "address"), hex_number(length, "length")


def _read_memory(payload: bytes) -> Request:
    return ReadMemory(*_address_length(payload[1:], "m"))


def _write_memory(payload: bytes) -> Request:
    binary = payload[:1] == b"X"
    kind = payload[:1].decode()
    head, data = _split(payload[1:], b":", 2, kind)
    address, length = _address_length(head, kind)
    if not binary:
        data = hex_data(data, "memory data")
    if len(data) != length:
        raise ProtocolError(f"{kind} packet says {length} bytes but carries {len(data)}")
    return WriteMemory(address, data, binary)


_RESUME_KINDS = {b"c": ResumeKind.CONTINUE, b"C": ResumeKind.CONTINUE,
                 b"s": ResumeKind.STEP, b"S": ResumeKind.STEP,
                 b"t": ResumeKind.STOP, b"r": ResumeKind.RANGE_STEP}


def _resume_action(text: bytes) -> ResumeAction:
    action, colon, thread_text = text.partition(b":")
    thread = ThreadId.parse(thread_text) if colon else ThreadId.ALL
    letter, argument = action[:1], action[1:]
    kind = _RESUME_KINDS.get(letter)
    if kind is None:
        raise ProtocolError(f"vCont action {_shown(action)} is not supported")
    if letter in b"CS":
        return ResumeAction(kind, thread, signal=hex_number(argument, "signal number"))
    if letter == b"r":
        return ResumeAction(kind, thread, step_range=_address_length(argument, "vCont;r"))
    if argument:
        raise ProtocolError(f"vCont action {_shown(action)}: unexpected argument")
    return ResumeAction(kind, thread)


def _resume(payload: bytes) -> Request:
    actions = payload[len(b"vCont;"):].split(b";")
    if not all(actions):
        raise ProtocolError("vCont without an action")
    return Resume(tuple(_resume_action(a) for a in actions))


def _continue_or_step(payload: bytes) -> Request:
    letter, rest = payload[:1], payload[1:]
    make = Continue if letter in b"cC" else Step
    signal = None
    if letter in b"CS":
        sig, _, rest = rest.partition(b";")
        signal = hex_number(sig, "signal number")
    address = hex_number(rest, "address") if rest else None
    return make(address, signal)


def _set_thread(payload: bytes) -> Request:
    operation = payload[1:2].decode("latin-1")
    if operation not in ("g", "c"):
        return Unknown(payload)
    return SetThread(operation, ThreadId.parse(payload[2:]))


def _thread_alive(payload: bytes) -> Request:
    return ThreadAlive(ThreadId.parse(payload[1:]))


def _attached(payload: bytes) -> Request:
    _, colon, pid = payload.partition(b":")
    return QueryAttached(hex_number(pid, "pid") if colon else None)


def _breakpoint(payload: bytes) -> Request:
    fields = payload[1:].split(b";", 1)[0]  # ';cond...;cmds...' we do not advertise
    kind_text, address, kind = _split(fields, b",", 3, payload[:2].decode("latin-1"))
    try:
        type_ = BreakpointType(hex_number(kind_text, "breakpoint type"))
    except ValueError:
        return Unknown(payload)  # a type we do not know: the empty reply says so
    make = InsertBreakpoint if payload[:1] == b"Z" else RemoveBreakpoint
    return make(type_, hex_number(address, "address"), hex_number(kind, "breakpoint kind"))


def _xfer(payload: bytes) -> Request:
    if payload.split(b":", 3)[2:3] == [b"write"]:
        fields = payload.split(b":", 5)  # (the data is binary: any byte, ':' too)
        if len(fields) < 6:
            raise ProtocolError(f"malformed qXfer write {_shown(payload)}")
        return XferWrite(fields[1].decode("latin-1"), fields[3].decode("latin-1"),
                         hex_number(fields[4], "qXfer offset"), fields[5])
    parts = payload.split(b":")
    if len(parts) < 5 or parts[2] != b"read":
        return Unknown(payload)  # other qXfer operations are not served
    offset, length = _address_length(parts[-1], "qXfer")
    annex = b":".join(parts[3:-1]).decode("latin-1")
    return XferRead(parts[1].decode("latin-1"), annex, offset, length)


def _detach(payload: bytes) -> Request:
    if payload == b"D":
        return Detach()
    _, semicolon, pid = payload.partition(b";")
    if not semicolon:
        raise ProtocolError(f"malformed D packet {_shown(payload)}")
    return Detach(hex_number(pid, "pid"))


def _kill_process(payload: bytes) -> Request:
    return KillProcess(hex_number(payload[len(b"vKill;"):], "pid"))


def _catch_syscalls(payload: bytes) -> Request:
    body = payload[len(b"QCatchSyscalls:"):]
    flag, _, numbers = body.partition(b";")
    if flag not in (b"0", b"1"):
        raise ProtocolError(f"QCatchSyscalls wants 0 or 1, got {_shown(flag)}")
    if flag == b"0" and numbers:
        raise ProtocolError("QCatchSyscalls:0 takes no syscall numbers")
    nrs = frozenset(hex_number(n, "syscall number") for n in numbers.split(b";") if n)
    return CatchSyscalls(flag == b"1", nrs)


def _attach(payload: bytes) -> Request:
    return Attach(hex_number(payload[len(b"vAttach;"):], "pid"))


def _run(payload: bytes) -> Request:
    program, *arguments = payload[len(b"vRun;"):].split(b";")
    return Run(hex_data(program, "program name"),
               tuple(hex_data(a, "argument") for a in arguments))


def _environment_set(payload: bytes) -> Request:
    text = hex_data(payload[len(b"QEnvironmentHexEncoded:"):], "environment variable")
    name, equals, value = text.partition(b"=")
    if not equals or not name:
        raise ProtocolError("QEnvironmentHexEncoded wants NAME=VALUE")
    return EnvironmentSet(name, value)


def _environment_unset(payload: bytes) -> Request:
    return EnvironmentUnset(hex_data(payload[len(b"QEnvironmentUnset:"):], "variable name"))


def _flag(payload: bytes, prefix: bytes) -> bool:
    flag = payload[len(prefix):]
    if flag not in (b"0", b"1"):
        raise ProtocolError(f"{prefix[:-1].decode()} wants 0 or 1, got {_shown(flag)}")
    return flag == b"1"


def _monitor(payload: bytes) -> Request:
    return Monitor(hex_data(payload[len(b"qRcmd,"):], "monitor command"))


#: Packets that are one fixed word.
EXACT: dict[bytes, Request] = {
    b"?": QueryHaltReason(), b"g": ReadRegisters(), b"k": Kill(), b"!": ExtendedMode(),
    b"vCont?": QueryResumeActions(), b"qfThreadInfo": ThreadListStart(),
    b"qsThreadInfo": ThreadListNext(), b"qC": QueryCurrentThread(),
    b"QStartNoAckMode": StartNoAckMode(), b"QEnvironmentReset": EnvironmentReset(),
}

#: The others, by prefix: the longest prefix that matches wins.
PREFIXES: dict[bytes, Callable[[bytes], Request]] = {
    b"qSupported": _supported,
    b"G": _write_registers, b"p": _read_register, b"P": _write_register,
    b"m": _read_memory, b"M": _write_memory, b"X": _write_memory,
    b"vCont;": _resume, b"vKill;": _kill_process, b"vAttach;": _attach, b"vRun;": _run,
    b"c": _continue_or_step, b"C": _continue_or_step,
    b"s": _continue_or_step, b"S": _continue_or_step,
    b"H": _set_thread, b"T": _thread_alive, b"qAttached": _attached,
    b"Z": _breakpoint, b"z": _breakpoint, b"qXfer:": _xfer, b"D": _detach,
    b"QPassSignals:": lambda p: PassSignals(_signal_list(p[len(b"QPassSignals:"):])),
    b"QProgramSignals:": lambda p: ProgramSignals(_signal_list(p[len(b"QProgramSignals:"):])),
    b"QCatchSyscalls:": _catch_syscalls, b"qRcmd,": _monitor,
    b"QEnvironmentHexEncoded:": _environment_set, b"QEnvironmentUnset:": _environment_unset,
    b"QSetWorkingDir:": lambda p: SetWorkingDir(hex_data(p[len(b"QSetWorkingDir:"):],
                                                         "directory")),
    b"QDisableRandomization:": lambda p: DisableRandomization(
        _flag(p, b"QDisableRandomization:")),
    b"QThreadEvents:": lambda p: ThreadEvents(_flag(p, b"QThreadEvents:")),
}


def _by_first_byte() -> dict[int, list[bytes]]:
    """The prefixes by first byte, longest first: parse runs once a packet, keep it short."""
    table: dict[int, list[bytes]] = {}
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        table.setdefault(prefix[0], []).append(prefix)
    return table


_BY_FIRST_BYTE = _by_first_byte()


def parse(payload: bytes) -> Request:
    """The request in one packet's payload (see the module docstring)."""
    exact = EXACT.get(payload)
    if exact is not None:
        return exact
    for prefix in _BY_FIRST_BYTE.get(payload[0], ()) if payload else ():
        if payload.startswith(prefix):
            return PREFIXES[prefix](payload)
    return Unknown(payload)
