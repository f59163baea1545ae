"""The file-system and block-device ioctls strace names and decodes (its fs_f_ioctl.c,
fs_x_ioctl.c, block.c), by their asm-generic numbers; calls.py moves them to the ABI's.

Each request's third argument: what is read and when (at entry, or at exit: filled by
the kernel), as a small spec: ``(kind, at_exit)``.
"""

from __future__ import annotations


def ioc(direction: int, kind: int, number: int, size: int) -> int:
    """asm-generic's _IOC: direction 0 none, 1 write, 2 read, 3 both."""
    return direction << 30 | size << 16 | kind << 8 | number


def io(kind: int, number: int) -> int:
    return ioc(0, kind, number, 0)


F, V, X, FS, BLK = ord("f"), ord("v"), ord("X"), 0x94, 0x12

#: name by asm-generic number (on a 64-bit ABI: long and size_t are 8 bytes)
REQUESTS = {
    ioc(2, F, 1, 8): "FS_IOC_GETFLAGS", ioc(1, F, 2, 8): "FS_IOC_SETFLAGS",
    ioc(2, V, 1, 8): "FS_IOC_GETVERSION", ioc(1, V, 2, 8): "FS_IOC_SETVERSION",
    ioc(2, F, 1, 4): "FS_IOC32_GETFLAGS", ioc(1, F, 2, 4): "FS_IOC32_SETFLAGS",
    ioc(2, V, 1, 4): "FS_IOC32_GETVERSION", ioc(1, V, 2, 4): "FS_IOC32_SETVERSION",
    ioc(3, F, 11, 32): "FS_IOC_FIEMAP",
    ioc(2, X, 31, 28): "FS_IOC_FSGETXATTR", ioc(1, X, 32, 28): "FS_IOC_FSSETXATTR",
    ioc(3, X, 119, 4): "FIFREEZE", ioc(3, X, 120, 4): "FITHAW", ioc(3, X, 121, 24): "FITRIM",
    ioc(1, FS, 9, 4): "FICLONE", ioc(1, FS, 13, 32): "FICLONERANGE",
    ioc(3, FS, 54, 24): "FIDEDUPERANGE",
    ioc(2, FS, 49, 256): "FS_IOC_GETFSLABEL", ioc(1, FS, 50, 256): "FS_IOC_SETFSLABEL",
    io(0, 1): "FIBMAP", io(0, 2): "FIGETBSZ",
    **{io(BLK, 93 + k): name for k, name in enumerate(
        "BLKROSET BLKROGET BLKRRPART BLKGETSIZE BLKFLSBUF BLKRASET BLKRAGET BLKFRASET "
        "BLKFRAGET BLKSECTSET BLKSECTGET BLKSSZGET".split())},
    io(BLK, 105): "BLKPG",
    ioc(2, BLK, 112, 8): "BLKBSZGET", ioc(1, BLK, 113, 8): "BLKBSZSET",
    ioc(2, BLK, 114, 8): "BLKGETSIZE64", ioc(3, BLK, 115, 72): "BLKTRACESETUP",
    **{io(BLK, 116 + k): name for k, name in enumerate(
        "BLKTRACESTART BLKTRACESTOP BLKTRACETEARDOWN BLKDISCARD BLKIOMIN BLKIOOPT "
        "BLKALIGNOFF BLKPBSZGET BLKDISCARDZEROES BLKSECDISCARD BLKROTATIONAL "
        "BLKZEROOUT".split())},
    ioc(2, BLK, 128, 8): "BLKGETDISKSEQ",
}
#: the ones made with _IO: a plain number on asm-generic, _IOC_NONE's bit on powerpc
PLAIN = frozenset(name for number, name in REQUESTS.items() if number >> 30 == 0)

FS_FLAGS = tuple((1 << k, f"FS_{name}_FL") for k, name in enumerate(
    "SECRM UNRM COMPR SYNC IMMUTABLE APPEND NODUMP NOATIME DIRTY COMPRBLK NOCOMP ENCRYPT "
    "INDEX IMAGIC JOURNAL_DATA NOTAIL DIRSYNC TOPDIR HUGE_FILE EXTENT VERITY EA_INODE "
    "EOFBLOCKS NOCOW _ DAX _ _ INLINE_DATA PROJINHERIT CASEFOLD RESERVED".split())
    if name != "_")
FS_XFLAGS = tuple((1 << k, f"FS_XFLAG_{name}") for k, name in enumerate(
    "REALTIME PREALLOC _ IMMUTABLE APPEND SYNC NOATIME NODUMP RTINHERIT PROJINHERIT "
    "NOSYMLINKS EXTSIZE EXTSZINHERIT NODEFRAG FILESTREAM DAX COWEXTSIZE".split())
    if name != "_") + ((0x80000000, "FS_XFLAG_HASATTR"),)

#: what each request's argument is: (how, at exit).  How: "none" (no argument shown),
#: "value" (the argument itself, %u), "fs_flags", "fsxattr_get"/"fsxattr_set", "fstrim",
#: or a number's (size, signed) -- "[N]" -- or "pair" (two u64: "[start, length]").
ARGUMENTS: dict[str, tuple[object, bool]] = {
    "FS_IOC_GETFLAGS": ("fs_flags", True), "FS_IOC32_GETFLAGS": ("fs_flags", True),
    "FS_IOC_SETFLAGS": ("fs_flags", False), "FS_IOC32_SETFLAGS": ("fs_flags", False),
    "FS_IOC_FSGETXATTR": ("fsxattr_get", True), "FS_IOC_FSSETXATTR": ("fsxattr_set", False),
    "FITRIM": ("fstrim", False), "FIFREEZE": ("none", False), "FITHAW": ("none", False),
    "BLKRASET": ("value", False), "BLKFRASET": ("value", False),
    "BLKSECTGET": ((2, False), True), "BLKROTATIONAL": ((2, False), True),
    "BLKROGET": ((4, True), True), "BLKBSZGET": ((4, True), True),
    "BLKSSZGET": ((4, True), True), "BLKALIGNOFF": ((4, True), True),
    "BLKROSET": ((4, True), False), "BLKBSZSET": ((4, True), False),
    "BLKPBSZGET": ((4, False), True), "BLKIOMIN": ((4, False), True),
    "BLKIOOPT": ((4, False), True), "BLKDISCARDZEROES": ((4, False), True),
    "BLKRAGET": ((8, True), True), "BLKFRAGET": ((8, True), True),
    "BLKGETSIZE": ((8, False), True), "BLKGETSIZE64": ((8, False), True),
    "BLKGETDISKSEQ": ((8, False), True),
    "BLKDISCARD": ("pair", False), "BLKSECDISCARD": ("pair", False),
    "BLKZEROOUT": ("pair", False),
    "BLKRRPART": ("none", False), "BLKFLSBUF": ("none", False),
    "BLKTRACESTART": ("none", False), "BLKTRACESTOP": ("none", False),
    "BLKTRACETEARDOWN": ("none", False),
}
#: how many bytes each kind reads
SIZES = {"fs_flags": 4, "fsxattr_get": 28, "fsxattr_set": 28, "fstrim": 24, "pair": 16}
