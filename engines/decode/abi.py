"""What decoding needs to know of an architecture beyond the syscall table.

Three 64-bit Linux ABIs.  Sources: the kernel's uapi headers --
``asm-generic/fcntl.h`` against ``arch/powerpc/include/uapi/asm/fcntl.h``
(O_DIRECTORY, O_NOFOLLOW, O_LARGEFILE, O_DIRECT move), ``mman.h`` likewise
(MAP_NORESERVE, MAP_LOCKED on powerpc; no MAP_32BIT), the clone argument
order (``CLONE_BACKWARDS`` on powerpc: tls before child_tid; s390x:
``CLONE_BACKWARDS2``, stack before flags) and ``struct stat``
(``arch/s390/include/uapi/asm/stat.h`` puts the times before blksize),
``struct epoll_event`` (``__EPOLL_PACKED`` on x86_64 only) and the ioctl
number's fields (``arch/powerpc/include/uapi/asm/ioctl.h``: 13 size bits,
3 direction bits, ``_IOC_NONE`` 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import tables


@dataclass(frozen=True)
class Abi:
    name: str
    byteorder: str
    word_size: int
    open_flags: tuple[tuple[int, str], ...]
    mmap_flags: tuple[tuple[int, str], ...]
    #: clone's raw arguments -> (flags, stack, parent_tid, child_tid, tls)
    clone_order: tuple[int, int, int, int, int]
    #: struct stat: field -> (offset, size); and its size
    stat_fields: dict[str, tuple[int, int]]
    stat_size: int
    #: struct epoll_event is packed (12 bytes, data at 4) on x86_64 only (__EPOLL_PACKED);
    #: elsewhere data is aligned: 16 bytes, data at 8
    epoll_packed: bool = False
    #: an ioctl number's _IOC fields (asm-generic/ioctl.h; powerpc's asm/ioctl.h): the
    #: direction's shift and its bits by name in strace's order, the size's bits
    ioc_dir_shift: int = 30
    ioc_dirs: tuple[tuple[int, str], ...] = ((0, "_IOC_NONE"), (2, "_IOC_READ"),
                                             (1, "_IOC_WRITE"))
    ioc_size_bits: int = 14
    #: SOL_SOCKET's options by number (arch/powerpc/include/uapi/asm/socket.h moves six)
    socket_options: dict[int, str] = field(default_factory=lambda: tables.SOCKET_OPTIONS)

    def word(self, data: bytes, offset: int = 0, size: int | None = None,
             signed: bool = False) -> int:
        size = size or self.word_size
        return int.from_bytes(data[offset:offset + size], self.byteorder, signed=signed)


_STAT_GENERIC = {  # x86_64 and powerpc64: struct stat of asm/stat.h
    "st_dev": (0, 8), "st_ino": (8, 8), "st_nlink": (16, 8), "st_mode": (24, 4),
    "st_uid": (28, 4), "st_gid": (32, 4), "st_rdev": (40, 8), "st_size": (48, 8),
    "st_blksize": (56, 8), "st_blocks": (64, 8), "st_atime": (72, 8), "st_atime_nsec": (80, 8),
    "st_mtime": (88, 8), "st_mtime_nsec": (96, 8), "st_ctime": (104, 8),
    "st_ctime_nsec": (112, 8),
}
_STAT_S390X = {
    "st_dev": (0, 8), "st_ino": (8, 8), "st_nlink": (16, 8), "st_mode": (24, 4),
    "st_uid": (28, 4), "st_gid": (32, 4), "st_rdev": (40, 8), "st_size": (48, 8),
    "st_atime": (56, 8), "st_atime_nsec": (64, 8), "st_mtime": (72, 8),
    "st_mtime_nsec": (80, 8), "st_ctime": (88, 8), "st_ctime_nsec": (96, 8),
    "st_blksize": (104, 8), "st_blocks": (112, 8),
}


def _moved(table, moves: dict[str, int], drop: tuple[str, ...] = ()):
    return tuple((moves.get(name, bits), name) for bits, name in table if name not in drop)


_PPC_OPEN = _moved(tables.OPEN_FLAGS, {"O_DIRECTORY": 0o40000, "O_NOFOLLOW": 0o100000,
                                        "O_LARGEFILE": 0o200000, "O_DIRECT": 0o400000})
_PPC_MMAP = _moved(tables.MMAP_FLAGS, {"MAP_NORESERVE": 0x40, "MAP_LOCKED": 0x80},
                   drop=("MAP_32BIT",))

_PPC_IOC = {"ioc_dir_shift": 29, "ioc_size_bits": 13,
            "ioc_dirs": ((1, "_IOC_NONE"), (2, "_IOC_READ"), (4, "_IOC_WRITE")),
            "socket_options": {**tables.SOCKET_OPTIONS, 16: "SO_RCVLOWAT", 17: "SO_SNDLOWAT",
                               18: "SO_RCVTIMEO_OLD", 19: "SO_SNDTIMEO_OLD", 20: "SO_PASSCRED",
                               21: "SO_PEERCRED"}}

X86_64 = Abi("x86_64", "little", 8, tables.OPEN_FLAGS, tables.MMAP_FLAGS, (0, 1, 2, 3, 4),
             _STAT_GENERIC, 144, epoll_packed=True)
PPC64LE = Abi("ppc64le", "little", 8, _PPC_OPEN, _PPC_MMAP, (0, 1, 2, 4, 3), _STAT_GENERIC, 144,
              **_PPC_IOC)
PPC64 = Abi("ppc64", "big", 8, _PPC_OPEN, _PPC_MMAP, (0, 1, 2, 4, 3), _STAT_GENERIC, 144,
            **_PPC_IOC)
S390X = Abi("s390x", "big", 8, tables.OPEN_FLAGS, _moved(tables.MMAP_FLAGS, {},
                                                         drop=("MAP_32BIT",)),
            (1, 0, 2, 3, 4), _STAT_S390X, 144)

ABIS = {abi.name: abi for abi in (X86_64, PPC64LE, PPC64, S390X)}


def abi_for(arch_name: str) -> Abi:
    """The ABI of an :class:`arch.base.Arch` by its ``name`` (``x86_64``, ``ppc64le``...)."""
    try:
        return ABIS[arch_name]
    except KeyError:
        raise KeyError(f"no decoding ABI for {arch_name!r} (known: {', '.join(ABIS)})") from None
