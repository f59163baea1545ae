"""Target descriptions and the register packets, from one register table per arch.

gdb learns the registers of a remote target from ``qXfer:features:read:
target.xml``: names, sizes, types and the numbers ``g``/``G``/``p``/``P`` use.
This module holds, per architecture, the one table of gdb's registers
(:func:`register_table`, in remote-number order, which is also g-packet order);
the XML (:func:`target_xml`) and the register packets (:func:`registers_to_g`,
:func:`apply_G`, :func:`read_register`, :func:`write_register`) both derive
from it.

Rules:

1. Names, sizes, types, features and numbers are gdb's own, as gdbserver 13
   sends them (``maint print xml-tdesc`` against gdbserver on x86_64; gdb's
   features/rs6000/power64-core.xml, power-fpu-isa205.xml, power64-linux.xml;
   features/s390x-core64.xml, s390-acr.xml, s390-fpr.xml, s390x-linux64.xml).
   gdb checks the registers it needs by name (i386-tdep.c
   ``i386_validate_tdesc_p``, rs6000-tdep.c, s390-tdep.c): the x87 registers
   belong to the i386 core feature, so they are described even where we
   cannot read them.
2. Each register says where our :class:`~pydbg_utrace.arch.Registers` keep
   it: a ``NT_PRSTATUS`` field (our name, through ``arch.gdb_register_map``)
   or a slice of another regset (``NT_PRFPREG``), fetched lazily through the
   regset loader the core gives.  A register we cannot read is sent as
   ``xx`` (gdb shows ``<unavailable>``); ``G`` drops writes to it and ``P``
   refuses them.
3. Values travel in the target's byte order at gdb's width: a segment register
   that is a long in ``NT_PRSTATUS`` is 32 bits to gdb, and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Protocol
from xml.sax.saxutils import quoteattr

from ..arch import Arch, Registers
from .packets import ProtocolError

NT_PRSTATUS = 1
NT_PRFPREG = 2


class Unavailable(Exception):
    """This stop's registers do not include the value (regset missing or short)."""


class Source(Protocol):
    """Where a register's value lives in our :class:`Registers` (``note``: which regset)."""

    note: int

    def read(self, regs: Registers) -> int: ...

    def write(self, regs: Registers, value: int) -> None: ...


@dataclass(frozen=True, slots=True)
class GeneralField:
    """A field of ``NT_PRSTATUS``, by our name."""

    name: str
    note: int = NT_PRSTATUS

    def read(self, regs: Registers) -> int:
        return regs[self.name]

    def write(self, regs: Registers, value: int) -> None:
        regs[self.name] = value


@dataclass(frozen=True, slots=True)
class RegsetSlice:
    """``size`` bytes at ``offset`` of regset ``note`` (in the target's byte order)."""

    note: int
    offset: int
    size: int

    def _regset(self, regs: Registers) -> bytearray:
        try:
            data = regs.regset(self.note)
        except (LookupError, OSError) as exc:
            raise Unavailable(str(exc)) from None
        if len(data) < self.offset + self.size:
            raise Unavailable(f"regset {self.note:#x} is {len(data)} bytes")
        return data

    def read(self, regs: Registers) -> int:
        data = self._regset(regs)
        return int.from_bytes(data[self.offset:self.offset + self.size], regs.arch.byteorder)

    def write(self, regs: Registers, value: int) -> None:
        data = self._regset(regs)
        # gdb's 32-bit fiseg/foseg/fop are 16 bits in fxsave: the rest is dropped, as gdb does.
        value &= (1 << (8 * self.size)) - 1
        data[self.offset:self.offset + self.size] = value.to_bytes(self.size, regs.arch.byteorder)
        regs.extra_changed.add(self.note)


