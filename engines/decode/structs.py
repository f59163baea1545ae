"""Structures as strace prints them, decoded from the bytes the tracee holds.

Each function takes the bytes (already read) and the :class:`~.abi.Abi`;
none reads memory, so each is unit-tested with real bytes.
"""

from __future__ import annotations

import ipaddress
import struct
import time

from . import tables, terminal
from .abi import Abi
from .tables import signal_name
from .text import flags, lookup, quote


# -- file modes and devices -----------------------------------------------------------
def file_mode(mode: int) -> str:
    """``S_IFREG|0644`` (the special bits by name, the permissions in octal)."""
    parts = []
    kind = tables.S_IFMT.get(mode & 0o170000)
    if kind:
        parts.append(kind)
    for bit, name in ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX")):
        if mode & bit:
            parts.append(name)
    parts.append(octal(mode & 0o777))
    return "|".join(parts)


def octal(value: int) -> str:
    """C's ``%#03o``: ``0644``, ``000``, ``022``."""
    text = f"0{value:o}" if value else "0"
    return text.rjust(3, "0")


def makedev(dev: int) -> str:
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)
    minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
    return f"makedev({_chex(major)}, {_chex(minor)})"


def _chex(value: int) -> str:
    return f"{value:#x}" if value else "0"


def time_comment(seconds: int, nsec: int) -> str:
    """``1700000000 /* 2023-11-14T22:13:20.123456789+0000 */`` (local time, as strace)."""
    when = time.localtime(seconds)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", when)
    if nsec:
        text += f".{nsec:09d}"
    return f"{seconds} /* {text}{time.strftime('%z', when)} */"


def stat(data: bytes, abi: Abi, verbose: bool = False) -> str:
    fields = abi.stat_fields
    mode = abi.word(data, *fields["st_mode"])
    is_device = mode & 0o170000 in (0o20000, 0o60000)
    if not verbose:
        more = (f"st_rdev={makedev(abi.word(data, *fields['st_rdev']))}" if is_device
                else f"st_size={abi.word(data, *fields['st_size'])}")
        return f"{{st_mode={file_mode(mode)}, {more}, ...}}"
    f = {name: abi.word(data, off, size) for name, (off, size) in fields.items()}
    shown = [f"st_dev={makedev(f['st_dev'])}", f"st_ino={f['st_ino']}",
             f"st_mode={file_mode(mode)}", f"st_nlink={f['st_nlink']}", f"st_uid={f['st_uid']}",
             f"st_gid={f['st_gid']}", f"st_blksize={f['st_blksize']}",
             f"st_blocks={f['st_blocks']}"]
    shown.append(f"st_rdev={makedev(f['st_rdev'])}" if is_device else f"st_size={f['st_size']}")
    for t in ("st_atime", "st_mtime", "st_ctime"):
        shown += [f"{t}={time_comment(f[t], f[t + '_nsec'])}", f"{t}_nsec={f[t + '_nsec']}"]
    return "{" + ", ".join(shown) + "}"


STATX_SIZE = 256
_STATX_ATTRS = ((0x4, "STATX_ATTR_COMPRESSED"), (0x10, "STATX_ATTR_IMMUTABLE"),
                (0x20, "STATX_ATTR_APPEND"), (0x40, "STATX_ATTR_NODUMP"),
                (0x800, "STATX_ATTR_ENCRYPTED"), (0x1000, "STATX_ATTR_AUTOMOUNT"),
                (0x2000, "STATX_ATTR_MOUNT_ROOT"), (0x100000, "STATX_ATTR_VERITY"),
                (0x200000, "STATX_ATTR_DAX"))


