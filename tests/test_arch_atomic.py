"""Software-step rules for load-reserve/store-conditional sequences, on real
instruction bytes (../shared/ATOMIC-SEQUENCES.md; seed 000's step-fork hang).

Words are written as the ISA prints them (big-endian value); ``image`` lays
them out in the tracee's byte order, so every case runs on both endians.
"""

from __future__ import annotations

import capstone
import pytest
from pydbg_utrace.arch import aarch64, by_name, ppc_atomic
from pydbg_utrace.arch.atomic import SEQUENCE_LIMIT

ENDIANS = ("ppc64le", "ppc64")
BASE = 0x10001000

# The seed's loop (big-endian words), as on the shared page.
SEED_LOOP = [
    0x7C00F828,  # lwarx   r0,0,r31
    0x7C005800,  # cmpw    r0,r11
    0x4082000C,  # bne-    +12   -> exit, outside the sequence
    0x7D20F92D,  # stwcx.  r9,0,r31
    0x4082FFF0,  # bne+    -16   -> back to the lwarx
]
NOP = 0x60000000
CMPW = 0x7C005800
LWARX = 0x7C00F828
STWCX = 0x7D20F92D

# Every load-reserve and store-conditional, RT=10 RA=0 RB=9 (real encodings;
# RT even for lqarx as the ISA requires).
LOAD_RESERVES = {
    "lwarx": 0x7D404828, "ldarx": 0x7D4048A8, "lbarx": 0x7D404868,
    "lharx": 0x7D4048E8, "lqarx": 0x7D404A28,
}
STORE_CONDITIONALS = {
    "stwcx.": 0x7D40492D, "stdcx.": 0x7D4049AD, "stbcx.": 0x7D404D6D,
    "sthcx.": 0x7D404DAD, "stqcx.": 0x7D40496D,
}
# POWER10 prefixed load: pld r9,16(0),1 (prefix 0x04100000, suffix 0xe5200010)
PLD = (0x04100000, 0xE5200010)


def image(words: list[int], byteorder: str) -> bytes:
    return b"".join(w.to_bytes(4, byteorder) for w in words)


def reader(base: int, code: bytes):
    def read(address: int, size: int) -> bytes:
        start = address - base
        if start < 0 or start >= len(code):
            raise OSError(f"unmapped {address:#x}")
        return code[start:start + size]
    return read


def step(arch_name: str, words: list[int], base: int = BASE, pc: int | None = None):
    arch = by_name(arch_name)
    code = image(words, arch.byteorder)
    return arch.software_step(base if pc is None else pc, reader(base, code))


def bne(offset: int) -> int:
    """bne cr0 (BO=4, BI=2) with a relative displacement."""
    return 0x40820000 | (offset & 0xFFFC)


# -- the seed's loop ----------------------------------------------------------
@pytest.mark.parametrize("arch_name", ENDIANS)
@pytest.mark.parametrize("base", [0x1000, BASE, 0x7FFF_F7FF_0000])
def test_seed_loop_breakpoints(arch_name, base):
    assert step(arch_name, SEED_LOOP, base) == [base + 0x10, base + 0x14]


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_seed_loop_not_at_load_reserve_is_hardware_step(arch_name):
    for offset in (4, 8, 12, 16):
        assert step(arch_name, SEED_LOOP, BASE, pc=BASE + offset) is None


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_seed_loop_capstone_reads_it_as_the_page_says(arch_name):
    arch = by_name(arch_name)
    insns = arch.disassemble(image(SEED_LOOP, arch.byteorder), BASE)
    assert [(i.mnemonic, i.op_str) for i in insns] == [
        ("lwarx", "r0, 0, r31"), ("cmpw", "r0, r11"), ("bne", f"{BASE + 0x14:#x}"),
        ("stwcx.", "r9, 0, r31"), ("bne", f"{BASE:#x}")]


def test_breakpoint_trap_bytes_per_endian():
    assert by_name("ppc64").breakpoint_instruction == bytes.fromhex("7fe00008")
    assert by_name("ppc64le").breakpoint_instruction == bytes.fromhex("0800e07f")