@dataclass(frozen=True, slots=True)
class X87TagWord:
    """gdb's full x87 tag word (2 bits a register) from fxsave's abridged one (1 bit).

    The conversion is gdb's (i387-tdep.c ``i387_supply_fxsave`` / ``i387_tag``,
    and ``i387_collect_fxsave`` back): an empty register is 3, the others are
    classified from their 80-bit contents.
    """

    note: int = NT_PRFPREG

    def read(self, regs: Registers) -> int:
        abridged = FXSAVE_FTW.read(regs) & 0xFF
        top = (FXSAVE_FSW.read(regs) >> 11) & 7
        tag = 0
        for fpreg in range(8):  # physical register number
            if abridged & (1 << fpreg):
                stack_slot = (fpreg + 8 - top) % 8
                value = fxsave_st(stack_slot).read(regs)
                kind = _x87_class(value)
            else:
                kind = 3  # empty
            tag |= kind << (2 * fpreg)
        return tag

    def write(self, regs: Registers, value: int) -> None:
        abridged = sum(1 << r for r in range(8) if (value >> (2 * r)) & 3 != 3)
        FXSAVE_FTW.write(regs, abridged)


def _x87_class(value: int) -> int:
    """0 valid, 1 zero, 2 special (i387-tdep.c ``i387_tag``)."""
    exponent = (value >> 64) & 0x7FFF
    integer = (value >> 63) & 1
    fraction = value & ((1 << 63) - 1)
    if exponent == 0x7FFF:
        return 2
    if exponent == 0:
        return 1 if fraction == 0 and not integer else 2
    return 0 if integer else 2


# x86_64 NT_PRFPREG is the fxsave image (struct user_i387_struct, 512 bytes).
FXSAVE_FCW = RegsetSlice(NT_PRFPREG, 0, 2)
FXSAVE_FSW = RegsetSlice(NT_PRFPREG, 2, 2)
FXSAVE_FTW = RegsetSlice(NT_PRFPREG, 4, 2)


def fxsave_st(n: int) -> RegsetSlice:
    return RegsetSlice(NT_PRFPREG, 32 + 16 * n, 10)


@dataclass(frozen=True, slots=True)
class GdbRegister:
    """One register as gdb knows it (``<reg>`` in the target description)."""

    number: int
    name: str
    bitsize: int
    type: str
    feature: str
    group: str | None = None
    source: Source | None = None  # None: we cannot read it (sent as xx)

    @property
    def size(self) -> int:
        return self.bitsize // 8


@dataclass(frozen=True, slots=True)
class _Spec:
    """One row of a table below before numbering: name, bits, type, group, source."""

    name: str
    bitsize: int
    type: str
    group: str | None
    source: Source | None


def _general(arch: Arch, name: str, bitsize: int, type_: str,
             group: str | None = None) -> _Spec:
    return _Spec(name, bitsize, type_, group, GeneralField(arch.gdb_register_map.get(name, name)))


# -- the tables ----------------------------------------------------------------------
# Each builder yields (feature, first remote number, rows); numbers run on from there.
Table = Iterator[tuple[str, int, list[_Spec]]]


