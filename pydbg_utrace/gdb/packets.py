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


class Framer:
    """Framing, checksums and acks of one connection (see the module rules)."""

    def __init__(self, *, max_packet: int = MAX_PACKET) -> None:
        self.max_packet = max_packet
        self.ack_mode = True
        self._acks = bytearray()

    def feed(self, data: bytes) -> list[Event]:
        """The events completed by ``data`` (rules 1-5); raises :class:`ProtocolError`."""
        raise NotImplementedError

    def outgoing(self) -> bytes:
        """The acks queued by :meth:`feed` since the last call (then cleared)."""
        out = bytes(self._acks)
        self._acks.clear()
        return out

    def frame(self, payload: bytes) -> bytes:
        """``$payload#cc`` with ``$ # } *`` escaped."""
        raise NotImplementedError

    def start_no_ack(self) -> None:
        """Stop acking: call once the ``OK`` to ``QStartNoAckMode`` is framed."""
        self.ack_mode = False