def statx(data: bytes, abi: Abi, verbose: bool = False) -> str:
    """struct statx (include/uapi/linux/stat.h): the same layout on every arch."""
    w = abi.word
    mask, attrs, mode = w(data, 0, 4), w(data, 8, 8), w(data, 28, 2)
    if not verbose:
        return (f"{{stx_mask={flags(mask, tables.STATX_MASK)}, "
                f"stx_attributes={flags(attrs, _STATX_ATTRS)}, stx_mode={file_mode(mode)}, "
                f"stx_size={w(data, 40, 8)}, ...}}")
    shown = [f"stx_mask={flags(mask, tables.STATX_MASK)}", f"stx_blksize={w(data, 4, 4)}",
             f"stx_attributes={flags(attrs, _STATX_ATTRS)}", f"stx_nlink={w(data, 16, 4)}",
             f"stx_uid={w(data, 20, 4)}", f"stx_gid={w(data, 24, 4)}",
             f"stx_mode={file_mode(mode)}", f"stx_ino={w(data, 32, 8)}",
             f"stx_size={w(data, 40, 8)}", f"stx_blocks={w(data, 48, 8)}",
             f"stx_attributes_mask={flags(w(data, 56, 8), _STATX_ATTRS)}"]
    times = [("stx_atime", 64)] + ([("stx_btime", 80)] if mask & 0x800 else []) + [
        ("stx_ctime", 96), ("stx_mtime", 112)]
    for name, off in times:
        sec, nsec = w(data, off, 8, signed=True), w(data, off + 8, 4)
        shown.append(f"{name}={{tv_sec={sec}, tv_nsec={nsec}}}"
                     f"{time_comment(sec, nsec)[len(str(sec)):]}")
    shown += [f"stx_rdev_major={w(data, 128, 4)}", f"stx_rdev_minor={w(data, 132, 4)}",
              f"stx_dev_major={w(data, 136, 4)}", f"stx_dev_minor={w(data, 140, 4)}"]
    if mask & 0x1000:
        shown.append(f"stx_mnt_id={_chex(w(data, 144, 8))}")
    if mask & 0x2000:
        shown += [f"stx_dio_mem_align={w(data, 152, 4)}", f"stx_dio_offset_align={w(data, 156, 4)}"]
    return "{" + ", ".join(shown) + "}"


# -- time ------------------------------------------------------------------------
def timespec(data: bytes, abi: Abi) -> str:
    return f"{{tv_sec={abi.word(data, 0, signed=True)}, tv_nsec={abi.word(data, 8, signed=True)}}}"


def timeval(data: bytes, abi: Abi) -> str:
    return f"{{tv_sec={abi.word(data, 0, signed=True)}, tv_usec={abi.word(data, 8, signed=True)}}}"


# -- signals -----------------------------------------------------------------------
def sigset(data: bytes, abi: Abi) -> str:
    """``[CHLD USR1]``, or ``~[...]`` of the signals *not* in it when most are."""
    nsig = 8 * len(data)
    bits = abi.word(data, 0, len(data)) if abi.byteorder == "little" else _words_le(data, abi)
    members = [sig for sig in range(1, nsig + 1) if bits >> (sig - 1) & 1]
    if len(members) * 2 > nsig:
        members = [sig for sig in range(1, nsig + 1) if not bits >> (sig - 1) & 1]
        return "~[" + " ".join(tables.set_member_name(s) for s in members) + "]"
    return "[" + " ".join(tables.set_member_name(s) for s in members) + "]"


def _words_le(data: bytes, abi: Abi) -> int:
    """A big-endian sigset is an array of longs: signal 1 is bit 0 of the first long."""
    value = 0
    for i in range(0, len(data), abi.word_size):
        value |= abi.word(data, i) << (8 * i)
    return value


SIGACTION_SIZE = 32  # kernel struct sigaction with an 8-byte sigset: handler flags restorer mask


def sigaction(data: bytes, abi: Abi) -> str:
    handler, sa_flags, restorer = abi.word(data, 0), abi.word(data, 8), abi.word(data, 16)
    shown = [f"sa_handler={tables.SIG_HANDLERS.get(handler) or f'{handler:#x}'}",
             f"sa_mask={sigset(data[24:32], abi)}", f"sa_flags={flags(sa_flags, tables.SA_FLAGS)}"]
    if sa_flags & tables.SA_RESTORER:
        shown.append(f"sa_restorer={restorer:#x}")
    return "{" + ", ".join(shown) + "}"