# -- every opcode by mask -------------------------------------------------------
@pytest.mark.parametrize("arch_name", ENDIANS)
@pytest.mark.parametrize("lr_name", LOAD_RESERVES)
@pytest.mark.parametrize("sc_name", STORE_CONDITIONALS)
def test_every_load_reserve_with_every_store_conditional(arch_name, lr_name, sc_name):
    words = [LOAD_RESERVES[lr_name], CMPW, STORE_CONDITIONALS[sc_name], NOP]
    assert step(arch_name, words) == [BASE + 12]


@pytest.mark.parametrize("name,word", LOAD_RESERVES.items())
def test_load_reserve_masks(name, word):
    assert ppc_atomic.load_reserve_name(word) == name
    assert ppc_atomic.load_reserve_name(word | 1) == name  # EH hint bit is ignored
    assert ppc_atomic.store_conditional_name(word) is None
    # other register fields do not matter
    assert ppc_atomic.load_reserve_name(word | (31 << 16) | (5 << 11)) == name


@pytest.mark.parametrize("name,word", STORE_CONDITIONALS.items())
def test_store_conditional_masks(name, word):
    assert ppc_atomic.store_conditional_name(word) == name
    assert ppc_atomic.store_conditional_name(word & ~1) is None  # without Rc: not a stcx.
    assert ppc_atomic.load_reserve_name(word) is None


@pytest.mark.parametrize("word", [
    0x7C00002E,  # lwzx: same primary and nearby extended opcode
    0x7C00012E,  # stwx
    0x7C00012C,  # stwcx. without the Rc bit (invalid form)
    0x7D40482C,  # icbt
    NOP, 0x48000010, 0x4E800020,  # nop, b, blr
])
def test_near_misses_are_not_sequence_instructions(word):
    assert ppc_atomic.load_reserve_name(word) is None
    assert ppc_atomic.store_conditional_name(word) is None


CAPSTONE5 = pytest.mark.skipif(
    capstone.cs_version()[0] < 5,
    reason=f"capstone {capstone.__version__}: these facts were recorded with 5.0.x "
           "(the qemu guests carry Debian's 4.0)")


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_disassembly_names_every_reserve_and_conditional_store(arch_name):
    """From capstone where it decodes, from the mask where it does not."""
    arch = by_name(arch_name)
    for name, word in {**LOAD_RESERVES, **STORE_CONDITIONALS}.items():
        (insn,) = arch.disassemble(word.to_bytes(4, arch.byteorder), BASE)
        assert (insn.mnemonic, insn.op_str, insn.size) == (name, "r10, 0, r9", 4)


@CAPSTONE5
@pytest.mark.parametrize("arch_name", ENDIANS)
def test_capstone_decodes_no_quadword_forms(arch_name):
    """The page's observation (capstone 5.0.x): why classification uses masks."""
    arch = by_name(arch_name)
    cs = capstone.Cs(arch.capstone_arch, arch.capstone_mode)
    for name in ("lqarx", "stqcx."):
        word = {**LOAD_RESERVES, **STORE_CONDITIONALS}[name]
        assert list(cs.disasm(word.to_bytes(4, arch.byteorder), BASE)) == []
    for name in ("lwarx", "ldarx", "lbarx", "lharx", "stwcx.", "stdcx.", "stbcx.", "sthcx."):
        word = {**LOAD_RESERVES, **STORE_CONDITIONALS}[name]
        (insn,) = cs.disasm(word.to_bytes(4, arch.byteorder), BASE)
        assert insn.mnemonic == name


# -- give up ----------------------------------------------------------------------
@pytest.mark.parametrize("arch_name", ENDIANS)
def test_two_conditional_branches_give_up(arch_name):
    words = [LWARX, CMPW, bne(0x20), CMPW, bne(0x20), STWCX, NOP]
    assert step(arch_name, words) is None


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_no_store_conditional_within_16_gives_up(arch_name):
    words = [LWARX] + [NOP] * SEQUENCE_LIMIT + [STWCX, NOP]  # stwcx. is the 17th
    assert step(arch_name, words) is None


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_store_conditional_as_16th_instruction_is_found(arch_name):
    words = [LWARX] + [NOP] * (SEQUENCE_LIMIT - 1) + [STWCX, NOP]
    assert step(arch_name, words) == [BASE + 4 * (SEQUENCE_LIMIT + 1)]


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_unreadable_memory_gives_up(arch_name):
    assert step(arch_name, [LWARX, CMPW]) is None  # runs off the mapping


