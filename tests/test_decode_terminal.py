"""Unit tests of the terminal structures (engines/decode/terminal.py), from bytes.

powerpc's kernel ``struct termios`` is its own (asm/termbits.h: c_cc[19] before c_line,
c_ispeed and c_ospeed at the end, 44 bytes) and so are its flag bits and c_cc indices;
``struct termio`` (TCGETA) has NCC 10 there and 8 on asm-generic.  The same terminal
state packed each arch's way prints the same text (strace prints its flags in one order
everywhere, by the arch's values); x86_64's text is strace 6.1's (seen on a pty, and
compared live in tests/test_decode_vs_strace_live.py).  The values and offsets are checked
against each target's own asm/termbits.h (static assertions compiled by the host's and
Debian's cross compilers).
"""

from __future__ import annotations

import struct

import pytest
from pydbg_utrace.engines import decode
from pydbg_utrace.engines.decode import calls, terminal
from pydbg_utrace.engines.trace_options import TraceOptions
from target_headers import assert_compiles

X86, PPC, PPC_BE, S390 = (decode.abi_for(n) for n in ("x86_64", "ppc64le", "ppc64", "s390x"))
ARG = 0x10000

#: a pty's default state, by name: the flags of each word, the baud, c_cc by V name
STATE = {"i": ("ICRNL", "IXON"), "o": ("OPOST", "ONLCR"), "c": ("CS8", "CREAD"),
         "l": ("ISIG", "ICANON", "ECHO", "ECHOE", "ECHOK", "IEXTEN", "ECHOCTL", "ECHOKE")}
CC = {"VINTR": 3, "VQUIT": 0x1C, "VERASE": 0x7F, "VKILL": 0x15, "VEOF": 4, "VMIN": 1,
      "VSTART": 0x11, "VSTOP": 0x13, "VSUSP": 0x1A}


def value(table, names) -> int:
    by_name = {name: bits for bits, name in table}
    return sum(by_name[n] for n in names)


def packed_termios(abi, ispeed_bits: int = 0) -> bytes:
    bits = terminal.bits_for(abi)
    csize = {"CS8": bits.csize}
    words = (value(bits.iflags, STATE["i"]), value(bits.oflags, STATE["o"]),
             15 | csize["CS8"] | value(bits.cflags, ("CREAD",)) | ispeed_bits,
             value(bits.lflags, STATE["l"]))
    o = "<" if abi.byteorder == "little" else ">"
    data = bytearray(bits.termios_size)
    struct.pack_into(o + "4I", data, 0, *words)
    index = {name: k for k, name in bits.cc_names.items()}
    for name, char in CC.items():
        data[bits.cc_offset + index[name]] = char
    if bits.speeds:
        struct.pack_into(o + "II", data, 36, 38400, 38400)
    return bytes(data)


FLAGS = ("{c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, "
         "c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE")


@pytest.mark.parametrize("abi", [X86, PPC, PPC_BE, S390], ids=["x86_64", "ppc64le", "ppc64",
                                                              "s390x"])
def test_one_terminal_state_prints_the_same_on_every_abi(abi):
    mem = decode.BytesMemory({ARG: packed_termios(abi)})
    pending = decode.decode_entry(abi, "ioctl", (0, number(abi, "TCGETS"), ARG), mem)
    assert pending.entry_text + decode.decode_exit(pending, 0, None) == (
        f"ioctl(0, TCGETS, {FLAGS}, ...}})")


def number(abi, name: str) -> int:
    return next(n for n, known in calls.ioctl_table(abi.name).items() if known == name)


def test_verbose_shows_c_cc_by_each_abis_indices_and_powerpcs_speeds():
    ppc = terminal.termios(packed_termios(PPC), PPC, verbose=True)
    assert ppc.startswith(FLAGS + ", c_line=N_TTY, c_cc=[[VINTR]=0x3, [VQUIT]=0x1c, "
                          "[VERASE]=0x7f, [VKILL]=0x15, [VEOF]=0x4, [VMIN]=0x1, [VEOL]=0, ")
    assert ppc.endswith("[VDISCARD]=0, [17]=0, [18]=0], c_ispeed=38400, c_ospeed=38400}")
    x86 = terminal.termios(packed_termios(X86), X86, verbose=True)
    assert "[VEOF]=0x4, [VTIME]=0, [VMIN]=0x1, [VSWTC]=0, [VSTART]=0x11," in x86
    assert x86.endswith("[VEOL2]=0, [17]=0, [18]=0]}")