def wait_status(status: int) -> str:
    """``[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`` (the brackets: it was read through a pointer)."""
    sig = status & 0x7F
    if sig == 0:
        text = f"WIFEXITED(s) && WEXITSTATUS(s) == {(status >> 8) & 0xFF}"
    elif sig == 0x7F:
        text = f"WIFSTOPPED(s) && WSTOPSIG(s) == {signal_name((status >> 8) & 0xFF)}"
        if status >> 16:
            text += f" && status>>16 == {status >> 16:#x}"  # a PTRACE_EVENT stop
    elif status == 0xFFFF:
        text = "WIFCONTINUED(s)"
    else:
        text = f"WIFSIGNALED(s) && WTERMSIG(s) == {signal_name(sig)}"
        if status & 0x80:
            text += " && WCOREDUMP(s)"
    return f"[{{{text}}}]"


# -- resources ---------------------------------------------------------------------------
RLIM_INFINITY = (1 << 64) - 1


def rlim_value(value: int) -> str:
    if value == RLIM_INFINITY:
        return "RLIM64_INFINITY"
    if value and value % 1024 == 0:
        return f"{value // 1024}*1024"
    return str(value)


def rlimit(data: bytes, abi: Abi) -> str:
    return (f"{{rlim_cur={rlim_value(abi.word(data, 0, 8))}, "
            f"rlim_max={rlim_value(abi.word(data, 8, 8))}}}")


UTSNAME_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")


def utsname(data: bytes, verbose: bool = False) -> str:
    fields = [data[i * 65:(i + 1) * 65].split(b"\0", 1)[0] for i in range(6)]
    shown = [f"{name}={quote(value)}" for name, value in zip(UTSNAME_FIELDS, fields, strict=True)]
    if not verbose:
        return "{" + ", ".join(shown[:2]) + ", ...}"
    return "{" + ", ".join(shown) + "}"


SYSINFO_SIZE = 112


def sysinfo(data: bytes, abi: Abi) -> str:
    w = abi.word
    loads = ", ".join(str(w(data, 8 + 8 * i)) for i in range(3))
    names = ("totalram", "freeram", "sharedram", "bufferram", "totalswap", "freeswap")
    shown = [f"uptime={w(data, 0, signed=True)}", f"loads=[{loads}]"]
    shown += [f"{n}={w(data, 32 + 8 * i)}" for i, n in enumerate(names)]
    shown += [f"procs={w(data, 80, 2)}", f"totalhigh={w(data, 88)}", f"freehigh={w(data, 96)}",
              f"mem_unit={w(data, 104, 4)}"]
    return "{" + ", ".join(shown) + "}"


# -- sockets -------------------------------------------------------------------------
def sockaddr(data: bytes, abi: Abi) -> str:
    """``{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}``."""
    if len(data) < 2:
        return "{}"
    family = int.from_bytes(data[:2], abi.byteorder)
    head = f"sa_family={lookup(family, tables.ADDRESS_FAMILIES, '{}')}"
    if len(data) <= 2:  # the family alone (an unbound AF_UNIX socket's name): strace stops
        return f"{{{head}}}"
    if family == 1:  # AF_UNIX: the path may be abstract (a leading NUL)
        path = data[2:]
        if path[:1] == b"\0":
            return f"{{{head}, sun_path=@{quote(_cstring(path[1:]))}}}"
        return f"{{{head}, sun_path={quote(_cstring(path))}}}"
    if family == 2 and len(data) >= 8:
        port = struct.unpack_from("!H", data, 2)[0]
        addr = ipaddress.IPv4Address(data[4:8])
        return f'{{{head}, sin_port=htons({port}), sin_addr=inet_addr("{addr}")}}'
    if family == 10 and len(data) >= 24:
        port, flow = struct.unpack_from("!HI", data, 2)
        addr = ipaddress.IPv6Address(data[8:24])
        scope = int.from_bytes(data[24:28], abi.byteorder) if len(data) >= 28 else 0
        return (f"{{{head}, sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), "
                f'inet_pton(AF_INET6, "{addr}", &sin6_addr), sin6_scope_id={scope}}}')
    if family == 16 and len(data) >= 12:  # AF_NETLINK: sockaddr_nl's pid and groups
        return (f"{{{head}, nl_pid={abi.word(data, 4, 4)}, "
                f"nl_groups={abi.word(data, 8, 4):08x}}}")
    rest = data[2:]
    return f"{{{head}, sa_data={quote(rest)}}}"


