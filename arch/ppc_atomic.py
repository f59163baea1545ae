"""powerpc load-reserve / store-conditional sequences, classified by raw masks.

WHY raw masks: capstone 5.0.x decodes nothing for ``lqarx``/``stqcx.``, and
the rule must never miss a sequence (a missed one livelocks the tracee under
``PTRACE_SINGLESTEP``, seed 000).  Capstone stays for what a person reads.
Facts from gdb's rs6000-tdep.c (``ppc_deal_with_atomic_sequence``) as written
down in ``../shared/ATOMIC-SEQUENCES.md``.

Words are the instruction's numeric value (as the big-endian encoding reads);
``byteorder`` says how the tracee stores them.
"""

from __future__ import annotations

from .atomic import Decoded, Kind, read_word, sequence_breakpoints
from .base import MemoryReader

INSN_SIZE = 4
PREFIXED_SIZE = 8  # POWER10 prefixed instructions: primary opcode 1

OPCODE_MASK = 0xFC000000
PREFIX_OPCODE = 1 << 26

LOAD_RESERVE_MASK = 0xFC0007FE
LOAD_RESERVE = {
    0x7C000028: "lwarx",
    0x7C0000A8: "ldarx",
    0x7C000068: "lbarx",
    0x7C0000E8: "lharx",
    0x7C000228: "lqarx",
}

STORE_CONDITIONAL_MASK = 0xFC0007FF
STORE_CONDITIONAL = {
    0x7C00012D: "stwcx.",
    0x7C0001AD: "stdcx.",
    0x7C00056D: "stbcx.",
    0x7C0005AD: "sthcx.",
    0x7C00016D: "stqcx.",
}

BRANCH_MASK = OPCODE_MASK
BC_INSN = 0x40000000  # primary opcode 16: bc, bca, bcl, bcla (all conditional forms)


def load_reserve_name(word: int) -> str | None:
    return LOAD_RESERVE.get(word & LOAD_RESERVE_MASK)


def store_conditional_name(word: int) -> str | None:
    return STORE_CONDITIONAL.get(word & STORE_CONDITIONAL_MASK)


def is_prefixed(word: int) -> bool:
    return word & OPCODE_MASK == PREFIX_OPCODE


def bc_target(word: int, address: int) -> int:
    """Target of a ``bc`` at ``address``: BD sign-extended, absolute if AA."""
    displacement = ((word & 0xFFFC) ^ 0x8000) - 0x8000
    if word & 2:
        return displacement & 0xFFFFFFFFFFFFFFFF
    return (address + displacement) & 0xFFFFFFFFFFFFFFFF


def classify(word: int, address: int) -> Decoded:
    """The rule's view of the instruction whose (first) word is ``word``."""
    if is_prefixed(word):
        return Decoded(PREFIXED_SIZE, Kind.OTHER)
    if word & LOAD_RESERVE_MASK in LOAD_RESERVE:
        return Decoded(INSN_SIZE, Kind.LOAD_RESERVE)
    if word & STORE_CONDITIONAL_MASK in STORE_CONDITIONAL:
        return Decoded(INSN_SIZE, Kind.STORE_CONDITIONAL)
    if word & BRANCH_MASK == BC_INSN:
        return Decoded(INSN_SIZE, Kind.CONDITIONAL_BRANCH, bc_target(word, address))
    return Decoded(INSN_SIZE, Kind.OTHER)


def atomic_sequence_breakpoints(pc: int, read: MemoryReader,
                                byteorder: str) -> list[int] | None:
    """Where to plant breakpoints to run through the sequence at ``pc``.

    None when ``pc`` is not at a load-reserve or the sequence is one we do
    not handle (two conditional branches, no store-conditional within 16):
    the caller single-steps as usual.
    """
    def decode(address: int, read: MemoryReader) -> Decoded:
        return classify(read_word(read, address, INSN_SIZE, byteorder), address)

    return sequence_breakpoints(pc, read, decode)