def test_an_input_speed_of_its_own():
    """strace 6.1 on x86_64: ``c_cflag=B38400|B9600<<IBSHIFT|CS8|CREAD``."""
    for abi in (X86, PPC):
        text = terminal.termios(packed_termios(abi, 13 << 16), abi)
        assert "c_cflag=B38400|B9600<<IBSHIFT|CS8|CREAD," in text, abi.name


def test_powerpcs_fast_speeds_count_on_from_0x10():
    data = bytearray(packed_termios(PPC))
    struct.pack_into("<I", data, 8, 0x11 | 0x300 | 0x800)  # B115200
    assert "c_cflag=B115200|CS8|CREAD," in terminal.termios(bytes(data), PPC)
    x86 = bytearray(packed_termios(X86))
    struct.pack_into("<I", x86, 8, 0o10002 | 0o60 | 0o200)
    assert "c_cflag=B115200|CS8|CREAD," in terminal.termios(bytes(x86), X86)


@pytest.mark.parametrize("abi", [X86, PPC_BE], ids=["x86_64", "ppc64"])
def test_tcgeta_shows_struct_termio(abi):
    bits = terminal.bits_for(abi)
    full = packed_termios(abi)
    o = "<" if abi.byteorder == "little" else ">"
    words = struct.unpack_from(o + "4I", full)
    data = struct.pack(o + "4H", *(w & 0xFFFF for w in words)) + bytes(
        [0]) + full[bits.cc_offset:bits.cc_offset + bits.termio_ncc]
    data += bytes(bits.termio_size - len(data))
    mem = decode.BytesMemory({ARG: data})
    pending = decode.decode_entry(abi, "ioctl", (0, number(abi, "TCGETA"), ARG), mem,
                                  TraceOptions(verbose=True))
    text = pending.entry_text + decode.decode_exit(pending, 0, None)
    if abi is X86:  # strace 6.1: termio_cc is termios_cc, NCC 8
        assert text.endswith("c_line=N_TTY, c_cc=[[VINTR]=0x3, [VQUIT]=0x1c, [VERASE]=0x7f, "
                             "[VKILL]=0x15, [VEOF]=0x4, [VTIME]=0, [VMIN]=0x1, [VSWTC]=0]})")
    else:  # powerpc: its _V names, NCC 10
        assert text.endswith("c_line=N_TTY, c_cc=[[_VINTR]=0x3, [_VQUIT]=0x1c, [_VERASE]=0x7f, "
                             "[_VKILL]=0x15, [_VEOF]=0x4, [_VMIN]=0x1, [_VEOL]=0, [_VTIME]=0, "
                             "[_VEOL2]=0, [_VSWTC]=0]})")
    assert text.startswith(f"ioctl(0, TCGETA, {FLAGS}")


# -- the values and layouts against each arch's own asm/termbits.h ---------------------------


def layout_checks(abi) -> str:
    bits = terminal.bits_for(abi)
    checks = {"sizeof(struct termios)": bits.termios_size,
              "offsetof(struct termios, c_line)": bits.line_offset,
              "offsetof(struct termios, c_cc)": bits.cc_offset, "NCCS": 19,
              "CBAUD": bits.cbaud, "CIBAUD": bits.cibaud, "CSIZE": bits.csize, "IBSHIFT": 16,
              "CS8": bits.csize, "BOTHER": next(k for k, v in bits.bauds.items() if v == "BOTHER")}
    if bits.speeds:
        checks.update({"offsetof(struct termios, c_ispeed)": 36,
                       "offsetof(struct termios, c_ospeed)": 40})
    for table in (bits.iflags, bits.oflags, bits.cflags, bits.lflags):
        checks.update({name: v for v, name in table})
    for mask, names in bits.odelays:
        checks.update({name: k * (mask & -mask) for k, name in enumerate(names)})
    checks.update({name: k for k, name in bits.cc_names.items()})
    checks.update({name: v for v, name in bits.bauds.items()})
    head = "#include <stddef.h>\n#include <asm/termbits.h>\n"
    # struct termio (and the powerpc _V indices) live in asm/termios.h
    head += "#include <asm/termios.h>\n"
    checks.update({"sizeof(struct termio)": bits.termio_size, "NCC": bits.termio_ncc})
    if abi.name.startswith("ppc"):
        checks.update({name: k for k, name in bits.termio_cc_names.items()})
    return head + "".join(f'_Static_assert(({e}) == {v:#x}u, "{e}");\n' for e, v in checks.items())


@pytest.mark.parametrize("abi", [X86, PPC, S390], ids=["x86_64", "ppc64le", "s390x"])
def test_the_termbits_agree_with_the_targets_own_headers(abi, tmp_path):
    assert_compiles(abi.name, layout_checks(abi), tmp_path / "termbits.c")