def _cstring(data: bytes) -> bytes:
    return data.split(b"\0", 1)[0]


POLL_EVENTS = ((0x1, "POLLIN"), (0x2, "POLLPRI"), (0x4, "POLLOUT"), (0x8, "POLLERR"),
               (0x10, "POLLHUP"), (0x20, "POLLNVAL"), (0x40, "POLLRDNORM"), (0x80, "POLLRDBAND"),
               (0x100, "POLLWRNORM"), (0x200, "POLLWRBAND"), (0x400, "POLLMSG"),
               (0x2000, "POLLRDHUP"))


def pollfds(data: bytes, abi: Abi, field: str = "events") -> list[tuple[int, str]]:
    """Each ``struct pollfd`` as (fd, events or revents text)."""
    out = []
    for off in range(0, len(data) - 7, 8):
        fd = abi.word(data, off, 4, signed=True)
        value = abi.word(data, off + (4 if field == "events" else 6), 2)
        out.append((fd, flags(value, POLL_EVENTS)))
    return out


def winsize(data: bytes, abi: Abi) -> str:
    row, col, x, y = (abi.word(data, i, 2) for i in (0, 2, 4, 6))
    return f"{{ws_row={row}, ws_col={col}, ws_xpixel={x}, ws_ypixel={y}}}"


DIRENT_TYPES = {0: "DT_UNKNOWN", 1: "DT_FIFO", 2: "DT_CHR", 4: "DT_DIR", 6: "DT_BLK",
                8: "DT_REG", 10: "DT_LNK", 12: "DT_SOCK", 14: "DT_WHT"}


def dirents64(data: bytes, abi: Abi) -> str:
    """``-v``: each ``linux_dirent64`` the kernel wrote."""
    shown = []
    off = 0
    while off + 19 <= len(data):
        reclen = abi.word(data, off + 16, 2)
        if reclen == 0:
            break
        name = _cstring(data[off + 19:off + reclen])
        shown.append(f"{{d_ino={abi.word(data, off, 8)}, d_off={abi.word(data, off + 8, 8)}, "
                     f"d_reclen={reclen}, d_type={lookup(data[off + 18], DIRENT_TYPES, '{}')}, "
                     f"d_name={quote(name)}}}")
        off += reclen
    return "[" + ", ".join(shown) + "]"


def dirent64_count(data: bytes, abi: Abi) -> int:
    """How many ``linux_dirent64`` records the kernel wrote (strace's ``/* N entries */``)."""
    count = off = 0
    while off + 19 <= len(data):
        reclen = abi.word(data, off + 16, 2)
        if reclen == 0:
            break
        count += 1
        off += reclen
    return count


# -- terminals: engines/decode/terminal.py (powerpc has its own termbits) ----------------
TERMIOS_SIZE = terminal.GENERIC.termios_size  # the kernel's struct termios (asm-generic)


def termios(data: bytes, abi: Abi, verbose: bool = False) -> str:
    """``{c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|...|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, ...}``."""
    return terminal.termios(data, abi, verbose)


STATFS_SIZE = 120  # struct statfs of asm-generic/statfs.h with 64-bit words (x86_64, powerpc)


def statfs(data: bytes, abi: Abi) -> str:
    w = abi.word
    names = ("f_bsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree")
    shown = [f"f_type={lookup(w(data, 0), tables.FS_MAGIC)}"]
    shown += [f"{n}={w(data, 8 + 8 * k)}" for k, n in enumerate(names)]
    shown += [f"f_fsid={{val=[{_chex(w(data, 56, 4))}, {_chex(w(data, 60, 4))}]}}",
              f"f_namelen={w(data, 64)}", f"f_frsize={w(data, 72)}",
              f"f_flags={flags(w(data, 80), tables.STATFS_FLAGS)}"]
    return "{" + ", ".join(shown) + "}"


