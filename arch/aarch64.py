"""aarch64 exclusive-access sequences (``ldxr/ldaxr ... stxr/stlxr``).

No live aarch64 target yet: this module exists to prove the software-step
interface general (same walk as powerpc, see :mod:`.atomic`).  Facts from gdb's
aarch64-tdep.c (``aarch64_software_single_step``): start only at a load
exclusive, scan 16 instructions, at most one conditional branch, stop at the
store exclusive, breakpoints after it and at the branch target unless inside
the sequence.

Encodings (Arm ARM, "Load/store exclusive"): bits 29..24 = 0b001000 and
o2 (bit 23) = 0; L (bit 22) = 1 for loads.  The FEAT_LSE ``casp`` family
shares that space with o1 (bit 21) = 1 and bit 31 = 0, and is no exclusive.

Deliberate difference from gdb: gdb counts only ``b.cond`` as a conditional
branch; we also count ``cbz/cbnz/tbz/tbnz``, which leave a sequence just as
well (missing one would let the tracee run away past our breakpoints).
Instructions are little-endian on Linux (code is always LE, even on BE data).
"""

from __future__ import annotations

from .atomic import Decoded, Kind, read_word, sequence_breakpoints
from .base import MemoryReader

INSN_SIZE = 4

EXCLUSIVE_MASK = 0x3F800000
EXCLUSIVE_VALUE = 0x08000000  # bits 29..24 = 001000, o2 = 0
LOAD_BIT = 1 << 22
O1_BIT = 1 << 21
SIZE_HIGH_BIT = 1 << 31


def _sext(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) else value


def exclusive_kind(word: int) -> Kind | None:
    """LOAD_RESERVE for ldxr/ldaxr/ldxp/ldaxp(b/h), STORE_CONDITIONAL for the
    stores; None for anything else (including casp, ldar/stlr)."""
    if word & EXCLUSIVE_MASK != EXCLUSIVE_VALUE:
        return None
    if word & O1_BIT and not word & SIZE_HIGH_BIT:  # casp/caspa/caspl/caspal
        return None
    return Kind.LOAD_RESERVE if word & LOAD_BIT else Kind.STORE_CONDITIONAL


def branch_target(word: int, address: int) -> int | None:
    """Target of a conditional branch (b.cond, cbz/cbnz, tbz/tbnz), else None."""
    if word & 0xFF000010 == 0x54000000:  # b.cond
        return (address + (_sext((word >> 5) & 0x7FFFF, 19) << 2)) & 0xFFFFFFFFFFFFFFFF
    if word & 0x7E000000 == 0x34000000:  # cbz, cbnz
        return (address + (_sext((word >> 5) & 0x7FFFF, 19) << 2)) & 0xFFFFFFFFFFFFFFFF
    if word & 0x7E000000 == 0x36000000:  # tbz, tbnz
        return (address + (_sext((word >> 5) & 0x3FFF, 14) << 2)) & 0xFFFFFFFFFFFFFFFF
    return None


def classify(word: int, address: int) -> Decoded:
    kind = exclusive_kind(word)
    if kind is not None:
        return Decoded(INSN_SIZE, kind)
    target = branch_target(word, address)
    if target is not None:
        return Decoded(INSN_SIZE, Kind.CONDITIONAL_BRANCH, target)
    return Decoded(INSN_SIZE, Kind.OTHER)


def atomic_sequence_breakpoints(pc: int, read: MemoryReader) -> list[int] | None:
    """Breakpoints to run through the exclusive sequence at ``pc``, or None
    (not at a load exclusive, or a shape we do not handle: step as usual)."""
    def decode(address: int, read: MemoryReader) -> Decoded:
        return classify(read_word(read, address, INSN_SIZE, "little"), address)

    return sequence_breakpoints(pc, read, decode)
