"""Unit tests of the file-system, block-device and SIOCGIFCONF ioctls, from bytes.

The requests are numbered each ABI's way (powerpc's _IOC has 3 direction bits and
_IOC_NONE 1: its BLKSSZGET is 0x20001268, not 0x1268) and their arguments packed in its
byte order; the expected text is strace 6.1's (tests/tracees/decode_ioctl.c is compared
live in tests/test_decode_vs_strace_live.py).  The numbers, flags and layouts are checked
against each target's own C headers (static assertions compiled by the host's and
Debian's cross compilers).
"""

from __future__ import annotations

import struct

import pytest
from pydbg_utrace.engines import decode
from pydbg_utrace.engines.decode import calls, ioctls
from pydbg_utrace.engines.trace_options import TraceOptions
from target_headers import assert_compiles

X86, PPC, PPC_BE, S390 = (decode.abi_for(n) for n in ("x86_64", "ppc64le", "ppc64", "s390x"))
ABIS = pytest.mark.parametrize("abi", [X86, PPC, PPC_BE, S390],
                               ids=["x86_64", "ppc64le", "ppc64", "s390x"])
ARG, BUF = 0x10000, 0x20000


def number(abi, name: str) -> int:
    return next(n for n, known in calls.ioctl_table(abi.name).items() if known == name)


def o(abi) -> str:
    return "<" if abi.byteorder == "little" else ">"


def line(abi, name: str, data: bytes | None, rval=0, error=None, after: bytes | None = None,
         options: TraceOptions | None = None) -> str:
    mem = decode.BytesMemory({ARG: data} if data is not None else {})
    pending = decode.decode_entry(abi, "ioctl", (3, number(abi, name), ARG), mem, options)
    exit_mem = decode.BytesMemory({ARG: after}) if after is not None else mem
    return pending.entry_text + decode.decode_exit(pending, rval, error, exit_mem)


@ABIS
def test_block_device_numbers_at_exit(abi):
    assert line(abi, "BLKGETSIZE64", struct.pack(o(abi) + "Q", 1 << 33)) == (
        "ioctl(3, BLKGETSIZE64, [8589934592])")
    assert line(abi, "BLKSSZGET", struct.pack(o(abi) + "i", 512)) == "ioctl(3, BLKSSZGET, [512])"
    assert line(abi, "BLKROTATIONAL", struct.pack(o(abi) + "H", 1)) == (
        "ioctl(3, BLKROTATIONAL, [1])")
    assert line(abi, "BLKRAGET", struct.pack(o(abi) + "q", 256)) == "ioctl(3, BLKRAGET, [256])"
    assert line(abi, "BLKFLSBUF", None) == "ioctl(3, BLKFLSBUF)"
    assert line(abi, "BLKDISCARD", struct.pack(o(abi) + "QQ", 0, 4096)) == (
        "ioctl(3, BLKDISCARD, [0, 4096])")


@ABIS
def test_a_failed_block_request_shows_the_address(abi):
    assert line(abi, "BLKGETSIZE64", bytes(8), -25, 25) == "ioctl(3, BLKGETSIZE64, 0x10000)"


@ABIS
def test_inode_flags_and_fsxattr(abi):
    assert line(abi, "FS_IOC_GETFLAGS", struct.pack(o(abi) + "I", 0x80010)) == (
        "ioctl(3, FS_IOC_GETFLAGS, [FS_IMMUTABLE_FL|FS_EXTENT_FL])")
    xattr = struct.pack(o(abi) + "IIII I8x", 0x8, 0, 3, 0x10, 0)
    assert line(abi, "FS_IOC_FSGETXATTR", xattr) == (
        "ioctl(3, FS_IOC_FSGETXATTR, {fsx_xflags=FS_XFLAG_IMMUTABLE, fsx_extsize=0, "
        "fsx_nextents=3, fsx_projid=0x10, fsx_cowextsize=0})")
    assert line(abi, "FS_IOC_FSSETXATTR", xattr) == (
        "ioctl(3, FS_IOC_FSSETXATTR, {fsx_xflags=FS_XFLAG_IMMUTABLE, fsx_extsize=0, "
        "fsx_projid=0x10, fsx_cowextsize=0})")


def ifreq(abi, name: bytes, addr: tuple[int, int, int, int]) -> bytes:
    sockaddr = struct.pack(o(abi) + "H", 2) + bytes(2) + bytes(addr) + bytes(8)
    return name.ljust(16, b"\0") + sockaddr + bytes(8)