def _x86_64(arch: Arch) -> Table:
    g = ("rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15".split())
    types = {"rbp": "data_ptr", "rsp": "data_ptr"}
    core = [_general(arch, n, 64, types.get(n, "int64")) for n in g]
    core.append(_general(arch, "rip", 64, "code_ptr"))
    core.append(_general(arch, "eflags", 32, "i386_eflags"))
    core += [_general(arch, n, 32, "int32") for n in "cs ss ds es fs gs".split()]
    core += [_Spec(f"st{i}", 80, "i387_ext", None, fxsave_st(i)) for i in range(8)]
    # fxsave offsets of the x87 control registers (gdb amd64-tdep.c amd64_fxsave_offset):
    # fiseg/foseg are the 16 bits above fioff/fooff.
    x87 = [("fctrl", FXSAVE_FCW), ("fstat", FXSAVE_FSW), ("ftag", X87TagWord()),
           ("fiseg", RegsetSlice(NT_PRFPREG, 12, 2)), ("fioff", RegsetSlice(NT_PRFPREG, 8, 4)),
           ("foseg", RegsetSlice(NT_PRFPREG, 20, 2)), ("fooff", RegsetSlice(NT_PRFPREG, 16, 4)),
           ("fop", RegsetSlice(NT_PRFPREG, 6, 2))]
    core += [_Spec(n, 32, "int", "float", s) for n, s in x87]
    yield "org.gnu.gdb.i386.core", 0, core
    sse = [_Spec(f"xmm{i}", 128, "vec128", None, RegsetSlice(NT_PRFPREG, 160 + 16 * i, 16))
           for i in range(16)]
    sse.append(_Spec("mxcsr", 32, "i386_mxcsr", "vector", RegsetSlice(NT_PRFPREG, 24, 4)))
    yield "org.gnu.gdb.i386.sse", 40, sse
    yield "org.gnu.gdb.i386.linux", 57, [_general(arch, "orig_rax", 64, "int")]
    yield "org.gnu.gdb.i386.segments", 58, [_general(arch, n, 64, "int")
                                            for n in ("fs_base", "gs_base")]


def _ppc64(arch: Arch) -> Table:
    # NT_PRFPREG on powerpc: f0-f31 then fpscr, 33 doubles (ELF_NFPREG).
    gprs = [_general(arch, f"r{i}", 64, "uint64") for i in range(32)]
    yield "org.gnu.gdb.power.core", 0, gprs
    fprs = [_Spec(f"f{i}", 64, "ieee_double", None, RegsetSlice(NT_PRFPREG, 8 * i, 8))
            for i in range(32)]
    yield "org.gnu.gdb.power.fpu", 32, fprs
    special = [_general(arch, "pc", 64, "code_ptr"), _general(arch, "msr", 64, "uint64"),
               _general(arch, "cr", 32, "uint32"), _general(arch, "lr", 64, "code_ptr"),
               _general(arch, "ctr", 64, "uint64"), _general(arch, "xer", 32, "uint32")]
    yield "org.gnu.gdb.power.core", 64, special
    yield "org.gnu.gdb.power.fpu", 70, [
        _Spec("fpscr", 64, "int", "float", RegsetSlice(NT_PRFPREG, 8 * 32, 8))]
    yield "org.gnu.gdb.power.linux", 71, [_general(arch, "orig_r3", 64, "int"),
                                          _general(arch, "trap", 64, "int")]


def _s390x(arch: Arch) -> Table:
    # NT_PRFPREG on s390: s390_fp_regs = fpc (u32), pad (u32), fprs[16] (u64).
    core = [_general(arch, "pswm", 64, "uint64", "psw"),
            _general(arch, "pswa", 64, "uint64", "psw")]
    core += [_general(arch, f"r{i}", 64, "uint64", "general") for i in range(16)]
    yield "org.gnu.gdb.s390.core", 0, core
    yield "org.gnu.gdb.s390.acr", 18, [_general(arch, f"acr{i}", 32, "uint32", "access")
                                       for i in range(16)]
    fpr = [_Spec("fpc", 32, "uint32", "float", RegsetSlice(NT_PRFPREG, 0, 4))]
    fpr += [_Spec(f"f{i}", 64, "ieee_double", "float", RegsetSlice(NT_PRFPREG, 8 + 8 * i, 8))
            for i in range(16)]
    yield "org.gnu.gdb.s390.fpr", 34, fpr
    yield "org.gnu.gdb.s390.linux", 51, [_general(arch, "orig_r2", 64, "uint64", "system")]


TABLES: dict[str, Callable[[Arch], Table]] = {
    "x86_64": _x86_64, "ppc64le": _ppc64, "ppc64": _ppc64, "s390x": _s390x}


