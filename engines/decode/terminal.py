"""Terminal structures as strace prints them (its term.c): the kernel's ``struct termios``
and ``struct termio``, per architecture.

asm-generic/termbits.h (x86_64, s390x) and powerpc's own asm/termbits.h differ in
almost everything: the layout (powerpc's termios puts ``c_cc[19]`` before ``c_line`` and
ends with ``c_ispeed``/``c_ospeed``: 44 bytes, not 36), the flag bits (``IXON`` 0x200,
not 0o2000; ``CBAUD`` 0xff with the fast speeds counted on from 0x10, not ``CBAUDEX``'s
bit), and the ``c_cc`` indices (``VMIN`` 5, ``VEOL`` 6).  strace prints the flags in the
same order everywhere (its xlat tables' order), by each arch's values.
"""

from __future__ import annotations

from typing import NamedTuple

from .abi import Abi
from .text import flags


class TermBits(NamedTuple):
    """One arch's termbits.h: the flags, and where the fields of its structures are."""

    iflags: tuple
    oflags: tuple
    odelays: tuple  # (mask, names by value / lowest bit) in strace's order: NL CR TAB BS VT FF
    cflags: tuple
    lflags: tuple
    cbaud: int
    cibaud: int
    csize: int
    bauds: dict  # CBAUD value -> name
    cc_names: dict  # c_cc index -> V name
    termio_cc_names: dict  # struct termio's c_cc index -> its name (powerpc's _V ones)
    termio_ncc: int  # NCC: how many c_cc struct termio has
    termio_size: int
    termios_size: int
    cc_offset: int  # struct termios: c_cc, then c_line (powerpc), or c_line then c_cc
    line_offset: int
    speeds: bool  # c_ispeed, c_ospeed at the end (powerpc)


_STANDARD_BAUDS = ("B0 B50 B75 B110 B134 B150 B200 B300 B600 B1200 B1800 B2400 B4800 B9600 "
                   "B19200 B38400").split()
_FAST_BAUDS = ("B57600 B115200 B230400 B460800 B500000 B576000 B921600 B1000000 B1152000 "
               "B1500000 B2000000 B2500000 B3000000 B3500000 B4000000").split()


def _names(text: str, values: str) -> tuple:
    return tuple(zip((int(v, 0) for v in values.split()), text.split(), strict=True))


_IFLAG_NAMES = "IGNBRK BRKINT IGNPAR PARMRK INPCK ISTRIP INLCR IGNCR ICRNL IUCLC IXON IXANY "
_IFLAG_NAMES += "IXOFF IMAXBEL IUTF8"
_OFLAG_NAMES = "OPOST OLCUC ONLCR OCRNL ONOCR ONLRET OFILL OFDEL"
_CFLAG_NAMES = "CSTOPB CREAD PARENB PARODD HUPCL CLOCAL CMSPAR CRTSCTS"
_LFLAG_NAMES = ("ISIG ICANON XCASE ECHO ECHOE ECHOK ECHONL NOFLSH IEXTEN ECHOCTL ECHOPRT ECHOKE "
                "FLUSHO PENDIN TOSTOP EXTPROC")
_GENERIC_CC = dict(enumerate("VINTR VQUIT VERASE VKILL VEOF VTIME VMIN VSWTC VSTART VSTOP VSUSP "
                              "VEOL VREPRINT VDISCARD VWERASE VLNEXT VEOL2".split()))
_TERMIO_CC = "_VINTR _VQUIT _VERASE _VKILL _VEOF _VMIN _VEOL _VTIME _VEOL2 _VSWTC".split()

GENERIC = TermBits(
    iflags=_names(_IFLAG_NAMES, "1 2 4 0o10 0o20 0o40 0o100 0o200 0o400 0o1000 0o2000 0o4000 "
                                "0o10000 0o20000 0o40000"),
    oflags=_names(_OFLAG_NAMES, "1 2 4 0o10 0o20 0o40 0o100 0o200"),
    odelays=((0o400, ("NL0", "NL1")), (0o3000, ("CR0", "CR1", "CR2", "CR3")),
             (0o14000, ("TAB0", "TAB1", "TAB2", "XTABS")), (0o20000, ("BS0", "BS1")),
             (0o40000, ("VT0", "VT1")), (0o100000, ("FF0", "FF1"))),
    cflags=_names(_CFLAG_NAMES, "0o100 0o200 0o400 0o1000 0o2000 0o4000 0o10000000000 "
                                "0o20000000000"),
    lflags=_names(_LFLAG_NAMES, "1 2 4 0o10 0o20 0o40 0o100 0o200 0o100000 0o1000 0o2000 "
                                "0o4000 0o10000 0o40000 0o400 0o200000"),
    cbaud=0o10017, cibaud=0o2003600000, csize=0o60,
    bauds={**dict(enumerate(_STANDARD_BAUDS)), 0o10000: "BOTHER",
           **{0o10001 + k: name for k, name in enumerate(_FAST_BAUDS)}},
    cc_names=_GENERIC_CC,
    termio_cc_names=_GENERIC_CC, termio_ncc=8, termio_size=18,  # strace: termio_cc is termios_cc
    termios_size=36, cc_offset=17, line_offset=16, speeds=False)

