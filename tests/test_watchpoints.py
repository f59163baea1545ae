"""Hardware watchpoints, the pure parts: DR7 encoding, validation, DR6, slot sharing."""

from __future__ import annotations

import itertools

import pytest

from pydbg_utrace import NotSupportedError
from pydbg_utrace.watchpoints import (
    DR6_STEP,
    NoFreeSlotError,
    Watchpoint,
    WatchpointTable,
    check,
    debugreg_offset,
    decode_dr7,
    dr7_bits,
    encode_dr7,
    fired_slots,
    require_support,
)

ENGINE = object()


def test_dr7_bits_follow_the_intel_layout():
    # slot 0, 8 bytes (LEN 10), write (R/W 01): L0 and bits 16-19 = 0b1001
    assert dr7_bits(0, 8, "w") == 0x1 | 0b1001 << 16
    # slot 3, 4 bytes (LEN 11), read/write (R/W 11): L3 (bit 6) and bits 28-31
    assert dr7_bits(3, 4, "rw") == 1 << 6 | 0b1111 << 28
    assert dr7_bits(1, 1, "w") == 1 << 2 | 0b0001 << 20
    assert dr7_bits(2, 2, "rw") == 1 << 4 | 0b0111 << 24


def test_encode_and_decode_round_trip_every_combination():
    specs = [None, (1, "x")] + list(itertools.product((1, 2, 4, 8), ("w", "rw")))
    for slots in itertools.product(specs, repeat=4):
        assert decode_dr7(encode_dr7(list(slots))) == list(slots)
    assert encode_dr7([None] * 4) == 0


@pytest.mark.parametrize(("address", "size", "access", "message"), [
    (0x1000, 8, "r", "cannot watch reads alone"),
    (0x1000, 8, "x", "execute breakpoint is 1 byte"),
    (0x1000, 1, "r", "use 'w'"),
    (0x1000, 3, "w", "1, 2, 4 or 8"),
    (0x1004, 8, "w", "not aligned"),
    (0x1001, 2, "w", "not aligned"),
    (0xFFFF_8000_0000_0000, 8, "w", "not a user-space address"),
])
def test_check_refuses_what_the_registers_cannot_do(address, size, access, message):
    with pytest.raises(ValueError, match=message):
        check(address, size, access)


def test_check_accepts_aligned_watches():
    for size in (1, 2, 4, 8):
        check(0x601000 + size, size, "w")


def test_dr6_and_offsets():
    assert fired_slots(0b1010 | DR6_STEP) == [1, 3]
    assert fired_slots(0xFFFF0FF0) == []  # the reserved bits alone: nothing fired
    assert debugreg_offset(0) == 848 and debugreg_offset(7) == 848 + 7 * 8


def test_engines_share_a_slot_and_four_is_the_limit():
    table = WatchpointTable()
    a = Watchpoint(0x1000, 8, "w", ENGINE)
    b = Watchpoint(0x1000, 8, "w", object())
    assert table.add(a) is True and table.add(b) is False  # same watch: one register
    assert a.slot is b.slot and table.dr7() == dr7_bits(0, 8, "w")
    others = [Watchpoint(0x2000 + 8 * i, 8, "rw", ENGINE) for i in range(4)]
    for wp in others[:3]:
        assert table.add(wp)
    with pytest.raises(NoFreeSlotError, match="all 4 debug registers"):
        table.add(others[3])
    assert table.discard(a) is False and b.inserted and not a.inserted
    assert table.discard(b) is True and table.slots[0] is None
    assert table.add(others[3]) and others[3].slot.index == 0  # the freed one is reused


def test_other_arches_are_not_supported():
    require_support("x86_64")
    for name in ("ppc64le", "ppc64", "s390x"):
        with pytest.raises(NotSupportedError, match=f"x86_64 debug registers only; not on {name}"):
            require_support(name)
