"""Target descriptions and the g packet, from one register table per arch.

gdb learns the registers of a remote target from ``qXfer:features:read:
target.xml``: names, sizes, types and the numbers ``g``/``G``/``p``/``P`` use.
This module holds, per architecture, the one table of gdb's registers
(:func:`register_table`); the XML (:func:`target_xml`) and the register
packets (:func:`registers_to_g`, :func:`apply_G`, :func:`read_register`,
:func:`write_register`) are both derived from it.

Each register says where our :class:`~pydbg_utrace.arch.Registers` keep it: a
``NT_PRSTATUS`` field (by our name, through ``arch.gdb_register_map``) or a
slice of another regset, fetched lazily.  A register we cannot read is sent as
``xx`` (gdb shows it ``<unavailable>``) and writes to it are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..arch.base import Arch, Registers

NT_PRSTATUS = 1
NT_PRFPREG = 2


@dataclass(frozen=True, slots=True)
class Location:
    """Where a register's value lives: ``size`` bytes at ``offset`` in regset ``note``."""

    note: int
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class GdbRegister:
    """One register as gdb knows it (``<reg>`` in the target description)."""

    number: int
    name: str
    bitsize: int
    type: str
    feature: str
    group: str | None = None
    location: Location | None = None  # None: we cannot read it (sent as xx)


def register_table(arch: Arch) -> tuple[GdbRegister, ...]:
    """gdb's registers of ``arch`` in g-packet order."""
    raise NotImplementedError


def target_xml(arch: Arch) -> bytes:
    """The whole target description (every feature inline) as ``target.xml``."""
    raise NotImplementedError


def features_document(arch: Arch, annex: str) -> bytes | None:
    """The document ``qXfer:features:read:ANNEX`` asks for, None if there is none."""
    raise NotImplementedError


def g_packet_size(arch: Arch) -> int:
    """Bytes of register data in a full g packet."""
    raise NotImplementedError


def registers_to_g(arch: Arch, regs: Registers) -> bytes:
    """The ``g`` reply: every register in hex, target byte order, ``xx`` where unknown."""
    raise NotImplementedError


def apply_G(arch: Arch, regs: Registers, data: bytes) -> None:  # noqa: N802 (gdb's name)
    """Write a ``G`` packet's decoded bytes into ``regs``; wrong size is a ProtocolError."""
    raise NotImplementedError


def read_register(arch: Arch, regs: Registers, number: int) -> bytes:
    """The ``p`` reply for register ``number`` (hex, ``xx`` if unknown)."""
    raise NotImplementedError


def write_register(arch: Arch, regs: Registers, number: int, value: bytes) -> None:
    """``P``: set register ``number`` from raw target-order bytes."""
    raise NotImplementedError
