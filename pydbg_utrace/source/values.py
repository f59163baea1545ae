"""Values: a type and its bytes, and where they came from (so ``&x`` and ``x = 1`` work).

A :class:`Value` holds its bytes already read (the printer and evaluator need
no reader), ``address`` when it lives in memory, ``register`` when in a
register, or ``optimized_out`` when DWARF says nothing covers the pc.  Reading
goes through a memory reader ``(address, size) -> bytes`` that raises
``OSError`` for memory it cannot reach, so values are built the same way from
a live :class:`~pydbg_utrace.memory.AddressSpace` (``space.read``) or from a
core file snapshot in tests.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from .location import Implicit, InMemory, InRegister, Location, Pieces, Unavailable
from .types import Type, byte_size, is_float, is_signed, strip

MemoryReader = Callable[[int, int], bytes]


class SourceError(Exception):
    """A one-line error as gdb words it (``No symbol "x" in current context.``)."""


@dataclass(frozen=True)
class Value:
    type: Type
    data: bytes = b""
    address: int | None = None
    register: int | None = None
    optimized_out: bool = False
    bit_size: int = 0  # a bit field: data holds the whole storage, shifted out on read
    bit_offset: int = 0
    valid: bytes | None = None  # per byte 1/0 when DWARF pieces left some bytes out
    order: str = "little"  # the target's byte order ("big" on s390x)

    @property
    def partly_optimized_out(self) -> bool:
        return self.valid is not None and 0 in self.valid

    def as_int(self) -> int:
        """The value as a Python int, sign-extended for signed types."""
        if self.optimized_out:
            raise SourceError("value has been optimized out")
        if is_float(self.type):
            return int(self.as_float())
        raw = int.from_bytes(self.data, self.order)
        if self.bit_size:  # bit_offset counts from the storage's first bit in memory order
            shift = self.bit_offset if self.order == "little" else \
                8 * len(self.data) - self.bit_offset - self.bit_size
            raw = (raw >> shift) & ((1 << self.bit_size) - 1)
            if is_signed(self.type) and raw >> (self.bit_size - 1):
                raw -= 1 << self.bit_size
            return raw
        top = self.data[-1 if self.order == "little" else 0] if self.data else 0
        if is_signed(self.type) and top & 0x80:
            raw -= 1 << (8 * len(self.data))
        return raw

    def as_float(self) -> float:
        endian = "<" if self.order == "little" else ">"
        if len(self.data) == 4:
            return struct.unpack(endian + "f", self.data)[0]
        if len(self.data) == 8:
            return struct.unpack(endian + "d", self.data)[0]
        if len(self.data) in (10, 16):  # x87 long double: 64-bit mantissa, 15-bit exponent
            mantissa = int.from_bytes(self.data[:8], "little")
            top = int.from_bytes(self.data[8:10], "little")
            sign, exponent = -1.0 if top >> 15 else 1.0, top & 0x7FFF
            if exponent == 0 and mantissa == 0:
                return 0.0 * sign
            return sign * mantissa * 2.0 ** (exponent - 16383 - 63)
        raise SourceError(f"cannot read a {len(self.data)}-byte float")


def from_int(t: Type, number: int, order: str = "little") -> Value:
    size = byte_size(t) or 8
    return Value(t, (number & ((1 << (8 * size)) - 1)).to_bytes(size, order), order=order)


def from_float(t: Type, number: float, order: str = "little") -> Value:
    size = byte_size(t)
    endian = "<" if order == "little" else ">"
    return Value(t, struct.pack(endian + ("f" if size == 4 else "d"), number), order=order)


def at_address(t: Type, address: int, read: MemoryReader, order: str = "little") -> Value:
    """The object of type ``t`` at ``address`` (``SourceError`` if unreadable)."""
    size = byte_size(t)
    if strip(t).kind == "function":
        return Value(t, b"", address, order=order)
    try:
        data = read(address, size) if size else b""
    except OSError:
        raise SourceError(f"Cannot access memory at address {address:#x}") from None
    if len(data) < size:
        raise SourceError(f"Cannot access memory at address {address + len(data):#x}")
    return Value(t, data, address, order=order)


def from_location(t: Type, where: Location, read: MemoryReader,
                  register_value: Callable[[int], int], order: str = "little") -> Value:
    """The value at a location computed by a DWARF expression."""
    size = byte_size(t)
    try:
        if isinstance(where, InMemory):
            return at_address(t, where.address, read, order)
        if isinstance(where, InRegister):
            if is_float(t):  # floats live in vector registers we do not read here
                return Value(t, optimized_out=True)
            # the low-order bytes of the register, whatever the byte order
            data = (register_value(where.number) & ((1 << (8 * min(size, 8))) - 1)).to_bytes(
                min(size, 8), order)
            return Value(t, data.ljust(size, b"\0"), register=where.number, order=order)
        if isinstance(where, Implicit):
            if where.number is not None:  # a stack value: its low-order bytes
                return from_int(t, where.number, order)
            return Value(t, where.data[:size].ljust(size, b"\0"), order=order)
        if isinstance(where, Pieces):
            data, valid = b"", b""
            for part, part_size in where.parts:
                piece = Value(t, optimized_out=True) if part is None else from_location(
                    Type("base", None, part_size, encoding="unsigned"), part, read,
                    register_value, order)
                if piece.optimized_out:  # gdb keeps the other pieces: {109 'm', <optimized out>}
                    data += bytes(part_size)
                    valid += bytes(part_size)
                else:
                    data += piece.data[:part_size].ljust(part_size, b"\0")
                    valid += b"\1" * part_size
            return _with_validity(t, data[:size].ljust(size, b"\0"),
                                  valid[:size].ljust(size, b"\0"), None, order)
    except Unavailable:
        return Value(t, optimized_out=True)
    raise SourceError(f"unknown location {where!r}")


def _with_validity(t: Type, data: bytes, valid: bytes | None, address: int | None,
                   order: str) -> Value:
    if valid is None or 0 not in valid:
        return Value(t, data, address, order=order)
    if 1 not in valid:
        return Value(t, optimized_out=True, order=order)
    return Value(t, data, address, valid=valid, order=order)


def member_value(parent: Value, member) -> Value:
    """``parent.member`` (a :class:`~pydbg_utrace.source.types.Member`)."""
    if member.bit_size:
        storage = byte_size(member.type)
        start = member.bit_offset // (8 * storage) * storage
        data = parent.data[start:start + storage]
        return Value(member.type, data, None, bit_size=member.bit_size,
                     bit_offset=member.bit_offset - 8 * start, order=parent.order)
    size = byte_size(member.type)
    data = parent.data[member.offset:member.offset + size]
    address = parent.address + member.offset if parent.address is not None else None
    if parent.optimized_out:
        return Value(member.type, optimized_out=True)
    valid = parent.valid[member.offset:member.offset + size] if parent.valid else None
    return _with_validity(member.type, data, valid, address, parent.order)


def element_value(array: Value, index: int, read: MemoryReader | None = None) -> Value:
    """``array[index]`` of an array value (read from memory past its known bytes)."""
    element = strip(array.type).target
    size = byte_size(element)
    start = index * size
    if 0 <= start and start + size <= len(array.data):
        address = array.address + start if array.address is not None else None
        valid = array.valid[start:start + size] if array.valid else None
        return _with_validity(element, array.data[start:start + size], valid, address,
                              array.order)
    if array.address is not None and read is not None:
        return at_address(element, array.address + start, read, array.order)
    raise SourceError("no such vector element")
