"""The shape every load-reserve / store-conditional rule shares.

WHY: a hardware single-step trap clears the reservation taken by a
load-reserve (powerpc ``lwarx``, aarch64 ``ldxr``), so the store-conditional
always fails and the loop retries forever under ``PTRACE_SINGLESTEP`` (seed
000, the powerpc step-fork hang).  Instead of stepping at a load-reserve, a
debugger plants breakpoints where the sequence can leave and continues, as
gdb does (``ppc_deal_with_atomic_sequence`` in gdb/rs6000-tdep.c,
``aarch64_software_single_step`` in gdb/aarch64-tdep.c).

The rule, per ``../shared/ATOMIC-SEQUENCES.md``:

1. only when the instruction at ``pc`` is a load-reserve;
2. scan at most 16 following instructions;
3. remember the target of the first conditional branch; a second one: give up;
4. stop at the first store-conditional; none within 16: give up;
5. breakpoints: the instruction after the store-conditional, and the branch
   target unless it equals that address or lies in ``[pc, store-conditional]``.

Each architecture supplies only a decoder (:data:`Decoder`); this module holds
the walk.  "Give up" is ``None``: the caller uses the ordinary step.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from .base import MemoryReader

SEQUENCE_LIMIT = 16  # instructions scanned after the load-reserve (gdb's limit)
ADDRESS_MASK = (1 << 64) - 1


class Kind(enum.Enum):
    """What the rule needs to know about one instruction."""

    LOAD_RESERVE = "load-reserve"
    STORE_CONDITIONAL = "store-conditional"
    CONDITIONAL_BRANCH = "conditional branch"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Decoded:
    """One instruction as the rule sees it: its size, class and branch target."""

    size: int
    kind: Kind
    target: int | None = None  # absolute, for CONDITIONAL_BRANCH


#: ``decode(address, read) -> Decoded``; may raise OSError/ValueError when the
#: memory cannot be read, which the walk turns into "give up".
Decoder = Callable[[int, MemoryReader], Decoded]


def sequence_breakpoints(pc: int, read: MemoryReader, decode: Decoder,
                         limit: int = SEQUENCE_LIMIT) -> list[int] | None:
    """Breakpoint addresses that run through the sequence at ``pc``, or None.

    None means "not at a load-reserve, or not a sequence we can handle": use
    the hardware single-step.  The first address is always the instruction
    after the store-conditional.
    """
    try:
        first = decode(pc, read)
        if first.kind is not Kind.LOAD_RESERVE:
            return None
        loc, size = pc, first.size
        branch_target: int | None = None
        branches = 0
        for _ in range(limit):
            loc = (loc + size) & ADDRESS_MASK
            insn = decode(loc, read)
            if insn.kind is Kind.CONDITIONAL_BRANCH:
                branches += 1
                if branches > 1:
                    return None
                branch_target = insn.target
            if insn.kind is Kind.STORE_CONDITIONAL:
                break
            size = insn.size
        else:
            return None
    except (OSError, ValueError, EOFError):
        return None
    closing = loc
    after = (closing + insn.size) & ADDRESS_MASK
    breakpoints = [after]
    if branch_target is not None and branch_target != after and not (
            pc <= branch_target <= closing):
        breakpoints.append(branch_target)
    return breakpoints


def read_word(read: MemoryReader, address: int, size: int, byteorder: str) -> int:
    """One instruction word; a short read (end of mapping) raises EOFError."""
    data = read(address, size)
    if len(data) < size:
        raise EOFError(f"short read at {address:#x}")
    return int.from_bytes(data[:size], byteorder)