@ABIS
def test_sioc_gifconf_with_a_buffer_without_and_cut(abi):
    reqs = ifreq(abi, b"lo", (127, 0, 0, 1)) + ifreq(abi, b"eth0", (192, 0, 2, 2))
    before = struct.pack(o(abi) + "i4xQ", 320, BUF)
    after = struct.pack(o(abi) + "i4xQ", 80, BUF)
    mem = decode.BytesMemory({ARG: before, BUF: reqs})
    pending = decode.decode_entry(abi, "ioctl", (3, number(abi, "SIOCGIFCONF"), ARG), mem)
    assert pending.entry_text == "ioctl(3, SIOCGIFCONF, {ifc_len=320 /* 8 * sizeof(struct ifreq) */"
    text = decode.decode_exit(pending, 0, None, decode.BytesMemory({ARG: after, BUF: reqs}))
    assert text == (
        " => 80 /* 2 * sizeof(struct ifreq) */, ifc_buf=[{ifr_name=\"lo\", ifr_addr={"
        "sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"127.0.0.1\")}}, "
        "{ifr_name=\"eth0\", ifr_addr={sa_family=AF_INET, sin_port=htons(0), "
        "sin_addr=inet_addr(\"192.0.2.2\")}}]})")
    cut = decode.decode_entry(abi, "ioctl", (3, number(abi, "SIOCGIFCONF"), ARG), mem,
                              TraceOptions(string_limit=1))
    assert decode.decode_exit(cut, 0, None, decode.BytesMemory({ARG: after, BUF: reqs})
                              ).endswith('inet_addr("127.0.0.1")}}, ...]})')
    full = decode.decode_entry(abi, "ioctl", (3, number(abi, "SIOCGIFCONF"), ARG), mem,
                               TraceOptions(string_limit=1, verbose=True))
    assert decode.decode_exit(full, 0, None, decode.BytesMemory({ARG: after, BUF: reqs})
                              ).endswith('inet_addr("192.0.2.2")}}]})')  # -v: print_array whole
    none = struct.pack(o(abi) + "i4xQ", 0, 0)
    asked = decode.decode_entry(abi, "ioctl", (3, number(abi, "SIOCGIFCONF"), ARG),
                                decode.BytesMemory({ARG: none}))
    assert asked.entry_text + decode.decode_exit(
        asked, 0, None, decode.BytesMemory({ARG: struct.pack(o(abi) + "i4xQ", 80, 0)})) == (
        "ioctl(3, SIOCGIFCONF, {ifc_len=80 /* 2 * sizeof(struct ifreq) */, ifc_buf=NULL})")


def test_powerpc_numbers_its_plain_requests_with_ioc_none():
    assert number(PPC, "BLKSSZGET") == 0x20001268 and number(X86, "BLKSSZGET") == 0x1268
    assert number(PPC, "FS_IOC_GETFLAGS") == 0x40086601
    assert number(X86, "FS_IOC_GETFLAGS") == number(S390, "FS_IOC_GETFLAGS") == 0x80086601


# -- the numbers and layouts against each arch's own C headers -------------------------------


def layout_checks(abi) -> str:
    checks = {"sizeof(struct ifconf)": calls.IFCONF_SIZE,
              "offsetof(struct ifconf, ifc_buf)": 8, "sizeof(struct ifreq)": calls.IFREQ_SIZE,
              "sizeof(struct fsxattr)": 28, "offsetof(struct fsxattr, fsx_projid)": 12,
              "offsetof(struct fsxattr, fsx_cowextsize)": 16,
              "sizeof(struct fstrim_range)": ioctls.SIZES["fstrim"],
              "SIOCGIFCONF": next(n for n, k in calls.ioctl_table(abi.name).items()
                                  if k == "SIOCGIFCONF")}
    names = {name: code for code, name in calls.ioctl_table(abi.name).items()
             if name in ioctls.REQUESTS.values()}
    for table in (ioctls.FS_FLAGS, ioctls.FS_XFLAGS):
        names.update({name: bits for bits, name in table})
    head = "".join(f"#include <{h}>\n" for h in (
        "stddef.h", "sys/ioctl.h", "sys/socket.h", "net/if.h", "linux/fs.h", "linux/fiemap.h",
        "linux/blktrace_api.h"))
    text = head + "".join(f'#ifdef {n}\n_Static_assert({n} == {v:#x}u, "{n}");\n#endif\n'
                          for n, v in names.items())
    return text + "".join(f'_Static_assert(({e}) == {v:#x}u, "{e}");\n' for e, v in checks.items())


@pytest.mark.parametrize("abi", [X86, PPC, S390], ids=["x86_64", "ppc64le", "s390x"])
def test_the_numbers_agree_with_the_targets_own_headers(abi, tmp_path):
    assert_compiles(abi.name, layout_checks(abi), tmp_path / "ioctls.c")