# -- readiness: fd sets, epoll events ------------------------------------------------------
def fd_set_members(data: bytes, abi: Abi, nfds: int) -> list[int]:
    """The fds in an ``fd_set`` below ``nfds``: an array of longs, fd N bit N % 64 of long
    N // 64 (so the bytes of a big-endian set are not in fd order)."""
    bits_per_word = 8 * abi.word_size
    members = []
    for start in range(0, min(nfds, 8 * len(data)), bits_per_word):
        word = abi.word(data, start // 8)
        while word:
            low = word & -word
            fd = start + low.bit_length() - 1
            if fd >= nfds:
                break
            members.append(fd)
            word ^= low
    return members


def fd_set_size(nfds: int, abi: Abi) -> int:
    """The bytes of an fd_set that cover ``nfds`` fds, whole longs (as the kernel reads it)."""
    return ((nfds + 7) // 8 + abi.word_size - 1) & -abi.word_size


EPOLL_EVENTS = ((0x1, "EPOLLIN"), (0x2, "EPOLLPRI"), (0x4, "EPOLLOUT"), (0x8, "EPOLLERR"),
                (0x10, "EPOLLHUP"), (0x20, "EPOLLNVAL"), (0x40, "EPOLLRDNORM"),
                (0x80, "EPOLLRDBAND"), (0x100, "EPOLLWRNORM"), (0x200, "EPOLLWRBAND"),
                (0x400, "EPOLLMSG"), (0x2000, "EPOLLRDHUP"), (0x10000000, "EPOLLEXCLUSIVE"),
                (0x20000000, "EPOLLWAKEUP"), (0x40000000, "EPOLLONESHOT"),
                (0x80000000, "EPOLLET"))


def epoll_event_size(abi: Abi) -> int:
    return 12 if abi.epoll_packed else 16


def epoll_event(data: bytes, abi: Abi) -> str:
    """``{events=EPOLLIN, data={u32=3, u64=3}}`` (strace shows the union both ways)."""
    data_at = 4 if abi.epoll_packed else 8
    u64 = abi.word(data, data_at, 8)
    u32 = abi.word(data, data_at, 4)  # the union's first bytes: u64's high half if big-endian
    return (f"{{events={flags(abi.word(data, 0, 4), EPOLL_EVENTS)}, "
            f"data={{u32={u32}, u64={u64}}}}}")


# -- waiting: resource usage --------------------------------------------------------------
RUSAGE_SIZE = 144  # struct rusage on 64-bit Linux: two timevals, then 14 longs
_RUSAGE_LONGS = ("ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt", "ru_majflt",
                 "ru_nswap", "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv",
                 "ru_nsignals", "ru_nvcsw", "ru_nivcsw")


def rusage(data: bytes, abi: Abi, verbose: bool = False) -> str:
    """``{ru_utime={tv_sec=0, tv_usec=118}, ru_stime={...}, ...}``; every field with -v."""
    shown = [f"ru_utime={timeval(data[0:16], abi)}", f"ru_stime={timeval(data[16:32], abi)}"]
    if not verbose:
        return "{" + ", ".join(shown) + ", ...}"
    shown += [f"{name}={abi.word(data, 32 + 8 * k)}" for k, name in enumerate(_RUSAGE_LONGS)]
    return "{" + ", ".join(shown) + "}"


# -- ioctl numbers ---------------------------------------------------------------------
def ioctl_code(code: int, abi: Abi) -> str:
    """An ioctl number strace has no name for: ``_IOC(_IOC_READ, 0x78, 0x1, 0x4)``."""
    size = (code >> 16) & ((1 << abi.ioc_size_bits) - 1)
    direction = code >> abi.ioc_dir_shift
    if direction == 0 and abi.ioc_dirs[0][0] == 0:
        dir_text = abi.ioc_dirs[0][1]
    else:
        dir_text = flags(direction, tuple(d for d in abi.ioc_dirs if d[0]))
    return f"_IOC({dir_text}, {_chex((code >> 8) & 0xFF)}, {_chex(code & 0xFF)}, {_chex(size)})"