POWERPC = TermBits(
    iflags=_names(_IFLAG_NAMES, "1 2 4 8 0x10 0x20 0x40 0x80 0x100 0x1000 0x200 0x800 0x400 "
                                "0x2000 0x4000"),
    oflags=_names(_OFLAG_NAMES, "1 4 2 8 0x10 0x20 0x40 0x80"),
    odelays=((0x300, ("NL0", "NL1", "NL2", "NL3")), (0x3000, ("CR0", "CR1", "CR2", "CR3")),
             (0xC00, ("TAB0", "TAB1", "TAB2", "XTABS")), (0x8000, ("BS0", "BS1")),
             (0x10000, ("VT0", "VT1")), (0x4000, ("FF0", "FF1"))),
    cflags=_names(_CFLAG_NAMES, "0x400 0x800 0x1000 0x2000 0x4000 0x8000 0x40000000 "
                                "0x80000000"),
    lflags=_names(_LFLAG_NAMES, "0x80 0x100 0x4000 8 2 4 0x10 0x80000000 0x400 0x40 0x20 1 "
                                "0x800000 0x20000000 0x400000 0x10000000"),
    cbaud=0xFF, cibaud=0xFF0000, csize=0x300,
    bauds={**dict(enumerate(_STANDARD_BAUDS)),
           **{0x10 + k: name for k, name in enumerate(_FAST_BAUDS)}, 0x1F: "BOTHER"},
    cc_names=dict(enumerate("VINTR VQUIT VERASE VKILL VEOF VMIN VEOL VTIME VEOL2 VSWTC VWERASE "
                            "VREPRINT VSUSP VSTART VSTOP VLNEXT VDISCARD".split())),
    termio_cc_names=dict(enumerate(_TERMIO_CC)), termio_ncc=10, termio_size=20,
    termios_size=44, cc_offset=16, line_offset=35, speeds=True)

def bits_for(abi: Abi) -> TermBits:
    return POWERPC if abi.name.startswith("ppc") else GENERIC


def _chex(value: int) -> str:
    return f"{value:#x}" if value else "0"


def _low_bit(mask: int) -> int:
    return mask & -mask


def _baud(bits: TermBits, value: int) -> str:
    name = bits.bauds.get(value)
    if name is not None:
        return name
    return f"{value:#o}" if bits is GENERIC else f"{value:#x} /* B??? */"


def _flag_words(bits: TermBits, iflag: int, oflag: int, cflag: int, lflag: int) -> list[str]:
    """strace's decode_flags: ``c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|...``."""
    odelays = [names[(oflag & mask) // _low_bit(mask)] if (oflag & mask) // _low_bit(mask)
               < len(names) else f"{oflag & mask:#x}" for mask, names in bits.odelays]
    oflags = flags(oflag & ~sum(m for m, _ in bits.odelays), bits.oflags, "")
    cparts = [_baud(bits, cflag & bits.cbaud)]
    if cflag & bits.cibaud:  # an input speed of its own
        cparts.append(_baud(bits, (cflag & bits.cibaud) >> 16) + "<<IBSHIFT")
    cparts.append(("CS5", "CS6", "CS7", "CS8")[(cflag & bits.csize) // _low_bit(bits.csize)])
    rest = flags(cflag & ~(bits.cbaud | bits.cibaud | bits.csize), bits.cflags, "")
    return [f"c_iflag={flags(iflag, bits.iflags, '')}",  # strace: nothing at all for none
            "c_oflag=" + "|".join(odelays + ([oflags] if oflags else [])),
            "c_cflag=" + "|".join(cparts + ([rest] if rest else [])),
            f"c_lflag={flags(lflag, bits.lflags, '')}"]


def _cc(names: dict, data: bytes) -> str:
    return "c_cc=[" + ", ".join(f"[{names.get(k, k)}]={_chex(b)}" for k, b in enumerate(data)) \
        + "]"


def termios(data: bytes, abi: Abi, verbose: bool = False) -> str:
    """``{c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|...|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, ...}``;
    with ``-v`` c_line, c_cc (and powerpc's speeds)."""
    bits = bits_for(abi)
    shown = _flag_words(bits, *(abi.word(data, 4 * k, 4) for k in range(4)))
    if not verbose:
        return "{" + ", ".join(shown) + ", ...}"
    line = data[bits.line_offset]
    shown += [f"c_line={'N_TTY' if line == 0 else line}",
              _cc(bits.cc_names, data[bits.cc_offset:bits.cc_offset + 19])]
    if bits.speeds:
        shown += [f"c_ispeed={abi.word(data, 36, 4)}", f"c_ospeed={abi.word(data, 40, 4)}"]
    return "{" + ", ".join(shown) + "}"


def termio(data: bytes, abi: Abi, verbose: bool = False) -> str:
    """TCGETA's ``struct termio``: the flags in 16-bit words, c_line, c_cc[NCC]."""
    bits = bits_for(abi)
    shown = _flag_words(bits, *(abi.word(data, 2 * k, 2) for k in range(4)))
    if not verbose:
        return "{" + ", ".join(shown) + ", ...}"
    line = data[8]
    shown += [f"c_line={'N_TTY' if line == 0 else line}",
              _cc(bits.termio_cc_names, data[9:9 + bits.termio_ncc])]
    return "{" + ", ".join(shown) + "}"