@cache
def register_table(arch: Arch) -> tuple[GdbRegister, ...]:
    """gdb's registers of ``arch`` in remote-number (= g-packet) order."""
    try:
        build = TABLES[arch.name]
    except KeyError:
        raise ProtocolError(f"no gdb target description for {arch.name}") from None
    registers = []
    for feature, first, rows in build(arch):
        registers += [GdbRegister(first + i, r.name, r.bitsize, r.type, feature, r.group,
                                  r.source) for i, r in enumerate(rows)]
    registers.sort(key=lambda r: r.number)
    numbers = [r.number for r in registers]
    assert numbers == list(range(len(registers))), f"{arch.name}: gaps in {numbers}"
    return tuple(registers)


# -- the XML -------------------------------------------------------------------------
def _eflags_fields() -> str:
    bits = [("CF", 0), ("", 1), ("PF", 2), ("AF", 4), ("ZF", 6), ("SF", 7), ("TF", 8),
            ("IF", 9), ("DF", 10), ("OF", 11), ("NT", 14), ("RF", 16), ("VM", 17),
            ("AC", 18), ("VIF", 19), ("VIP", 20), ("ID", 21)]
    return _flags("i386_eflags", bits)


def _mxcsr_fields() -> str:
    bits = [("IE", 0), ("DE", 1), ("ZE", 2), ("OE", 3), ("UE", 4), ("PE", 5), ("DAZ", 6),
            ("IM", 7), ("DM", 8), ("ZM", 9), ("OM", 10), ("UM", 11), ("PM", 12), ("FZ", 15)]
    return _flags("i386_mxcsr", bits)


def _flags(name: str, bits: list[tuple[str, int]]) -> str:
    fields = "".join(f'<field name="{n}" start="{b}" end="{b}" type="bool"/>' for n, b in bits)
    return f'<flags id="{name}" size="4">{fields}</flags>'


def _vec128() -> str:
    vectors = [("v8bf16", "bfloat16", 8), ("v8h", "ieee_half", 8), ("v4f", "ieee_single", 4),
               ("v2d", "ieee_double", 2), ("v16i8", "int8", 16), ("v8i16", "int16", 8),
               ("v4i32", "int32", 4), ("v2i64", "int64", 2)]
    fields = [("v8_bfloat16", "v8bf16"), ("v8_half", "v8h"), ("v4_float", "v4f"),
              ("v2_double", "v2d"), ("v16_int8", "v16i8"), ("v8_int16", "v8i16"),
              ("v4_int32", "v4i32"), ("v2_int64", "v2i64"), ("uint128", "uint128")]
    return ("".join(f'<vector id="{i}" type="{t}" count="{c}"/>' for i, t, c in vectors)
            + '<union id="vec128">'
            + "".join(f'<field name="{n}" type="{t}"/>' for n, t in fields) + "</union>")


#: Types a feature defines before its registers (gdb's own definitions).
FEATURE_TYPES: dict[str, Callable[[], str]] = {
    "org.gnu.gdb.i386.core": _eflags_fields,
    "org.gnu.gdb.i386.sse": lambda: _vec128() + _mxcsr_fields(),
}


def _reg_xml(reg: GdbRegister) -> str:
    group = f" group={quoteattr(reg.group)}" if reg.group else ""
    return (f"<reg name={quoteattr(reg.name)} bitsize=\"{reg.bitsize}\" "
            f"type={quoteattr(reg.type)} regnum=\"{reg.number}\"{group}/>")


@cache
def target_xml(arch: Arch) -> bytes:
    """The whole target description (every feature inline) as ``target.xml``."""
    features: dict[str, list[GdbRegister]] = {}
    for reg in register_table(arch):
        features.setdefault(reg.feature, []).append(reg)
    parts = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
             "<target>", f"<architecture>{arch.gdb_architecture}</architecture>",
             "<osabi>GNU/Linux</osabi>"]
    for name, regs in features.items():
        parts.append(f"<feature name={quoteattr(name)}>")
        types = FEATURE_TYPES.get(name)
        if types is not None:
            parts.append(types())
        parts += [_reg_xml(r) for r in regs]
        parts.append("</feature>")
    parts.append("</target>")
    return "\n".join(parts).encode() + b"\n"