# -- branch targets ---------------------------------------------------------------
@pytest.mark.parametrize("arch_name", ENDIANS)
@pytest.mark.parametrize("target_offset,planted", [
    (0x00, False),   # back to the load-reserve: inside [pc, stcx.]
    (0x04, False),   # inside
    (0x0C, False),   # the stcx. itself: still inside
    (0x10, False),   # == the breakpoint after the stcx.: no duplicate
    (0x14, True),    # past the sequence (the seed's exit)
    (-0x40, True),   # before the sequence
])
def test_branch_target_rule(arch_name, target_offset, planted):
    words = [LWARX, CMPW, bne(target_offset - 8), STWCX, NOP, NOP]
    expected = [BASE + 0x10] + ([(BASE + target_offset) & (2**64 - 1)] if planted else [])
    assert step(arch_name, words) == expected


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_absolute_branch_target(arch_name):
    bnea = 0x40820002 | 0x0100  # bnea 0x100 (AA set): absolute address
    assert step(arch_name, [LWARX, bnea, STWCX, NOP], 0x1000) == [0x100C, 0x100]
    negative = 0x40820002 | 0xFFF0  # bnea -16: sign-extended absolute
    assert step(arch_name, [LWARX, negative, STWCX, NOP], 0x1000) == [0x100C, 2**64 - 16]


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_bdnz_counts_as_conditional_branch(arch_name):
    bdnz = 0x42000000 | 0x0020  # bdnz +0x20: opcode 16 like every bc
    assert step(arch_name, [LWARX, bdnz, STWCX, NOP]) == [BASE + 12, BASE + 0x24]


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_branch_after_store_conditional_is_not_scanned(arch_name):
    # The seed's second bne (after the stwcx.) is outside the scan: only one bp.
    assert step(arch_name, [LWARX, CMPW, STWCX, bne(-0x40)]) == [BASE + 12]


# -- prefixed (8-byte) instructions ----------------------------------------------
@pytest.mark.parametrize("arch_name", ENDIANS)
def test_prefixed_instruction_counts_once_and_is_eight_bytes(arch_name):
    # lwarx, 14 nops, pld (8 bytes), stwcx.: the stwcx. is the 16th instruction
    # after the lwarx only if the prefixed pld counts as ONE instruction.
    words = [LWARX] + [NOP] * 14 + list(PLD) + [STWCX, NOP]
    assert step(arch_name, words) == [BASE + 4 + 14 * 4 + 8 + 4]
    words = [LWARX] + [NOP] * 15 + list(PLD) + [STWCX, NOP]  # now the 17th
    assert step(arch_name, words) is None


@pytest.mark.parametrize("arch_name", ENDIANS)
def test_prefix_suffix_is_never_classified(arch_name):
    # A prefix whose suffix word would read as a bc: the walk must skip it.
    fake_suffix_is_bc = (0x04100000, bne(0x40))
    words = [LWARX, *fake_suffix_is_bc, CMPW, bne(0x100), STWCX, NOP]
    # Only one conditional branch is seen (the real bne), so no give-up.
    assert step(arch_name, words) == [BASE + 0x18, BASE + 0x10 + 0x100]


