"""Framing of the gdb remote serial protocol: bytes in, packets out (sans I/O).

Theory of operation.  One :class:`Framer` per connection.  The server hands it
every byte it reads (:meth:`Framer.feed`, any split), gets back the events
(:class:`Packet`, :class:`Interrupt`), writes :meth:`Framer.outgoing` (the
acks) and then each reply framed by :meth:`Framer.frame`.  Nothing here reads
or writes a file descriptor.

Rules (gdb manual, "Overview" and "Packet Acknowledgment"; gdb remote.c
``read_frame``):

1. A packet is ``$`` payload ``#`` two hex digits, the sum of the payload's
   raw bytes modulo 256.  A ``$`` inside a packet starts it again (gdb does the
   same: "Saw new packet start in middle of old one").
2. Outside a packet, ``\\x03`` is an interrupt (Ctrl-C); ``+`` and ``-`` are the
   peer's acks, which we ignore (the transports are reliable: we never
   retransmit); any other byte is line noise and is dropped.
3. In the payload, ``}`` escapes the next byte (XOR 0x20) and ``*`` repeats
   the byte before it ``N - 29`` more times, N being the byte after ``*``.
   Where an escape cannot apply (``}`` or ``*`` last, ``*`` first, a count
   byte below 29) the bytes stand for themselves: the packet still reaches the
   request parser, which answers it, rather than vanishing and leaving gdb
   waiting.
4. In ack mode every good packet is acked ``+`` and every bad checksum ``-``.
   After the server has framed its ``OK`` to ``QStartNoAckMode``
   (:meth:`Framer.start_no_ack`) nobody acks, and, as gdbserver does, a bad
   checksum no longer drops the packet.
5. A packet longer than ``max_packet`` raw bytes is a :class:`ProtocolError`,
   the one error this package raises: memory stays bounded whatever the peer
   sends.  The events before the fault are delivered first; the fault is
   raised by the first :meth:`Framer.feed` that has none left to deliver, and by
   every later one.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

MAX_PACKET = 1 << 20  # raw bytes between '$' and '#'


class ProtocolError(Exception):
    """The peer broke the protocol (or a packet is malformed); the message says how."""


@dataclass(frozen=True, slots=True)
class Packet:
    """One received packet, escapes and run lengths decoded."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Interrupt:
    """``\\x03`` outside a packet: the user pressed Ctrl-C in gdb."""


Event = Packet | Interrupt


ESCAPE = 0x7D  # '}'
RUN_LENGTH = 0x2A  # '*'
RUN_LENGTH_BIAS = 29  # the count byte is repeats + 29 (manual, "Run-length encoding")
_SPECIAL = re.compile(rb"[$#}*]")


def decode(raw: bytes) -> bytes:
    """A payload as sent (escapes, run lengths) -> its bytes (rule 3)."""
    if ESCAPE not in raw and RUN_LENGTH not in raw:
        return raw
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        byte = raw[i]
        if byte == ESCAPE and i + 1 < n:
            out.append(raw[i + 1] ^ 0x20)
            i += 2
        elif byte == RUN_LENGTH and out and i + 1 < n and raw[i + 1] >= RUN_LENGTH_BIAS:
            out += out[-1:] * (raw[i + 1] - RUN_LENGTH_BIAS)
            i += 2
        else:
            out.append(byte)
            i += 1
    return bytes(out)


def escape(payload: bytes) -> bytes:
    """``$ # } *`` as ``}`` + byte XOR 0x20, the form every packet may carry."""
    return _SPECIAL.sub(lambda m: bytes((ESCAPE, m[0][0] ^ 0x20)), payload)


def checksum(body: bytes) -> bytes:
    """Two hex digits: the sum of ``body``'s bytes modulo 256."""
    return b"%02x" % (sum(body) & 0xFF)


class _State(enum.Enum):
    IDLE = "between packets"
    BODY = "in a payload"
    CHECKSUM = "in the checksum"


class Framer:
    """Framing, checksums and acks of one connection (see the module rules)."""

    def __init__(self, *, max_packet: int = MAX_PACKET) -> None:
        self.max_packet = max_packet
        self.ack_mode = True
        self._acks = bytearray()
        self._state = _State.IDLE
        self._body = bytearray()
        self._sum = bytearray()
        self._fault: str | None = None

    def feed(self, data: bytes) -> list[Event]:
        """The events completed by ``data`` (rules 1-5); raises :class:`ProtocolError`."""
        if self._fault is not None:
            raise ProtocolError(self._fault)
        events: list[Event] = []
        i, n = 0, len(data)
        while i < n and self._fault is None:
            if self._state is _State.IDLE:
                i = self._between_packets(data, i, events)
            elif self._state is _State.BODY:
                i = self._in_body(data, i)
            else:
                take = 2 - len(self._sum)
                self._sum += data[i:i + take]
                i += take
                if len(self._sum) == 2:
                    self._finish(events)
        if self._fault is not None and not events:
            raise ProtocolError(self._fault)
        return events

    def _between_packets(self, data: bytes, i: int, events: list[Event]) -> int:
        start = data.find(b"$", i)
        stop = len(data) if start < 0 else start
        # Ctrl-C between packets; acks (+/-) and noise are dropped (rule 2).
        events.extend(Interrupt() for _ in range(data.count(b"\x03", i, stop)))
        if start >= 0:
            self._state = _State.BODY
            return start + 1
        return stop

    def _in_body(self, data: bytes, i: int) -> int:
        hash_at, dollar_at = data.find(b"#", i), data.find(b"$", i)
        ends = [e for e in (hash_at, dollar_at) if e >= 0]
        end = min(ends) if ends else len(data)
        self._body += data[i:end]
        if len(self._body) > self.max_packet:
            self._fault = (f"packet longer than {self.max_packet} bytes "
                           "(no '#' where one must be)")
            self._body.clear()
            return len(data)
        if end < len(data):
            if data[end] == ord("$"):
                self._body.clear()  # a new packet starts inside this one (rule 1)
            else:
                self._state = _State.CHECKSUM
            return end + 1
        return end

    def _finish(self, events: list[Event]) -> None:
        body, sent = bytes(self._body), bytes(self._sum)
        self._body.clear()
        self._sum.clear()
        self._state = _State.IDLE
        good = sent.lower() == checksum(body)
        if self.ack_mode:
            self._acks += b"+" if good else b"-"
            if not good:
                return
        payload = decode(body)
        if len(payload) > self.max_packet:
            self._fault = f"packet decodes to more than {self.max_packet} bytes"
            return
        events.append(Packet(payload))

    def outgoing(self) -> bytes:
        """The acks queued by :meth:`feed` since the last call (then cleared)."""
        out = bytes(self._acks)
        self._acks.clear()
        return out

    def frame(self, payload: bytes) -> bytes:
        """``$payload#cc`` with ``$ # } *`` escaped."""
        body = escape(payload)
        return b"$" + body + b"#" + checksum(body)

    def start_no_ack(self) -> None:
        """Stop acking: call once the ``OK`` to ``QStartNoAckMode`` is framed."""
        self.ack_mode = False