def features_document(arch: Arch, annex: str) -> bytes | None:
    """The document ``qXfer:features:read:ANNEX`` asks for, None if there is none."""
    return target_xml(arch) if annex == "target.xml" else None


# -- the register packets ------------------------------------------------------------
def g_packet_size(arch: Arch) -> int:
    """Bytes of register data in a full g packet."""
    return sum(r.size for r in register_table(arch))


def _value_hex(arch: Arch, regs: Registers, reg: GdbRegister) -> bytes:
    if reg.source is None:
        return b"xx" * reg.size
    try:
        value = reg.source.read(regs)
    except Unavailable:
        return b"xx" * reg.size
    value &= (1 << reg.bitsize) - 1
    return value.to_bytes(reg.size, arch.byteorder).hex().encode()


def registers_to_g(arch: Arch, regs: Registers) -> bytes:
    """The ``g`` reply: every register in hex, target byte order, ``xx`` where unknown.

    A regset that fails to load once is not asked again for this reply (the
    loader may be a ptrace call that cannot succeed from this thread).
    """
    failed: set[int] = set()
    out = []
    for reg in register_table(arch):
        if reg.source is not None and reg.source.note in failed:
            out.append(b"xx" * reg.size)
            continue
        text = _value_hex(arch, regs, reg)
        if text.startswith(b"xx") and reg.source is not None:
            failed.add(reg.source.note)
        out.append(text)
    return b"".join(out)


def _register(arch: Arch, number: int) -> GdbRegister:
    table = register_table(arch)
    if not 0 <= number < len(table):
        raise ProtocolError(f"no register {number} on {arch.name} (0-{len(table) - 1})")
    return table[number]


def _store(arch: Arch, regs: Registers, reg: GdbRegister, value: bytes) -> None:
    if reg.source is None:
        raise Unavailable(f"{reg.name} is not available here")
    reg.source.write(regs, int.from_bytes(value, arch.byteorder))


def apply_G(arch: Arch, regs: Registers, data: bytes) -> None:  # noqa: N802 (gdb's name)
    """Write a ``G`` packet's decoded bytes into ``regs``; wrong size is a ProtocolError.

    Registers we cannot write are skipped: gdb sends back every register,
    including the ones it was told were unavailable.
    """
    expected = g_packet_size(arch)
    if len(data) != expected:
        raise ProtocolError(f"G packet carries {len(data)} bytes of registers, "
                            f"{arch.name} has {expected}")
    offset = 0
    for reg in register_table(arch):
        value = data[offset:offset + reg.size]
        offset += reg.size
        try:
            # Only what changed: a G that rewrites nothing costs no SETREGSET.
            mask = (1 << reg.bitsize) - 1
            if (reg.source is not None
                    and reg.source.read(regs) & mask != int.from_bytes(value, arch.byteorder)):
                _store(arch, regs, reg, value)
        except Unavailable:
            continue


def read_register(arch: Arch, regs: Registers, number: int) -> bytes:
    """The ``p`` reply for register ``number`` (hex, ``xx`` if unknown)."""
    return _value_hex(arch, regs, _register(arch, number))


def write_register(arch: Arch, regs: Registers, number: int, value: bytes) -> None:
    """``P``: set register ``number`` from raw target-order bytes."""
    reg = _register(arch, number)
    if len(value) != reg.size:
        raise ProtocolError(f"{reg.name} is {reg.size} bytes, P gave {len(value)}")
    try:
        _store(arch, regs, reg, value)
    except Unavailable as exc:
        raise ProtocolError(f"cannot write {reg.name}: {exc}") from None