# -- aarch64 ------------------------------------------------------------------------
A64 = {  # real encodings, checked against capstone below
    "ldaxr w16, [x2]": 0x885FFC50,
    "ldxr x0, [x1]": 0xC85F7C20,
    "ldxp x0, x1, [x2]": 0xC87F0440,
    "ldaxrb w0, [x1]": 0x085FFC20,
    "ldxrh w0, [x1]": 0x485F7C20,
    "stxr w17, w1, [x2]": 0x88117C41,
    "stlxr w3, x1, [x0]": 0xC803FC01,
    "stxp w4, x0, x1, [x2]": 0xC8240440,
    "stlxrb w0, w0, [x1]": 0x0800FC20,
    "cmp w16, w0": 0x6B00021F,
    "ret": 0xD65F03C0,
    "casp w0, w1, w2, w3, [x4]": 0x08207C82,
    "ldar w0, [x1]": 0x88DFFC20,
    "nop": 0xD503201F,
    "b.ne #0x1020": 0x54000061,  # at 0x1014
    "cbnz w17, #0x1008": 0x35FFFF91,  # at 0x1018
}
A64_AT = {"b.ne #0x1020": 0x1014, "cbnz w17, #0x1008": 0x1018}


def a64(text: str) -> int:
    return A64[text]


def a64_step(words: list[int], base: int = BASE, pc: int | None = None):
    code = b"".join(w.to_bytes(4, "little") for w in words)
    return aarch64.atomic_sequence_breakpoints(base if pc is None else pc, reader(base, code))


@CAPSTONE5
def test_aarch64_encodings_are_what_capstone_says():
    cs = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    for text, word in A64.items():
        (insn,) = cs.disasm(word.to_bytes(4, "little"), A64_AT.get(text, 0))
        assert f"{insn.mnemonic} {insn.op_str}".strip() == text


def test_aarch64_classes():
    K = aarch64.Kind
    for text in ("ldaxr w16, [x2]", "ldxr x0, [x1]", "ldxp x0, x1, [x2]",
                 "ldaxrb w0, [x1]", "ldxrh w0, [x1]"):
        assert aarch64.exclusive_kind(a64(text)) is K.LOAD_RESERVE, text
    for text in ("stxr w17, w1, [x2]", "stlxr w3, x1, [x0]", "stxp w4, x0, x1, [x2]",
                 "stlxrb w0, w0, [x1]"):
        assert aarch64.exclusive_kind(a64(text)) is K.STORE_CONDITIONAL, text
    for text in ("casp w0, w1, w2, w3, [x4]", "ldar w0, [x1]", "cmp w16, w0", "ret"):
        assert aarch64.exclusive_kind(a64(text)) is None, text


def test_aarch64_outline_cas_loop():
    # libgcc's __aarch64_cas4_acq shape: ldaxr; cmp; b.ne out; stxr; cbnz retry; out: ret
    words = [a64("ldaxr w16, [x2]"), a64("cmp w16, w0"), 0x54000061,  # b.ne +12
             a64("stxr w17, w1, [x2]"), 0x35FFFF91, a64("ret")]        # cbnz w17, -16
    assert a64_step(words) == [BASE + 0x10, BASE + 0x14]
    assert a64_step(words, pc=BASE + 4) is None  # not at the load exclusive


def test_aarch64_give_ups_and_targets():
    ld, st, nop = a64("ldaxr w16, [x2]"), a64("stxr w17, w1, [x2]"), a64("nop")
    # two conditional branches (b.ne and tbnz)
    assert a64_step([ld, 0x54000061, 0x37180041, st, nop]) is None
    # no store exclusive within 16
    assert a64_step([ld] + [nop] * 16 + [st]) is None
    assert a64_step([ld] + [nop] * 15 + [st, nop]) == [BASE + 4 * 17]
    # cbz back to the start: inside the sequence, not planted
    cbz_back = 0x34000000 | (((-8 >> 2) & 0x7FFFF) << 5)
    assert a64_step([ld, nop, cbz_back, st, nop]) == [BASE + 0x10]
    # tbnz forward past the sequence: planted (gdb would miss it: b.cond only)
    tbnz = 0x37180000 | ((0x40 >> 2) << 5)
    assert a64_step([ld, tbnz, st, nop]) == [BASE + 0xC, BASE + 4 + 0x40]
    # casp is not a store exclusive: the scan goes on to the real one
    assert a64_step([ld, a64("casp w0, w1, w2, w3, [x4]"), st, nop]) == [BASE + 0xC]
