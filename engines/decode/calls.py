"""One system call as strace prints it: its arguments at entry, the rest at exit.

strace prints a call's input arguments when the call starts and the ones
the kernel fills (read's buffer, stat's structure) when it returns; with
``-f`` another process's line may come between, hence ``<unfinished ...>``.
So each call's arguments are a list of :data:`Arg`: a renderer and whether
it waits for the exit.  Everything before the first exit argument is shown
at entry (:func:`decode_entry`), the rest at exit (:func:`decode_exit`).
"""

from __future__ import annotations

import errno as errno_names
import os
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

from ..trace_options import TraceOptions
from . import ioctls, multiplexed, netlink, structs, tables, terminal
from .abi import Abi
from .memory import Memory
from .prototypes import argument_kinds
from .signals import siginfo
from .tables import signal_name
from .text import address, flags, lookup, quote, signed

PATH_MAX = 4096
DEFAULT_OPTIONS = TraceOptions()
FdPath = Callable[[int], "str | None"]


class Context:
    """What renderers may look at: the call, its memory, the options, and at exit the result."""

    __slots__ = ("abi", "name", "args", "mem", "options", "sp", "fd_path", "rval", "error",
                 "exiting", "socklen_in", "carried", "saved")

    def __init__(self, abi: Abi, name: str, args: tuple[int, ...], mem: Memory,
                 options: TraceOptions, sp: int = 0, fd_path: FdPath | None = None):
        self.abi, self.name, self.args, self.mem = abi, name, tuple(args) + (0,) * 6, mem
        self.options, self.sp, self.fd_path = options, sp, fd_path
        self.rval: int = 0
        self.error: int | None = None
        self.exiting = False
        self.socklen_in: int | None = None  # accept/getsockname: the length passed in
        self.carried: multiplexed.Carried | None = None  # the socketcall/ipc/old mmap it came in
        self.saved: tuple | None = None  # what a call's entry keeps for its exit (recvmmsg)

    @property
    def limit(self) -> int:
        return self.options.string_limit

    def read(self, addr: int, size: int) -> bytes | None:
        """``size`` bytes at ``addr``, or None where strace would print the address."""
        if not addr:
            return None
        try:
            data = self.mem.read(addr, size)
        except OSError:
            return None
        return data if len(data) == size else None


class Arg(NamedTuple):
    render: Callable[[Context], str]
    at_exit: bool = False
    glue: bool = False  # follows the previous argument without ", " (clone3's " => {...}")


# -- renderers ---------------------------------------------------------------------
def num(i: int) -> Arg:
    """An ``int``: signed, 32 bits."""
    return Arg(lambda c: str(signed(c.args[i], 32)))


def slong(i: int) -> Arg:
    return Arg(lambda c: str(signed(c.args[i], 64)))


def unum(i: int) -> Arg:
    return Arg(lambda c: str(c.args[i]))


def uint(i: int) -> Arg:
    return Arg(lambda c: str(c.args[i] & 0xFFFFFFFF))


def chex(value: int) -> str:
    """C's ``%#x``: ``0x1f``, but ``0`` for zero."""
    return f"{value:#x}" if value else "0"


def hexn(i: int) -> Arg:
    return Arg(lambda c: chex(c.args[i]))


def const(text: str) -> Arg:
    return Arg(lambda _c: text)


def ptr(i: int) -> Arg:
    return Arg(lambda c: address(c.args[i]))


def fd_text(c: Context, value: int) -> str:
    fd = signed(value, 32)
    if c.options.fd_paths and fd >= 0 and c.fd_path is not None:
        path = c.fd_path(fd)
        if path is not None:
            return f"{fd}<{path}>"
    return str(fd)


def fd(i: int) -> Arg:
    return Arg(lambda c: fd_text(c, c.args[i]))


def dirfd_text(c: Context, value: int) -> str:
    if signed(value, 32) != tables.AT_FDCWD:
        return fd_text(c, value)
    cwd = c.fd_path(tables.AT_FDCWD) if c.options.fd_paths and c.fd_path else None
    return "AT_FDCWD" if cwd is None else f"AT_FDCWD<{cwd}>"


def dirfd(i: int) -> Arg:
    """A directory fd of the *at calls: ``AT_FDCWD`` (with ``-y``: ``AT_FDCWD</cwd>``)."""
    return Arg(lambda c: dirfd_text(c, c.args[i]))


def octal(i: int) -> Arg:
    return Arg(lambda c: structs.octal(c.args[i] & 0o7777))


def named(i: int, table: dict[int, str], unknown: str = "{:#x}", bits: int = 32) -> Arg:
    return Arg(lambda c: lookup(c.args[i] & ((1 << bits) - 1), table, unknown))


def flagset(i: int, table, zero: str = "0", bits: int = 32) -> Arg:
    return Arg(lambda c: flags(c.args[i] & ((1 << bits) - 1), table, zero))


def sig(i: int) -> Arg:
    return Arg(lambda c: signal_name(c.args[i] & 0xFFFFFFFF) if c.args[i] & 0xFFFFFFFF
               else "0")


def exit_arg(arg: Arg, i: int | None = None) -> Arg:
    """``arg`` shown at exit; an output pointer of a failed call is shown as its address."""
    if i is None:
        return Arg(arg.render, True)
    return Arg(lambda c: address(c.args[i]) if c.error is not None else arg.render(c), True)


def string_at(c: Context, addr: int) -> str:
    """A NUL-terminated string cut at ``-s``."""
    if not addr:
        return "NULL"
    try:
        data, complete = c.mem.read_string(addr, c.limit + 1)
    except OSError:
        return address(addr)
    more = not complete or len(data) > c.limit
    shown = data[:c.limit]
    return quote(shown, c.options.hex_strings, lookahead=data[c.limit:c.limit + 1]) + (
        "..." if more else "")


def path_at(c: Context, addr: int) -> str:
    """A path: shown whole (strace cuts paths at PATH_MAX, not at ``-s``)."""
    if not addr:
        return "NULL"
    try:
        data, complete = c.mem.read_string(addr, PATH_MAX)
    except OSError:
        return address(addr)
    return quote(data, c.options.hex_strings) + ("" if complete else "...")


def buffer_at(c: Context, addr: int, size: int, force_hex: bool = False) -> str:
    """``size`` bytes at ``addr``, cut at ``-s`` (``"..."...`` when cut)."""
    if not addr:
        return "NULL"
    fetch = min(size, c.limit + 1)
    try:
        data = c.mem.read(addr, fetch)
    except OSError:
        return address(addr)
    if len(data) < fetch:
        return address(addr)
    shown = data[:c.limit]
    return quote(shown, c.options.hex_strings, force_hex,
                 lookahead=data[c.limit:c.limit + 1]) + ("..." if size > c.limit else "")


def path(i: int) -> Arg:
    return Arg(lambda c: path_at(c, c.args[i]))


def string(i: int) -> Arg:
    return Arg(lambda c: string_at(c, c.args[i]))


def buf_in(i: int, count: int) -> Arg:
    return Arg(lambda c: buffer_at(c, c.args[i], c.args[count]))


def netlink_protocol(c: Context, fd: int) -> int | None:
    """The netlink protocol of the socket ``fd`` (-1: unknown, it is not bound yet), or
    None if it is no netlink socket (or the memory cannot tell: the unit tests')."""
    lookup = getattr(c.mem, "netlink_protocol", None)
    return None if lookup is None else lookup(fd)


def socket_buffer(c: Context, addr: int, size: int) -> str:
    """A socket's buffer (fd is argument 0): netlink messages on a netlink socket, as
    strace's decode_sockbuf; otherwise the bytes."""
    protocol = netlink_protocol(c, c.args[0])
    if protocol is None or not addr:
        return buffer_at(c, addr, size)
    return netlink_at(c, addr, size, protocol)


def netlink_at(c: Context, addr: int, size: int, protocol: int) -> str:
    data = c.read(addr, size) if size else b""
    if data is None:
        return address(addr)
    shown = netlink.Shown(c.limit, c.options.verbose, c.options.hex_strings, c.abi.byteorder)
    return netlink.messages(data, None if protocol < 0 else protocol, shown)


def sock_in(i: int, count: int) -> Arg:
    return Arg(lambda c: socket_buffer(c, c.args[i], c.args[count]))


def sock_out(i: int) -> Arg:
    """A received buffer: what the kernel wrote (MSG_TRUNC's result may be more)."""
    return exit_arg(Arg(lambda c: socket_buffer(c, c.args[i], min(c.rval, c.args[2]))), i)


def buf_out(i: int, force_hex: bool = False) -> Arg:
    """An output buffer: the bytes the kernel wrote (the result says how many)."""
    return exit_arg(Arg(lambda c: buffer_at(c, c.args[i], c.rval, force_hex)), i)


def struct_in(i: int, size: int, fmt: Callable[[bytes, Context], str]) -> Arg:
    def render(c: Context) -> str:
        data = c.read(c.args[i], size)
        return address(c.args[i]) if data is None else fmt(data, c)
    return Arg(render)


def struct_out(i: int, size: int, fmt: Callable[[bytes, Context], str]) -> Arg:
    return exit_arg(struct_in(i, size, fmt), i)


# -- specific arguments ---------------------------------------------------------------
def open_flags(c: Context, value: int) -> str:
    value &= 0xFFFFFFFF
    mode = tables.ACCESS_MODES[value & 3]
    rest = flags(value & ~3, c.abi.open_flags, "")
    return f"{mode}|{rest}" if rest else mode


def open_flag_arg(i: int) -> Arg:
    return Arg(lambda c: open_flags(c, c.args[i]))


def _creates(c: Context, flag_index: int) -> bool:
    value = c.args[flag_index]
    return bool(value & tables.O_CREAT) or value & 0o20200000 == 0o20200000


def mmap_flags(c: Context) -> str:
    value = c.args[3] & 0xFFFFFFFF
    kind = tables.MAP_TYPES.get(value & 0xF, f"{value & 0xF:#x}")
    rest = flags(value & ~0xF, c.abi.mmap_flags, "")
    return f"{kind}|{rest}" if rest else kind


def clone_flags(value: int) -> str:
    text = flags(value & ~0xFF, tables.CLONE_FLAGS, "")
    sigtext = signal_name(value & 0xFF) if value & 0xFF else ""
    return "|".join(p for p in (text, sigtext) if p) or "0"


def sigset_arg(i: int, size_index: int, at_exit: bool = False) -> Arg:
    def render(c: Context) -> str:
        size = c.args[size_index]
        if not 0 < size <= 128:
            return address(c.args[i])
        data = c.read(c.args[i], size)
        return address(c.args[i]) if data is None else structs.sigset(data, c.abi)
    arg = Arg(render)
    return exit_arg(arg, i) if at_exit else arg


def sigaction_arg(i: int, at_exit: bool = False) -> Arg:
    arg = struct_in(i, structs.SIGACTION_SIZE, lambda d, c: structs.sigaction(d, c.abi))
    return exit_arg(arg, i) if at_exit else arg


def fd_pair_out(i: int) -> Arg:
    """pipe's ``[3, 4]``: two fds the kernel wrote."""
    def render(c: Context) -> str:
        data = c.read(c.args[i], 8)
        if data is None:
            return address(c.args[i])
        return "[" + ", ".join(fd_text(c, c.abi.word(data, 4 * k, 4)) for k in range(2)) + "]"
    return exit_arg(Arg(render), i)


def timespec_arg(i: int) -> Arg:
    return struct_in(i, 16, lambda d, c: structs.timespec(d, c.abi))


def rlimit_arg(i: int, at_exit: bool = False) -> Arg:
    arg = struct_in(i, 16, lambda d, c: structs.rlimit(d, c.abi))
    return exit_arg(arg, i) if at_exit else arg


def sockaddr_arg(i: int, len_index: int) -> Arg:
    def render(c: Context) -> str:
        size = min(c.args[len_index], 128)
        data = c.read(c.args[i], size) if size else None
        return address(c.args[i]) if data is None else structs.sockaddr(data, c.abi)
    return Arg(render)


def socklen_arg(i: int) -> Arg:
    """``[16]``, or ``[128 => 16]`` when the kernel changed the length."""
    def render(c: Context) -> str:
        data = c.read(c.args[i], 4)
        if data is None:
            return address(c.args[i])
        after = c.abi.word(data, 0, 4)
        before = c.socklen_in if c.socklen_in is not None else after
        return f"[{after}]" if before == after or c.error is not None else \
            f"[{before} => {after}]"
    return Arg(render, True)


def sockaddr_out(i: int, len_index: int) -> Arg:
    def render(c: Context) -> str:
        if c.error is not None or not c.args[i]:
            return address(c.args[i])
        size = c.read(c.args[len_index], 4)
        data = c.read(c.args[i], min(c.abi.word(size, 0, 4), 128)) if size else None
        return address(c.args[i]) if data is None else structs.sockaddr(data, c.abi)
    return Arg(render, True)


def _remember_socklen(i: int) -> Arg:
    """Nothing shown: the length the caller passed in, for ``[in => out]`` at exit."""
    def render(c: Context) -> str:
        data = c.read(c.args[i], 4)
        c.socklen_in = c.abi.word(data, 0, 4) if data else None
        return ""
    return Arg(render, glue=True)


def _sockname(c: Context) -> list[Arg]:
    return [fd(0), _remember_socklen(2), sockaddr_out(1, 2), socklen_arg(2)]


#: SOL_SOCKET options whose value is a structure: its fields (ints), as strace names them.
_SOCKOPT_STRUCTS = {"SO_LINGER": ("l_onoff", "l_linger"), "SO_PEERCRED": ("pid", "uid", "gid")}


def _sockopt_struct(c: Context, name: str, length: int) -> str:
    """``{pid=1, uid=0, gid=0}``: the fields that fit in the length (strace's
    MAYBE_PRINT_FIELD_LEN)."""
    data = c.read(c.args[3], length)
    if data is None:
        return address(c.args[3])
    fields = _SOCKOPT_STRUCTS[name][:length // 4]
    shown = [f"{field}={c.abi.word(data, 4 * k, 4, signed=field not in ('uid', 'gid'))}"
             for k, field in enumerate(fields)]
    return "{" + ", ".join(shown) + "}"


def _sockopt(c: Context, get: bool) -> list[Arg]:
    level = c.args[1] & 0xFFFFFFFF
    names = {0: tables.IP_OPTIONS, 1: c.abi.socket_options, 6: tables.TCP_OPTIONS,
             41: tables.IPV6_OPTIONS, 270: netlink.SOCKET_OPTIONS}.get(level, {})
    name = names.get(c.args[2] & 0xFFFFFFFF) if level == 1 else None  # SOL_SOCKET's by name

    def value(cc: Context) -> str:
        if cc.error is not None:
            return address(cc.args[3])
        size = cc.read(cc.args[4], 4) if get else None
        length = cc.abi.word(size, 0, 4) if get and size else cc.args[4]
        if name in _SOCKOPT_STRUCTS and (get or name == "SO_LINGER"):
            if 0 < length < 0x10000 and (get or length >= 8):  # a set linger: whole or none
                return _sockopt_struct(cc, name, min(length, 12))
        data = cc.read(cc.args[3], 4) if length == 4 else None
        if data is None:
            return address(cc.args[3])
        number = cc.abi.word(data, 0, 4, signed=True)
        if name == "SO_ERROR":  # an errno
            return f"[{errno_names.errorcode.get(number, number) if number else 0}]"
        return f"[{number}]"

    head = [fd(0), named(1, tables.SOCKET_LEVELS, "{}"), named(2, names, "{}")]
    if get:
        return head + [_remember_socklen(4), Arg(value, True), socklen_arg(4)]
    return head + [Arg(value), uint(4)]


def _getgroups(c: Context) -> list[Arg]:
    def groups(cc: Context) -> str:
        count = min(cc.rval, cc.args[0] & 0xFFFFFFFF)
        if cc.error is not None or not cc.args[1] or (count <= 0 and cc.rval):
            return address(cc.args[1])
        data = cc.read(cc.args[1], 4 * count) if count else b""
        if data is None:
            return address(cc.args[1])
        return "[" + ", ".join(str(cc.abi.word(data, 4 * k, 4)) for k in range(count)) + "]"
    return [num(0), Arg(groups, True)]


def _int_in(i: int) -> Arg:
    def render(c: Context) -> str:
        data = c.read(c.args[i], 4)
        return address(c.args[i]) if data is None else f"[{c.abi.word(data, 0, 4, signed=True)}]"
    return Arg(render)


def strings_array(c: Context, addr: int) -> str:
    """execve's argv: ``["ls", "-la"]``, cut at ``-s`` elements unless ``-v`` (as strace)."""
    if not addr:
        return "NULL"
    items = []
    word = c.abi.word_size
    for k in range(1 << 16):
        data = c.read(addr + k * word, word)
        if data is None:
            return address(addr) if not items else "[" + ", ".join(items) + ", ...]"
        pointer = c.abi.word(data)
        if pointer == 0:
            break
        if k >= c.limit and not c.options.verbose:  # -v shows the whole array
            items.append("...")
            break
        items.append(string_at(c, pointer))
    return "[" + ", ".join(items) + "]"


def array_count(c: Context, addr: int) -> int | None:
    word = c.abi.word_size
    for k in range(1 << 16):
        data = c.read(addr + k * word, word)
        if data is None:
            return None
        if c.abi.word(data) == 0:
            return k
    return None


def envp_arg(i: int) -> Arg:
    """execve's envp: the address and a count, or the strings with ``-v``."""
    def render(c: Context) -> str:
        addr = c.args[i]
        if c.options.verbose or not addr:
            return strings_array(c, addr)
        count = array_count(c, addr)
        if count is None:
            return address(addr)
        return f"{addr:#x} /* {count} var{'s' if count != 1 else ''} */"
    return Arg(render)


def iovec_arg(i: int, count_index: int, at_exit: bool = False) -> Arg:
    """``[{iov_base="...", iov_len=5}, ...]``; at exit only the bytes the call moved."""
    def render(c: Context) -> str:
        return iovecs_text(c, c.args[i], c.args[count_index], c.rval if at_exit else None)
    arg = Arg(render)
    return exit_arg(arg, i) if at_exit else arg


def iovecs_text(c: Context, addr: int, count: int, budget: int | None,
                netlink_of: int | None = None) -> str:
    """``[{iov_base="...", iov_len=5}, ...]``: each buffer shown up to what is left of
    ``budget`` (the bytes the call moved; None: all), at most ``-s`` elements."""
    count = min(count, 1024)
    data = c.read(addr, 16 * count)
    if data is None:
        return address(addr)
    items = []
    for k in range(count):
        if k >= c.limit:
            items.append("...")
            break
        base, size = c.abi.word(data, 16 * k), c.abi.word(data, 16 * k + 8)
        shown = size if budget is None else max(0, min(size, budget))
        if budget is not None:
            budget -= shown
        text = (buffer_at(c, base, shown) if netlink_of is None or not base
                else netlink_at(c, base, shown, netlink_of))
        items.append(f"{{iov_base={text}, iov_len={size}}}")
    return "[" + ", ".join(items) + "]"


def _sigmask_at(c: Context, addr: int) -> str:
    data = c.read(addr, 8)
    return address(addr) if data is None else structs.sigset(data, c.abi)


# -- per-call argument lists ----------------------------------------------------------
#: A call's arguments: a list when they do not depend on the call's values (worked
#: out once, :class:`Plan`), else a function of the call that makes the list.
Spec = list[Arg] | Callable[[Context], list[Arg]]


def _open(c: Context) -> list[Arg]:
    args = [path(0), open_flag_arg(1)]
    return args + [octal(2)] if _creates(c, 1) else args


def _openat(c: Context) -> list[Arg]:
    args = [dirfd(0), path(1), open_flag_arg(2)]
    return args + [octal(3)] if _creates(c, 2) else args


def _mmap(c: Context) -> list[Arg]:
    return [ptr(0), unum(1), flagset(2, tables.MMAP_PROT, "PROT_NONE"),
            Arg(mmap_flags), fd(4), hexn(5)]


def _clone(c: Context) -> list[Arg]:
    order = c.abi.clone_order
    flags_v, stack, parent_tid, child_tid, tls = (c.args[k] for k in order)
    shown = [f"child_stack={address(stack)}", f"flags={clone_flags(flags_v)}"]
    entry = [const(", ".join(shown))]
    later: list[str] = []
    if flags_v & 0x80000:
        later.append(f"tls={tls:#x}")
    if flags_v & 0x1200000:
        later.append(f"child_tidptr={child_tid:#x}")
    if flags_v & 0x100000:
        def parent(cc: Context) -> str:
            data = cc.read(parent_tid, 4)
            value = f"[{cc.abi.word(data, 0, 4, signed=True)}]" if data else address(parent_tid)
            return ", ".join([f"parent_tid={value}"] + later)
        return entry + [Arg(parent, True)]
    return entry + [const(", ".join(later))] if later else entry


CLONE_ARGS_SIZE = 88


def _clone3(c: Context) -> list[Arg]:
    def fields(cc: Context) -> tuple[dict[str, int], bytes] | None:
        data = cc.read(cc.args[0], min(cc.args[1], CLONE_ARGS_SIZE))
        if data is None or len(data) < 64:
            return None
        names = ("flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack",
                 "stack_size", "tls")
        return {n: cc.abi.word(data, 8 * k, 8) for k, n in enumerate(names)}, data

    def entry(cc: Context) -> str:
        got = fields(cc)
        if got is None:
            return address(cc.args[0])
        f, _ = got
        shown = [f"flags={flags(f['flags'], tables.CLONE_FLAGS)}"]
        if f["flags"] & 0x1000:
            shown.append(f"pidfd={f['pidfd']:#x}")
        if f["flags"] & 0x1200000:
            shown.append(f"child_tid={f['child_tid']:#x}")
        if f["flags"] & 0x100000:
            shown.append(f"parent_tid={f['parent_tid']:#x}")
        shown.append(f"exit_signal={signal_name(f['exit_signal']) if f['exit_signal'] else 0}")
        shown += [f"stack={address(f['stack'])}", f"stack_size={chex(f['stack_size'])}"]
        if f["flags"] & 0x80000:
            shown.append(f"tls={f['tls']:#x}")
        return "{" + ", ".join(shown) + "}"

    def after(cc: Context) -> str:
        got = fields(cc)
        if got is None or cc.error is not None:
            return ""
        f, _ = got
        shown = []
        if f["flags"] & 0x1000:
            data = cc.read(f["pidfd"], 4)
            if data:
                shown.append(f"pidfd=[{cc.abi.word(data, 0, 4, signed=True)}]")
        if f["flags"] & 0x100000:
            data = cc.read(f["parent_tid"], 4)
            if data:
                shown.append(f"parent_tid=[{cc.abi.word(data, 0, 4, signed=True)}]")
        return " => {" + ", ".join(shown) + "}" if shown else ""

    return [Arg(entry), Arg(after, True, glue=True), unum(1)]


def _futex(c: Context) -> list[Arg]:
    op = c.args[1] & 0xFFFFFFFF
    cmd = op & ~(tables.FUTEX_PRIVATE_FLAG | tables.FUTEX_CLOCK_REALTIME)
    name = tables.FUTEX_OPS.get(cmd)
    if name is None:
        op_text = f"{op:#x}"
    else:
        op_text = name + ("_PRIVATE" if op & tables.FUTEX_PRIVATE_FLAG else "")
        op_text += "|FUTEX_CLOCK_REALTIME" if op & tables.FUTEX_CLOCK_REALTIME else ""
    head = [ptr(0), Arg(lambda _c: op_text)]
    bitset = Arg(lambda cc: "FUTEX_BITSET_MATCH_ANY" if cc.args[5] & 0xFFFFFFFF == 0xFFFFFFFF
                 else f"{cc.args[5] & 0xFFFFFFFF:#x}")
    per_op = {
        0: [num(2), timespec_arg(3)], 1: [num(2)], 2: [num(2)],
        3: [num(2), uint(3), ptr(4)], 4: [num(2), uint(3), ptr(4), num(5)],
        5: [num(2), uint(3), ptr(4), hexn(5)], 6: [timespec_arg(3)], 7: [], 8: [],
        9: [num(2), timespec_arg(3), bitset], 10: [num(2), bitset],
        11: [num(2), timespec_arg(3), ptr(4)], 12: [num(2), uint(3), ptr(4), num(5)],
        13: [timespec_arg(3)],
    }
    return head + per_op.get(cmd, [num(2), hexn(3), ptr(4), hexn(5)])


def _fcntl(c: Context) -> list[Arg]:
    cmd = c.args[1] & 0xFFFFFFFF
    head = [fd(0), named(1, tables.FCNTL_CMDS)]
    if cmd in (1, 3, 9, 11, 1025, 1032, 1034):  # the F_GET* that take nothing
        return head
    if cmd == 2:
        return head + [flagset(2, tables.FD_FLAGS)]
    if cmd == 4:
        return head + [Arg(lambda cc: open_flags(cc, cc.args[2]))]
    if cmd in (0, 1030):
        return head + [num(2)]
    return head + [hexn(2)]


#: powerpc encodes its terminal and file ioctls with _IOR/_IOW (its asm/ioctls.h): the
#: same requests under other numbers.
PPC_IOCTLS = {0x402C7413: "TCGETS", 0x802C7414: "TCSETS", 0x802C7415: "TCSETSW",
              0x802C7416: "TCSETSF", 0x40047477: "TIOCGPGRP", 0x80047476: "TIOCSPGRP",
              0x40087468: "TIOCGWINSZ", 0x80087467: "TIOCSWINSZ", 0x4004667F: "FIONREAD",
              0x8004667E: "FIONBIO", 0x20006601: "FIOCLEX", 0x20006602: "FIONCLEX",
              0x8004667D: "FIOASYNC", 0x40086680: "FIOQSIZE", 0x40047473: "TIOCOUTQ",
              0x2000741D: "TCSBRK", 0x2000741E: "TCXONC", 0x2000741F: "TCFLSH",
              0x20005402: "SNDCTL_TMR_START", 0x20005403: "SNDCTL_TMR_STOP",
              0x20005404: "SNDCTL_TMR_CONTINUE",
              # struct termio's, sized 20 on powerpc (asm/ioctls.h: _IOR('t', 23, ...))
              0x40147417: "TCGETA", 0x80147418: "TCSETA", 0x80147419: "TCSETAW",
              0x8014741C: "TCSETAF"}
#: The generic requests powerpc numbers otherwise (above, or not at all: its termio calls).
_PPC_OWN = frozenset(PPC_IOCTLS.values()) | {"TCGETA", "TCSETA", "TCSETAW", "TCSETAF"}
#: asm-generic's requests made with _IO (its direction 0 looks like a plain number's).
_GENERIC_IO = frozenset({"TIOCGPTPEER"}) | ioctls.PLAIN
#: Requests that another header numbers the same: strace names them all (soundcard.h's
#: _IO('T', N) is the terminal's plain 0x54NN on x86_64 and s390x).
IOCTL_ALSO = {0x5402: "SNDCTL_TMR_START", 0x5403: "SNDCTL_TMR_STOP",
              0x5404: "SNDCTL_TMR_CONTINUE"}


def _powerpc_number(code: int, name: str) -> int:
    """An asm-generic _IOC number as powerpc's asm/ioctl.h makes it (_IOC_NONE 1, _IOC_READ
    2, _IOC_WRITE 4, from bit 29); a plain number stays."""
    direction = code >> 30
    if not direction and name not in _GENERIC_IO:
        return code
    return ({0: 1, 1: 4, 2: 2, 3: 6}[direction] << 29) | (code & 0x3FFFFFFF)


@cache
def ioctl_table(abi_name: str) -> dict[int, str]:
    """The requests strace names on this ABI, by number (asm-generic's, moved where the
    arch's asm/ioctls.h moves them: powerpc's own numbers, s390x's FIOQSIZE), and the
    socket ones (linux/sockios.h)."""
    if abi_name in ("ppc64le", "ppc64"):
        return {**{_powerpc_number(n, name): name for n, name in tables.IOCTLS.items()
                   if name not in _PPC_OWN}, **PPC_IOCTLS,
                **{_powerpc_number(n, name): name for n, name in tables.SOCKET_IOCTLS.items()},
                **{_powerpc_number(n, name): name for n, name in ioctls.REQUESTS.items()}}
    if abi_name == "s390x":  # arch/s390/include/uapi/asm/ioctls.h
        return {**{n: name for n, name in tables.IOCTLS.items() if name != "FIOQSIZE"},
                0x545E: "FIOQSIZE", **tables.SOCKET_IOCTLS, **ioctls.REQUESTS}
    return {**tables.IOCTLS, **tables.SOCKET_IOCTLS, **ioctls.REQUESTS}


_GENERIC_IOCTL = {name: number for number, name in {
    **tables.IOCTLS, **tables.SOCKET_IOCTLS, **ioctls.REQUESTS}.items()}


def _ioctl_request(c: Context) -> str:
    request = c.args[1] & 0xFFFFFFFF
    name = ioctl_table(c.abi.name).get(request)
    if name is None:
        return structs.ioctl_code(request, c.abi)
    also = IOCTL_ALSO.get(request) if c.abi.name in ("x86_64", "s390x") else None
    return f"{also} or {name}" if also else name


#: strace's term_ioctl, by the generic number: what the third argument is.
_IOCTL_INT_IN = frozenset({0x5410, 0x5423, 0x5421, 0x5452, 0x5420, 0x541A, 0x40045431})
_IOCTL_INT_OUT = frozenset({0x540F, 0x5429, 0x5424, 0x5419, 0x80045430, 0x541B, 0x5411,
                            0x80045440, 0x80045432})
_IOCTL_NO_ARG = frozenset({0x5427, 0x5428, 0x541D, 0x5422, 0x540C, 0x540D, 0x5451, 0x5450,
                           0x5437, 0x541F})
_IOCTL_VALUE = {0x5409: None, 0x5425: None, 0x540E: None,  # TCSBRK TCSBRKP TIOCSCTTY: an int
                0x540A: {0: "TCOOFF", 1: "TCOON", 2: "TCIOFF", 3: "TCION"},  # TCXONC
                0x540B: {0: "TCIFLUSH", 1: "TCOFLUSH", 2: "TCIOFLUSH"}}  # TCFLSH


IFREQ_SIZE = 40  # struct ifreq on 64-bit: the name (16 bytes), then a union of 24


def _ifr_name(d: bytes, c: Context) -> str:
    return quote(d[:16].split(b"\0", 1)[0], c.options.hex_strings)


def _ifr_sockaddr(d: bytes, c: Context) -> str:
    return structs.sockaddr(d[16:32], c.abi)


#: linux/if_arp.h's hardware types (some), and how many bytes of sa_data strace shows of
#: each address (print_mac.c's hwaddr_sizes; 14, all of it, for the others).
ARPHRD = {1: ("ARPHRD_ETHER", 6), 32: ("ARPHRD_INFINIBAND", 14), 512: ("ARPHRD_PPP", 0),
          519: ("ARPHRD_RAWIP", 0), 768: ("ARPHRD_TUNNEL", 4), 769: ("ARPHRD_TUNNEL6", 14),
          772: ("ARPHRD_LOOPBACK", 6), 776: ("ARPHRD_SIT", 4), 778: ("ARPHRD_IPGRE", 4),
          801: ("ARPHRD_IEEE80211", 6), 823: ("ARPHRD_IP6GRE", 14), 824: ("ARPHRD_NETLINK", 0),
          0xFFFE: ("ARPHRD_NONE", 14), 0xFFFF: ("ARPHRD_VOID", 14)}


def _ifr_hwaddr(d: bytes, c: Context) -> str:
    """``{sa_family=ARPHRD_ETHER, sa_data=02:42:ac:11:00:02}``"""
    family = c.abi.word(d, 16, 2)
    name, size = ARPHRD.get(family, (f"{family:#x} /* ARPHRD_??? */", 14))
    return f"{{sa_family={name}, sa_data={':'.join(f'{b:02x}' for b in d[18:18 + size])}}}"


#: The SIOCGIF* requests strace decodes: the ifreq field the kernel fills, and how.
_IFREQ_GETS = {
    0x8933: ("ifr_ifindex", lambda d, c: str(c.abi.word(d, 16, 4, signed=True))),
    0x8910: ("ifr_name", lambda d, c: _ifr_name(d, c)),  # SIOCGIFNAME
    0x8913: ("ifr_flags", lambda d, c: flags(c.abi.word(d, 16, 2), tables.IFF_FLAGS)),
    0x8921: ("ifr_mtu", lambda d, c: str(c.abi.word(d, 16, 4, signed=True))),
    0x891D: ("ifr_metric", lambda d, c: str(c.abi.word(d, 16, 4, signed=True))),
    0x8942: ("ifr_qlen", lambda d, c: str(c.abi.word(d, 16, 4, signed=True))),
    0x8915: ("ifr_addr", _ifr_sockaddr), 0x8917: ("ifr_dstaddr", _ifr_sockaddr),
    0x8919: ("ifr_broadaddr", _ifr_sockaddr), 0x891B: ("ifr_netmask", _ifr_sockaddr),
    0x8927: ("ifr_hwaddr", _ifr_hwaddr),
}


def _ifreq_request(c: Context) -> int:
    request = c.args[1] & 0xFFFFFFFF
    return _GENERIC_IOCTL.get(ioctl_table(c.abi.name).get(request, ""), request)


def _ifreq_in(c: Context) -> str:
    """``{ifr_name="lo"`` (SIOCGIFNAME: ``{ifr_ifindex=1``): what the call names."""
    data = c.read(c.args[2], IFREQ_SIZE)
    c.saved = (data is not None,)
    if data is None:
        return address(c.args[2])
    if _ifreq_request(c) == 0x8910:
        return f"{{ifr_ifindex={c.abi.word(data, 16, 4, signed=True)}"
    return f"{{ifr_name={_ifr_name(data, c)}"


def _ifreq_out(c: Context) -> str:
    """``, ifr_ifindex=1}``: the field the kernel filled (nothing more if it failed)."""
    if not c.saved or not c.saved[0]:
        return ""
    data = c.read(c.args[2], IFREQ_SIZE) if c.error is None else None
    if data is None:
        return "}"
    field, fmt = _IFREQ_GETS[_ifreq_request(c)]
    return f", {field}={fmt(data, c)}}}"


IFCONF_SIZE = 16  # struct ifconf on 64-bit: an int length, then the buffer's pointer


def _ifc_len(length: int) -> str:
    """``320 /* 8 * sizeof(struct ifreq) */`` (strace's print_ifc_len)."""
    count = (length & 0xFFFFFFFF) // IFREQ_SIZE
    if length > 0 and count * IFREQ_SIZE == length:
        return f"{length} /* {count} * sizeof(struct ifreq) */"
    return str(length)


def _ifconf_in(c: Context) -> str:
    """SIOCGIFCONF at entry: ``{ifc_len=320 /* ... */`` (the length only with a buffer)."""
    data = c.read(c.args[2], IFCONF_SIZE)
    if data is None:
        c.saved = None
        return address(c.args[2])
    length, buf = c.abi.word(data, 0, 4, signed=True), c.abi.word(data, 8)
    c.saved = (length, buf)
    return "{ifc_len=" + (_ifc_len(length) if buf else "")


def _ifconf_out(c: Context) -> str:
    """``=> 80 /* ... */, ifc_buf=[{ifr_name="lo", ifr_addr={...}}, ...]}`` (strace's
    decode_ifconf)."""
    if c.saved is None:
        return ""
    length_in, buf_in = c.saved
    data = c.read(c.args[2], IFCONF_SIZE)
    if data is None:
        return (_ifc_len(length_in) if not buf_in else "") + f", ifc_buf={address(buf_in)}}}"
    length, buf = c.abi.word(data, 0, 4, signed=True), c.abi.word(data, 8)
    text = " => " if buf_in and length != length_in else ""
    if not buf_in or length != length_in:
        text += _ifc_len(length)
    if not buf_in or c.error is not None:
        text += f", ifc_buf={address(buf_in)}"
        return text + (f" => {address(buf)}}}" if buf != buf_in else "}")

    def one(_k: int, d: bytes) -> str:
        return f"{{ifr_name={_ifr_name(d, c)}, ifr_addr={_ifr_sockaddr(d, c)}}}"
    count = (length & 0xFFFFFFFF) // IFREQ_SIZE
    return text + f", ifc_buf={array_text(c, buf, count, IFREQ_SIZE, one)}}}"


def _fs_block_argument(c: Context, name: str) -> list[Arg] | None:
    """The third argument of the file-system and block requests (engines/decode/ioctls.py)."""
    spec = ioctls.ARGUMENTS.get(name)
    if spec is None:
        return None
    how, at_exit = spec
    if how == "none":
        return []
    if how == "value":
        return [unum(2)]
    size = ioctls.SIZES[how] if isinstance(how, str) else how[0]

    def render(cc: Context) -> str:
        data = cc.read(cc.args[2], size)
        if data is None:
            return address(cc.args[2])
        word = cc.abi.word
        if how == "fs_flags":
            return f"[{flags(word(data, 0, 4), ioctls.FS_FLAGS)}]"
        if how == "pair":
            return f"[{word(data, 0, 8)}, {word(data, 8, 8)}]"
        if how == "fstrim":
            return (f"{{start={chex(word(data, 0, 8))}, len={word(data, 8, 8)}, "
                    f"minlen={word(data, 16, 8)}}}")
        if how in ("fsxattr_get", "fsxattr_set"):
            nextents = f"fsx_nextents={word(data, 8, 4)}, " if how == "fsxattr_get" else ""
            return (f"{{fsx_xflags={flags(word(data, 0, 4), ioctls.FS_XFLAGS)}, "
                    f"fsx_extsize={word(data, 4, 4)}, {nextents}"
                    f"fsx_projid={chex(word(data, 12, 4))}, fsx_cowextsize={word(data, 16, 4)}}}")
        return f"[{word(data, 0, size, signed=how[1])}]"
    arg = Arg(render)
    return [exit_arg(arg, 2) if at_exit else arg]



def _ioctl(c: Context) -> list[Arg]:
    request = c.args[1] & 0xFFFFFFFF
    if c.abi.name != "x86_64":  # the arch's number -> asm-generic's, which the sets below use
        request = _GENERIC_IOCTL.get(ioctl_table(c.abi.name).get(request, ""), request)
    head = [fd(0), Arg(_ioctl_request)]
    if request in _IOCTL_NO_ARG:
        return head
    if request in _IOCTL_INT_IN:
        return head + [_int_in(2)]
    if request in _IOCTL_INT_OUT:
        return head + [exit_arg(_int_in(2), 2)]
    if request in _IOCTL_VALUE:
        values = _IOCTL_VALUE[request]
        return head + [num(2) if values is None else named(2, values, "{:#x} /* TC??? */",
                                                           bits=64)]
    if request in _IFREQ_GETS:
        return head + [Arg(_ifreq_in), Arg(_ifreq_out, True, glue=True)]
    if request == 0x8912:  # SIOCGIFCONF
        return head + [Arg(_ifconf_in), Arg(_ifconf_out, True, glue=True)]
    fs_block = _fs_block_argument(c, ioctls.REQUESTS.get(request, ""))
    if fs_block is not None:
        return head + fs_block
    if request in (0x5413, 0x5414):  # TIOCGWINSZ fills it, TIOCSWINSZ reads it
        arg = struct_in(2, 8, lambda d, cc: structs.winsize(d, cc.abi))
        return head + [exit_arg(arg, 2) if request == 0x5413 else arg]
    if request in (0x5401, 0x5402, 0x5403, 0x5404, 0x5405, 0x5406, 0x5407, 0x5408):
        # TCGETS TCSETS TCSETSW TCSETSF: struct termios; TCGETA...: struct termio
        bits = terminal.bits_for(c.abi)
        old = request >= 0x5405
        fmt = terminal.termio if old else terminal.termios

        def tio(d: bytes, cc: Context) -> str:
            return fmt(d, cc.abi, cc.options.verbose)
        arg = struct_in(2, bits.termio_size if old else bits.termios_size, tio)
        return head + [exit_arg(arg, 2) if request in (0x5401, 0x5405) else arg]  # the gets
    return head + [hexn(2)]  # strace: an argument it does not decode, in %#x


def _socket(c: Context) -> list[Arg]:
    family = c.args[0] & 0xFFFFFFFF

    def kind(cc: Context) -> str:
        value = cc.args[1] & 0xFFFFFFFF
        base = lookup(value & 0xF, tables.SOCKET_TYPES)
        rest = flags(value & ~0xF, tables.SOCKET_TYPE_FLAGS, "")
        return f"{base}|{rest}" if rest else base

    if family == 16:  # AF_NETLINK
        proto = named(2, tables.NETLINK_PROTOCOLS, "{:#x} /* NETLINK_??? */")
    else:
        proto = named(2, tables.IPPROTO, "{}") if family in (2, 10) else num(2)
    return [named(0, tables.ADDRESS_FAMILIES, "{}"), Arg(kind), proto]


def _wait4(c: Context) -> list[Arg]:
    def status(cc: Context) -> str:
        data = cc.read(cc.args[1], 4) if cc.rval else None  # WNOHANG's 0: nothing written
        return address(cc.args[1]) if data is None else structs.wait_status(
            cc.abi.word(data, 0, 4))

    def usage(cc: Context) -> str:
        return rusage_at(cc, cc.args[3]) if cc.rval > 0 else address(cc.args[3])
    return [num(0), exit_arg(Arg(status), 1), flagset(2, tables.WAIT_OPTIONS), Arg(usage, True)]


#: Where the signal frame's saved mask is, from the stack pointer at the call (strace's
#: arch_rt_sigreturn.c).  x86_64: rsp points at the frame's ucontext (pretcode was popped);
#: uc_sigmask follows uc_flags, uc_link, uc_stack and uc_mcontext.  ppc64: the ucontext is
#: past the 128-byte __SIGNAL_FRAMESIZE, its uc_sigmask after uc_flags, uc_link, uc_stack.
#: s390x: past the 160-byte __SIGNAL_FRAMESIZE, the rt frame has svc_insn (padded to 8) and a
#: siginfo before its ucontext, whose uc_sigmask follows uc_mcontext (_sigregs, 344 bytes).
RT_SIGRETURN_MASK = {"x86_64": 296, "ppc64le": 168, "ppc64": 168, "s390x": 160 + 8 + 128 + 384}
#: s390x's sigreturn (a handler without SA_SIGINFO): sigcontext's oldmask, past the 160 bytes.
SIGRETURN_MASK = {"s390x": 160}


def _sigreturn_mask(offsets: dict[str, int]) -> Spec:
    def spec(c: Context) -> list[Arg]:
        offset = offsets.get(c.abi.name)
        if offset is None or not c.sp:
            return []
        return [Arg(lambda cc: f"{{mask={_sigmask_at(cc, cc.sp + offset)}}}")]
    return spec


_rt_sigreturn = _sigreturn_mask(RT_SIGRETURN_MASK)


# -- System V IPC (direct, or carried by ipc: engines/decode/multiplexed.py) -------------
IPC_RESOURCE_FLAGS = ((0o1000, "IPC_CREAT"), (0o2000, "IPC_EXCL"), (0o4000, "IPC_NOWAIT"))
SHM_RESOURCE_FLAGS = ((0o1000, "IPC_CREAT"), (0o2000, "IPC_EXCL"), (0o4000, "SHM_HUGETLB"),
                      (0o10000, "SHM_NORESERVE"))
SHMAT_FLAGS = ((0o10000, "SHM_RDONLY"), (0o20000, "SHM_RND"), (0o40000, "SHM_REMAP"),
               (0o100000, "SHM_EXEC"))
IPC_CMDS = {0: "IPC_RMID", 1: "IPC_SET", 2: "IPC_STAT", 3: "IPC_INFO"}
SHM_CMDS = {**IPC_CMDS, 11: "SHM_LOCK", 12: "SHM_UNLOCK", 13: "SHM_STAT", 14: "SHM_INFO",
            15: "SHM_STAT_ANY"}
SEM_CMDS = {**IPC_CMDS, 11: "GETPID", 12: "GETVAL", 13: "GETALL", 14: "GETNCNT", 15: "GETZCNT",
            16: "SETVAL", 17: "SETALL", 18: "SEM_STAT", 19: "SEM_INFO", 20: "SEM_STAT_ANY"}
MSG_CMDS = {**IPC_CMDS, 11: "MSG_STAT", 12: "MSG_INFO", 13: "MSG_STAT_ANY"}


def ipc_key(i: int) -> Arg:
    return Arg(lambda c: f"{c.args[i] & 0xFFFFFFFF:#x}" if c.args[i] & 0xFFFFFFFF
               else "IPC_PRIVATE")


def ipc_resource(i: int, table) -> Arg:
    """``IPC_CREAT|0600`` (strace: the flags, then the permission bits in octal)."""
    def render(c: Context) -> str:
        value = c.args[i] & 0xFFFFFFFF
        rest = flags(value & ~0o777, table, "")
        mode = structs.octal(value & 0o777)
        return f"{rest}|{mode}" if rest else mode
    return Arg(render)


def ipc_cmd(i: int, table: dict[int, str]) -> Arg:
    """``IPC_64|IPC_RMID``: glibc asks for the 64-bit structures with IPC_64 (0x100)."""
    def render(c: Context) -> str:
        value = c.args[i] & 0xFFFFFFFF
        text = lookup(value & ~0x100, table, "{:#x}")
        return f"IPC_64|{text}" if value & 0x100 else text
    return Arg(render)


def _semctl(c: Context) -> list[Arg]:
    head = [num(0), num(1), ipc_cmd(2, SEM_CMDS)]
    if c.carried is None or not c.carried.by_reference:
        return head + [ptr(3)]

    def union(cc: Context) -> str:  # ipc's semctl passes the union semun by address
        data = cc.read(cc.args[3], cc.abi.word_size)
        return address(cc.args[3]) if data is None else f"[{address(cc.abi.word(data))}]"
    return head + [Arg(union)]


def _socketpair(c: Context) -> list[Arg]:
    def pair(cc: Context) -> str:
        data = cc.read(cc.args[3], 8)
        return address(cc.args[3]) if data is None else \
            f"[{fd_text(cc, cc.abi.word(data, 0, 4))}, {fd_text(cc, cc.abi.word(data, 4, 4))}]"
    return _socket(c) + [exit_arg(Arg(pair), 3)]


def _prctl(c: Context) -> list[Arg]:
    option = c.args[0] & 0xFFFFFFFF
    if option == 15:
        return [const("PR_SET_NAME"), string(1)]
    if option == 16:  # the kernel writes the name (16 bytes at most)
        return [const("PR_GET_NAME"), exit_arg(string(1), 1)]
    return generic_arguments("prctl", c.args[:5])


def _arch_prctl(c: Context) -> list[Arg]:
    code = c.args[0] & 0xFFFFFFFF
    head = named(0, tables.ARCH_PRCTL)
    if code in (0x1003, 0x1004):  # ARCH_GET_FS/GS: the kernel writes a word
        return [head, struct_out(1, 8, lambda d, cc: f"[{cc.abi.word(d):#x}]")]
    return [head, hexn(1)]


def _getdents(c: Context) -> list[Arg]:
    def entries(cc: Context) -> str:
        addr = cc.args[1]
        if cc.error is not None:
            return address(addr)
        data = cc.read(addr, cc.rval) if cc.rval else b""
        if data is None:
            return address(addr)
        if cc.options.verbose:
            return structs.dirents64(data, cc.abi)
        n = structs.dirent64_count(data, cc.abi)
        return f"{addr:#x} /* {n} entr{'y' if n == 1 else 'ies'} */"
    return [fd(0), Arg(entries, True), uint(2)]


def _getcwd(c: Context) -> list[Arg]:
    def cwd(cc: Context) -> str:
        if cc.error is not None or cc.rval <= 0:
            return address(cc.args[0])
        data = cc.read(cc.args[0], cc.rval)
        return address(cc.args[0]) if data is None else quote(data.rstrip(b"\0"),
                                                                cc.options.hex_strings)
    return [Arg(cwd, True), unum(1)]


def _readlink_buf(i: int) -> Arg:
    def render(cc: Context) -> str:
        if cc.error is not None:
            return address(cc.args[i])
        return buffer_at(cc, cc.args[i], cc.rval) if cc.rval else '""'
    return Arg(render, True)


def _getxattr_value(i: int, size_index: int) -> Arg:
    def render(cc: Context) -> str:
        if cc.error is not None or not cc.args[size_index]:
            return address(cc.args[i])
        return buffer_at(cc, cc.args[i], cc.rval)
    return Arg(render, True)


def _prlimit(c: Context) -> list[Arg]:
    return [num(0), named(1, tables.RLIMITS), rlimit_arg(2), rlimit_arg(3, at_exit=True)]


def _poll(c: Context) -> list[Arg]:
    def fds(cc: Context) -> str:
        def one(_k: int, d: bytes) -> str:
            (f, e), = structs.pollfds(d, cc.abi)
            return f"{{fd={fd_text(cc, f)}, events={e}}}"
        return array_text(cc, cc.args[0], cc.args[1] & 0xFFFFFFFF, 8, one)
    return [Arg(fds), uint(1), num(2)]


def _ppoll(c: Context) -> list[Arg]:
    return _poll(c)[:2] + [timespec_arg(2), sigset_arg(3, 4), unum(4)]


def _sigaltstack(c: Context) -> list[Arg]:
    def stack(i: int) -> Callable[[bytes, Context], str]:
        def fmt(d: bytes, cc: Context) -> str:
            sp, fl, size = cc.abi.word(d, 0), cc.abi.word(d, 8, 4), cc.abi.word(d, 16)
            fl_text = flags(fl, ((1, "SS_ONSTACK"), (2, "SS_DISABLE"),
                                 (1 << 31, "SS_AUTODISARM")))
            return f"{{ss_sp={address(sp)}, ss_flags={fl_text}, ss_size={size}}}"
        return fmt
    return [struct_in(0, 24, stack(0)), struct_out(1, 24, stack(1))]


def _execve(c: Context) -> list[Arg]:
    return [path(0), Arg(lambda cc: strings_array(cc, cc.args[1])), envp_arg(2)]


def _execveat(c: Context) -> list[Arg]:
    return [dirfd(0), path(1), Arg(lambda cc: strings_array(cc, cc.args[2])), envp_arg(3),
            flagset(4, tables.AT_FLAGS)]


def _kill(c: Context) -> list[Arg]:
    return [num(0), sig(1)]


def _STAT(d: bytes, c: Context) -> str:
    return structs.stat(d, c.abi, c.options.verbose)


def _cpu_set(c: Context) -> str:
    """sched_getaffinity's mask: the CPUs in it, ``[0 1]`` (as strace)."""
    data = c.read(c.args[2], c.rval) if c.rval > 0 else None
    if data is None:
        return address(c.args[2])
    bits = int.from_bytes(data, "little") if c.abi.byteorder == "little" else sum(
        c.abi.word(data, k, 8) << (8 * k) for k in range(0, len(data), 8))
    return "[" + " ".join(str(k) for k in range(8 * len(data)) if bits >> k & 1) + "]"


def _statfs_out(i: int) -> Arg:
    decoded = struct_in(i, structs.STATFS_SIZE, lambda d, cc: structs.statfs(d, cc.abi))

    def render(c: Context) -> str:
        if c.abi.name == "s390x":  # its struct statfs has 32-bit fields: not decoded yet
            return address(c.args[i])
        return decoded.render(c)
    return exit_arg(Arg(render), i)


def _stat_out(i: int) -> Arg:
    def render(c: Context) -> str:  # (the size is the ABI's)
        data = c.read(c.args[i], c.abi.stat_size)
        return address(c.args[i]) if data is None else _STAT(data, c)
    return exit_arg(Arg(render), i)


# -- readiness: select, poll, epoll (strace's desc.c, poll.c, epoll.c) -------------------
def _select_nfds(c: Context) -> int:
    return max(0, min(signed(c.args[0], 32), 1 << 20))  # the kernel's int; strace's bound


def _fd_set_arg(i: int) -> Arg:
    """An fd set at entry: ``[3 4]``, each fd as ``-y`` shows it."""
    def render(c: Context) -> str:
        nfds = _select_nfds(c)
        size = structs.fd_set_size(nfds, c.abi)
        data = c.read(c.args[i], size) if size else None
        if data is None:
            return address(c.args[i])
        return "[" + " ".join(fd_text(c, fd)
                              for fd in structs.fd_set_members(data, c.abi, nfds)) + "]"
    return Arg(render)


def _timeval_at(c: Context, addr: int) -> str:
    data = c.read(addr, 16)
    return address(addr) if data is None else structs.timeval(data, c.abi)


def _timespec_at(c: Context, addr: int) -> str:
    data = c.read(addr, 16)
    return address(addr) if data is None else structs.timespec(data, c.abi)


def sigmask_text(c: Context, addr: int, size: int) -> str:
    """A kernel sigset by address and size (strace: the address unless the size is a long)."""
    if not addr:
        return "NULL"
    data = c.read(addr, size) if size == c.abi.word_size else None
    return address(addr) if data is None else structs.sigset(data, c.abi)


def _pselect_sigmask(c: Context) -> str:
    """pselect6's sixth argument: ``{sigmask=[USR1], sigsetsize=8}`` (a pointer and a size)."""
    word = c.abi.word_size
    data = c.read(c.args[5], 2 * word)
    if data is None:
        return address(c.args[5])
    mask, size = c.abi.word(data, 0), c.abi.word(data, word)
    return f"{{sigmask={sigmask_text(c, mask, size)}, sigsetsize={size}}}"


def _select(timeout: Callable[[Context, int], str], masked: bool) -> list[Arg]:
    parts = [num(0), _fd_set_arg(1), _fd_set_arg(2), _fd_set_arg(3),
             Arg(lambda c: timeout(c, c.args[4]))]
    return parts + [Arg(_pselect_sigmask)] if masked else parts


def _select_result(c: Context, rval: int) -> str:
    """``1 (in [3], left {tv_sec=4, tv_usec=999})``: the sets as the kernel left them (the
    fds as numbers, at most ``rval`` of them), the time left; ``0 (Timeout)``."""
    if rval == 0:
        return "0 (Timeout)"
    nfds = _select_nfds(c)
    size = structs.fd_set_size(nfds, c.abi)
    out, sep, ready = "", "", rval
    for k, label in enumerate(("in", "out", "except")):  # strace's decode_select, as written
        if ready <= 0:
            break
        data = c.read(c.args[1 + k], size) if size else None
        if data is None:
            continue
        first = True
        for fd in structs.fd_set_members(data, c.abi, nfds):
            out += f"{sep}{label} [{fd}" if first else f" {fd}"
            first, sep = False, ", "
            ready -= 1
            if ready == 0:
                break
        if out:
            out += "]"
    if c.args[4]:
        left = (_timespec_at if c.name == "pselect6" else _timeval_at)(c, c.args[4])
        out += f"{sep}left {left}"
    return f"{rval} ({out})"


def array_text(c: Context, addr: int, count: int, size: int,
               fmt: Callable[[int, bytes], str]) -> str:
    """``[elem, elem, ...]``: ``count`` structures of ``size`` bytes (``fmt(index, bytes)``),
    cut at ``-s`` elements unless ``-v`` (strace's print_array; at most 1024 here)."""
    if count <= 0:
        return "[]" if count == 0 else address(addr)
    shown = min(count, 1024) if c.options.verbose else min(count, c.limit, 1024)
    data = c.read(addr, shown * size)
    if data is None:
        return address(addr)
    items = [fmt(k, data[k * size:(k + 1) * size]) for k in range(shown)]
    return "[" + ", ".join(items + (["..."] if count > shown else [])) + "]"


def _poll_result(c: Context, rval: int) -> str:
    """``2 ([{fd=5, revents=POLLIN}], left {tv_sec=0, tv_nsec=0})``; ``0 (Timeout)``."""
    if rval == 0:
        return "0 (Timeout)"
    count = c.args[1] & 0xFFFFFFFF
    if not c.args[0] or not count:
        return str(rval)
    out = _revents(c)
    if c.name == "ppoll" and c.args[2]:
        out += (", " if out else "") + f"left {_timespec_at(c, c.args[2])}"
    return f"{rval} ({out})" if out else str(rval)


def _revents(c: Context) -> str:
    data = c.read(c.args[0], 8 * min(c.args[1] & 0xFFFFFFFF, 1024))
    if data is None:
        return f"[{address(c.args[0])}]"
    ready = [f"{{fd={f}, revents={e}}}" for f, e in structs.pollfds(data, c.abi, "revents")
             if e != "0"]
    if len(ready) > c.limit and not c.options.verbose:  # strace's decode_poll_exiting
        ready = ready[:c.limit] + ["..."]
    return "[" + ", ".join(ready) + "]" if ready else ""


SIGNALFD_FLAGS = ((0o2000000, "SFD_CLOEXEC"), (0o4000, "SFD_NONBLOCK"))
EVENTFD_FLAGS = ((1, "EFD_SEMAPHORE"), (0o2000000, "EFD_CLOEXEC"), (0o4000, "EFD_NONBLOCK"))
TIMERFD_FLAGS = ((1, "TFD_TIMER_ABSTIME"), (2, "TFD_TIMER_CANCEL_ON_SET"),
                 (0o2000000, "TFD_CLOEXEC"), (0o4000, "TFD_NONBLOCK"))
INOTIFY_FLAGS = ((0o4000, "IN_NONBLOCK"), (0o2000000, "IN_CLOEXEC"))


PKEY_RIGHTS = ((1, "PKEY_DISABLE_ACCESS"), (2, "PKEY_DISABLE_WRITE"))
CAP_VERSIONS = {0x19980330: "_LINUX_CAPABILITY_VERSION_1",
                0x20071026: "_LINUX_CAPABILITY_VERSION_2",
                0x20080522: "_LINUX_CAPABILITY_VERSION_3"}
_CAP_BITS = tuple((1 << k, f"1<<{name}") for k, name in enumerate(tables.CAPABILITIES))


def _cap_version(c: Context) -> int | None:
    """The capability header's version (None: strace shows both pointers as addresses)."""
    data = c.read(c.args[0], 8)
    return None if data is None else c.abi.word(data, 0, 4)


def _cap_header(c: Context) -> str:
    """``{version=_LINUX_CAPABILITY_VERSION_3, pid=0}``"""
    version = _cap_version(c)
    if version is None:
        return address(c.args[0])
    pid = c.abi.word(c.read(c.args[0], 8), 4, 4, signed=True)
    name = lookup(version, CAP_VERSIONS, "{:#x} /* _LINUX_CAPABILITY_VERSION_??? */")
    return f"{{version={name}, pid={pid}}}"


def _cap_bits(low: int, high: int) -> str:
    """``1<<CAP_CHOWN|1<<CAP_KILL``: the two 32-bit halves of a capability set."""
    text = flags(low, _CAP_BITS[:32]) if low or not high else ""
    if high:
        text += ("|" if low else "") + flags(high, tuple((b >> 32, n) for b, n in _CAP_BITS[32:]))
    return text


def _cap_data(c: Context) -> str:
    """``{effective=..., permitted=..., inheritable=...}`` (versions 2 and 3: two halves)."""
    version = _cap_version(c) if c.error is None else None
    if version is None or not c.args[1]:
        return address(c.args[1])
    count = 2 if version in (0x20071026, 0x20080522) else 1
    data = c.read(c.args[1], 12 * count)
    if data is None:
        return address(c.args[1])
    w = c.abi.word
    sets = [f"{field}={_cap_bits(w(data, 4 * k, 4), w(data, 12 + 4 * k, 4) if count > 1 else 0)}"
            for k, field in enumerate(("effective", "permitted", "inheritable"))]
    return "{" + ", ".join(sets) + "}"


ITIMERS = {0: "ITIMER_REAL", 1: "ITIMER_VIRTUAL", 2: "ITIMER_PROF"}


def _itimerval(d: bytes, c: Context) -> str:
    return (f"{{it_interval={structs.timeval(d[:16], c.abi)}, "
            f"it_value={structs.timeval(d[16:32], c.abi)}}}")


def _itimerspec(d: bytes, c: Context) -> str:
    return (f"{{it_interval={structs.timespec(d[:16], c.abi)}, "
            f"it_value={structs.timespec(d[16:32], c.abi)}}}")
EPOLL_CTLS = {1: "EPOLL_CTL_ADD", 2: "EPOLL_CTL_DEL", 3: "EPOLL_CTL_MOD"}


def _epoll_event(d: bytes, c: Context) -> str:
    return structs.epoll_event(d, c.abi)


def _epoll_ctl(c: Context) -> list[Arg]:
    event = ptr(3) if c.args[1] & 0xFFFFFFFF == 2 else struct_in(  # EPOLL_CTL_DEL: none
        3, structs.epoll_event_size(c.abi), _epoll_event)
    return [fd(0), named(1, EPOLL_CTLS, "{:#x} /* EPOLL_CTL_??? */"), fd(2), event]


def _epoll_events(i: int) -> Arg:
    """epoll_wait's events: the ones the kernel wrote (as many as it returns)."""
    def render(c: Context) -> str:
        if c.error is not None:
            return address(c.args[i])
        return array_text(c, c.args[i], c.rval, structs.epoll_event_size(c.abi),
                          lambda _k, d: structs.epoll_event(d, c.abi))
    return Arg(render, True)


def _epoll_wait(timeout: Arg, masked: bool) -> list[Arg]:
    parts = [fd(0), _epoll_events(1), num(2), timeout]
    return parts + [sigset_arg(4, 5), unum(5)] if masked else parts


# -- sockets' messages: sendmsg, recvmsg, sendmmsg, recvmmsg (strace's msghdr.c, mmsghdr.c) --
MSGHDR_SIZE = 56  # struct msghdr on 64-bit Linux: name, namelen, iov, iovlen, control,
MMSGHDR_SIZE = 64  # controllen, flags; struct mmsghdr adds msg_len (and padding)
CMSG_HEADER = 16  # struct cmsghdr: a size_t length, then level and type (ints)
OPTMEM_MAX = 20480  # the kernel's default net.core.optmem_max: strace reads no more of it
SCM_TYPES = {1: "SCM_RIGHTS", 2: "SCM_CREDENTIALS", 3: "SCM_SECURITY",
             29: "SO_TIMESTAMP_OLD", 35: "SO_TIMESTAMPNS_OLD", 37: "SO_TIMESTAMPING_OLD",
             41: "SO_WIFI_STATUS", 54: "SCM_TIMESTAMPING_OPT_STATS",
             58: "SCM_TIMESTAMPING_PKTINFO", 61: "SO_TXTIME", 63: "SO_TIMESTAMP_NEW",
             64: "SO_TIMESTAMPNS_NEW", 65: "SO_TIMESTAMPING_NEW"}
#: The timestamps a socket attaches: how many times of which kind (64-bit: the old and
#: new structures are alike).
_CMSG_TIMES = {29: (1, "timeval"), 63: (1, "timeval"), 35: (1, "timespec"),
               64: (1, "timespec"), 37: (3, "timespec"), 65: (3, "timespec")}


def _cmsg_times(c: Context, kind: int, body: bytes) -> str:
    """``{tv_sec=..., tv_usec=...}``, or SO_TIMESTAMPING's array of three; ``???`` when
    the data is too short (strace's tprint_unavailable)."""
    count, unit = _CMSG_TIMES[kind]
    if len(body) < 16 * count:
        return "???"
    fmt = structs.timeval if unit == "timeval" else structs.timespec
    times = [fmt(body[16 * k:16 * k + 16], c.abi) for k in range(count)]
    return times[0] if count == 1 else "[" + ", ".join(times) + "]"
IP_CMSG_TYPES = {1: "IP_TOS", 2: "IP_TTL", 3: "IP_HDRINCL", 4: "IP_OPTIONS", 6: "IP_RECVOPTS",
                 7: "IP_RETOPTS", 8: "IP_PKTINFO", 11: "IP_RECVERR", 20: "IP_ORIGDSTADDR",
                 23: "IP_CHECKSUM"}


def _sockaddr_at(c: Context, addr: int, length: int) -> str:
    data = c.read(addr, min(length, 128)) if length >= 2 else None
    return address(addr) if data is None else structs.sockaddr(data, c.abi)


def _cmsg_data(c: Context, level: int, kind: int, body: bytes) -> str:
    """`` cmsg_type=SCM_RIGHTS, cmsg_data=[5, 6]``: the type, and the data strace decodes."""
    word = c.abi.word
    if level == 1:  # SOL_SOCKET
        text = lookup(kind, SCM_TYPES, "{:#x} /* SCM_??? */")
        if kind == 1 and len(body) >= 4:
            fds = [fd_text(c, word(body, 4 * k, 4)) for k in range(len(body) // 4)]
            data = "[" + ", ".join(fds[:c.limit] + (["..."] if len(fds) > c.limit else [])) + "]"
        elif kind == 2 and len(body) >= 12:
            data = (f"{{pid={word(body, 0, 4, signed=True)}, uid={word(body, 4, 4)}, "
                    f"gid={word(body, 8, 4)}}}")
        elif kind == 3 and body:
            data = quote(body, c.options.hex_strings)
        elif kind in _CMSG_TIMES and body:
            data = _cmsg_times(c, kind, body)
        else:
            return text
        return f"{text}, cmsg_data={data}"
    if level == 0:  # SOL_IP
        text = lookup(kind, IP_CMSG_TYPES, "{:#x} /* IP_??? */")
        if kind == 2 and len(body) >= 4:  # IP_TTL: unsigned ints
            ttls = (str(word(body, 4 * k, 4)) for k in range(len(body) // 4))
            return f"{text}, cmsg_data=[{', '.join(ttls)}]"
        if kind in (1, 6, 7) and body:  # IP_TOS, IP_RECVOPTS, IP_RETOPTS: bytes in hex
            return f"{text}, cmsg_data=[{', '.join(chex(b) for b in body)}]"
        return text
    return chex(kind)


def _cmsgs(c: Context, addr: int, controllen: int) -> str:
    """msg_control: each ``cmsghdr`` (``{cmsg_len=24, cmsg_level=SOL_SOCKET, ...}``)."""
    length = min(controllen, OPTMEM_MAX)
    data = c.read(addr, length) if length >= CMSG_HEADER else None
    if data is None:
        return address(addr)
    word, align = c.abi.word, c.abi.word_size
    items: list[str] = []
    off, rest = 0, length
    while rest >= CMSG_HEADER:
        size, level, kind = word(data, off), word(data, off + 8, 4, signed=True), \
            word(data, off + 12, 4, signed=True)
        used = min(size, rest)
        body = data[off + CMSG_HEADER:off + used]
        items.append(f"{{cmsg_len={size}, cmsg_level="
                     f"{lookup(level & 0xFFFFFFFF, tables.SOCKET_LEVELS, '{:#x} /* SOL_??? */')}"
                     f", cmsg_type={_cmsg_data(c, level, kind, body)}}}")
        if used < CMSG_HEADER:
            rest -= CMSG_HEADER
            break
        step = (size + align - 1) & -align
        if step >= rest:
            rest = 0
            break
        off, rest = off + step, rest - step
    if rest > 0:
        items.append(f"... /* {addr + length - rest:#x} */")
    elif length < controllen:
        items.append("...")
    return "[" + ", ".join(items) + "]"


def msghdr_text(c: Context, addr: int, namelen_in: int | None, data_size: int | None,
                netlink_of: int | None = None) -> str:
    """``{msg_name=NULL, msg_namelen=0, msg_iov=[...], msg_iovlen=1, msg_control=[...],
    msg_controllen=24, msg_flags=0}``; the iovecs' bytes up to ``data_size`` (None: all),
    ``msg_namelen=128 => 16`` where the kernel changed the length passed in; each iovec's
    netlink messages if ``netlink_of`` is a netlink protocol (sendmsg's, as strace 6.1:
    not recvmsg's)."""
    data = c.read(addr, MSGHDR_SIZE)
    if data is None:
        return address(addr)
    return _msghdr_fields(c, data, namelen_in, data_size, netlink_of)


def _msghdr_fields(c: Context, data: bytes, namelen_in: int | None,
                   data_size: int | None, netlink_of: int | None = None) -> str:
    word = c.abi.word
    namelen = word(data, 8, 4, signed=True)
    changed = namelen_in is not None and namelen_in != namelen
    name_len = namelen_in if namelen_in is not None and namelen > namelen_in else namelen
    iovlen, control, controllen = word(data, 24), word(data, 32), word(data, 40)
    shown = [f"msg_name={_sockaddr_at(c, word(data, 0), name_len)}",
             f"msg_namelen={f'{namelen_in} => ' if changed else ''}{namelen}",
             f"msg_iov={iovecs_text(c, word(data, 16), iovlen, data_size, netlink_of)}",
             f"msg_iovlen={iovlen}"]
    if controllen:
        shown.append(f"msg_control={_cmsgs(c, control, controllen)}")
    shown += [f"msg_controllen={controllen}",
              f"msg_flags={flags(word(data, 48, 4), tables.MSG_FLAGS)}"]
    return "{" + ", ".join(shown) + "}"


def _recvfrom_lengths(c: Context) -> tuple[int, int] | None:
    """recvfrom's address length as passed in and as the kernel left it (None: strace
    shows both pointers as addresses -- no address asked for, or unreadable)."""
    if not c.args[4] or c.socklen_in is None:
        return None
    data = c.read(c.args[5], 4)
    return None if data is None else (c.socklen_in, c.abi.word(data, 0, 4, signed=True))


def _recvfrom_source(c: Context) -> str:
    lengths = _recvfrom_lengths(c)
    if lengths is None or c.error is not None:
        return address(c.args[4])
    return _sockaddr_at(c, c.args[4], min(lengths))


def _recvfrom_length(c: Context) -> str:
    lengths = _recvfrom_lengths(c)
    if lengths is None:
        return address(c.args[5])
    before, after = lengths
    if c.error is not None or before == after:
        return f"[{before}]"
    return f"[{before} => {after}]"


def _remember_namelen(c: Context) -> str:
    """Nothing shown: recvmsg's msg_namelen as passed in, for ``128 => 16`` at exit."""
    data = c.read(c.args[1], MSGHDR_SIZE)
    c.socklen_in = c.abi.word(data, 8, 4, signed=True) if data is not None else None
    return ""


def _received_msghdr(c: Context) -> str:
    if c.socklen_in is None:  # unreadable at entry
        return address(c.args[1])
    if c.error is not None:
        return f"{{msg_namelen={c.socklen_in}}}"
    return msghdr_text(c, c.args[1], c.socklen_in, c.rval)


def _mmsghdrs(c: Context, count: int, lengths: int, received: bool) -> str:
    """``[{msg_hdr={...}, msg_len=5}, ...]``: ``count`` messages, the first ``lengths`` with
    the length the kernel wrote; a received message's bytes up to that length."""
    namelens = c.saved[0] if received and c.saved else ()

    def one(k: int, d: bytes) -> str:
        namelen_in = namelens[k] if k < len(namelens) else None
        msg_len = c.abi.word(d, MSGHDR_SIZE, 4)
        text = "{msg_hdr=" + _msghdr_fields(c, d, namelen_in, msg_len if received else None)
        return text + (f", msg_len={msg_len}}}" if k < lengths else "}")
    return array_text(c, c.args[1], min(count, 1024), MMSGHDR_SIZE, one)


def _sent_mmsghdrs(c: Context) -> str:
    return _mmsghdrs(c, c.args[2] & 0xFFFFFFFF, 0 if c.error is not None else c.rval, False)


def _remember_mmsg(c: Context) -> str:
    """Nothing shown: recvmmsg's name lengths and its timeout as they were at entry."""
    count = min(c.args[2] & 0xFFFFFFFF, 1024)
    data = c.read(c.args[1], count * MMSGHDR_SIZE) or b""
    namelens = tuple(c.abi.word(data, k * MMSGHDR_SIZE + 8, 4, signed=True)
                     for k in range(len(data) // MMSGHDR_SIZE))
    c.saved = (namelens, _timespec_at(c, c.args[4]) if c.args[4] else "NULL")
    return ""


def _received_mmsghdrs(c: Context) -> str:
    if c.error is not None:
        return address(c.args[1])
    return _mmsghdrs(c, c.rval, c.rval, True)


def _recvmmsg_result(c: Context, rval: int) -> str:
    if rval == 0:
        return "0 (Timeout)"
    return f"{rval} (left {_timespec_at(c, c.args[4])})" if c.args[4] else str(rval)


# -- waiting: wait4's rusage, waitid ------------------------------------------------------
WAITID_TYPES = {0: "P_ALL", 1: "P_PID", 2: "P_PGID", 3: "P_PIDFD"}


def rusage_at(c: Context, addr: int) -> str:
    data = c.read(addr, structs.RUSAGE_SIZE) if c.error is None else None
    return address(addr) if data is None else structs.rusage(data, c.abi, c.options.verbose)


def _waitid(c: Context) -> list[Arg]:
    def info(cc: Context) -> str:
        data = cc.read(cc.args[2], 128) if cc.error is None else None
        if data is None:
            return address(cc.args[2])
        return "{}" if cc.abi.word(data, 0, 4) == 0 else siginfo(data, cc.abi)  # WNOHANG: none
    ident = fd(1) if c.args[0] & 0xFFFFFFFF == 3 else num(1)  # P_PIDFD
    return [named(0, WAITID_TYPES, "{:#x} /* P_??? */"), ident, Arg(info, True),
            flagset(3, tables.WAIT_OPTIONS), Arg(lambda cc: rusage_at(cc, cc.args[4]))]


SPECS: dict[str, Spec] = {
    "read": [fd(0), buf_out(1), unum(2)],
    "write": [fd(0), buf_in(1, 2), unum(2)],
    "pread64": [fd(0), buf_out(1), unum(2), slong(3)],
    "pwrite64": [fd(0), buf_in(1, 2), unum(2), slong(3)],
    "readv": [fd(0), iovec_arg(1, 2, at_exit=True), unum(2)],
    "writev": [fd(0), iovec_arg(1, 2), unum(2)],
    "open": _open,
    "openat": _openat,
    "creat": [path(0), octal(1)],
    "close": [fd(0)],
    "dup": [fd(0)],
    "dup2": [fd(0), fd(1)],
    "dup3": [fd(0), fd(1), Arg(lambda c: flags(c.args[2] & 0xFFFFFFFF, c.abi.open_flags))],
    "pipe": [fd_pair_out(0)],
    "pipe2": [fd_pair_out(0),  # strace's open_mode_flags: the open flags, in their order
              Arg(lambda c: flags(c.args[1] & 0xFFFFFFFF, c.abi.open_flags))],
    "lseek": [fd(0), slong(1), named(2, tables.SEEK_WHENCE)],
    "stat": [path(0), _stat_out(1)],
    "lstat": [path(0), _stat_out(1)],
    "fstat": [fd(0), _stat_out(1)],
    "newfstatat": [dirfd(0), path(1), _stat_out(2), flagset(3, tables.AT_FLAGS)],
    "statx": [dirfd(0), path(1), Arg(lambda cc: _statx_flags(cc.args[2])),
              flagset(3, tables.STATX_MASK),
              struct_out(4, structs.STATX_SIZE,
                         lambda d, cc: structs.statx(d, cc.abi, cc.options.verbose))],
    "statfs": [path(0), _statfs_out(1)],
    "fstatfs": [fd(0), _statfs_out(1)],
    "access": [path(0), flagset(1, tables.ACCESS, "F_OK")],
    "faccessat": [dirfd(0), path(1), flagset(2, tables.ACCESS, "F_OK")],
    "faccessat2": [dirfd(0), path(1), flagset(2, tables.ACCESS, "F_OK"),
                   flagset(3, ((0x200, "AT_EACCESS"), (0x100, "AT_SYMLINK_NOFOLLOW"),
                               (0x1000, "AT_EMPTY_PATH")))],
    "readlink": [path(0), _readlink_buf(1), unum(2)],
    "readlinkat": [dirfd(0), path(1), _readlink_buf(2), unum(3)],
    "getcwd": _getcwd,
    "chdir": [path(0)],
    "fchdir": [fd(0)],
    "mkdir": [path(0), octal(1)],
    "mkdirat": [dirfd(0), path(1), octal(2)],
    "rmdir": [path(0)],
    "unlink": [path(0)],
    "unlinkat": [dirfd(0), path(1), flagset(2, tables.AT_FLAGS)],
    "rename": [path(0), path(1)],
    "renameat": [dirfd(0), path(1), dirfd(2), path(3)],
    "renameat2": [dirfd(0), path(1), dirfd(2), path(3),
                  flagset(4, ((1, "RENAME_NOREPLACE"), (2, "RENAME_EXCHANGE"),
                              (4, "RENAME_WHITEOUT")))],
    "symlink": [path(0), path(1)],
    "symlinkat": [path(0), dirfd(1), path(2)],
    "linkat": [dirfd(0), path(1), dirfd(2), path(3), flagset(4, tables.AT_FLAGS)],
    "fchownat": [dirfd(0), path(1), num(2), num(3), flagset(4, tables.AT_FLAGS)],
    "getsockname": _sockname,
    "getpeername": _sockname,
    "accept": [fd(0), _remember_socklen(2), sockaddr_out(1, 2), socklen_arg(2)],
    "accept4": [fd(0), _remember_socklen(2), sockaddr_out(1, 2), socklen_arg(2),
                flagset(3, tables.SOCKET_TYPE_FLAGS)],
    "getsockopt": lambda c: _sockopt(c, True),
    "setsockopt": lambda c: _sockopt(c, False),
    "getgroups": _getgroups,
    "epoll_create1": [flagset(0, tables.EPOLL_FLAGS)],
    "close_range": [fd(0), uint(1), flagset(2, ((2, "CLOSE_RANGE_UNSHARE"),
                                               (4, "CLOSE_RANGE_CLOEXEC")))],
    "pidfd_open": [num(0), flagset(1, ((0o4000, "PIDFD_NONBLOCK"),))],
    "memfd_create": [string(0), flagset(1, ((1, "MFD_CLOEXEC"),
                                            (2, "MFD_ALLOW_SEALING"),
                                            (4, "MFD_HUGETLB")))],
    "membarrier": [hexn(0), hexn(1)],
    "sched_getaffinity": [num(0), unum(1), exit_arg(Arg(_cpu_set), 2)],
    "link": [path(0), path(1)],
    "chmod": [path(0), octal(1)],
    "fchmod": [fd(0), octal(1)],
    "fchmodat": [dirfd(0), path(1), octal(2)],
    "chown": [path(0), num(1), num(2)],
    "fchown": [fd(0), num(1), num(2)],
    "umask": [octal(0)],
    "truncate": [path(0), slong(1)],
    "ftruncate": [fd(0), slong(1)],
    "fsync": [fd(0)],
    "fdatasync": [fd(0)],
    "getdents64": _getdents,
    "getdents": _getdents,
    "getxattr": [path(0), string(1), _getxattr_value(2, 3), unum(3)],
    "lgetxattr": [path(0), string(1), _getxattr_value(2, 3), unum(3)],
    "fgetxattr": [fd(0), string(1), _getxattr_value(2, 3), unum(3)],
    "fadvise64": [fd(0), slong(1), slong(2), named(3, tables.FADVISE)],
    "mmap": _mmap,
    "munmap": [ptr(0), unum(1)],
    "mprotect": [ptr(0), unum(1), flagset(2, tables.MMAP_PROT, "PROT_NONE")],
    "madvise": [ptr(0), unum(1), named(2, tables.MADVISE)],
    "mremap": lambda c: [ptr(0), unum(1), unum(2),
                         flagset(3, ((1, "MREMAP_MAYMOVE"), (2, "MREMAP_FIXED"),
                                     (4, "MREMAP_DONTUNMAP")))]
    + ([ptr(4)] if c.args[3] & 2 else []),
    "brk": [ptr(0)],
    "execve": _execve,
    "execveat": _execveat,
    "exit": [num(0)],
    "exit_group": [num(0)],
    "wait4": _wait4,
    "kill": _kill,
    "tkill": [num(0), sig(1)],
    "tgkill": [num(0), num(1), sig(2)],
    "clone": _clone,
    "clone3": _clone3,
    "fork": [],
    "vfork": [],
    "futex": _futex,
    "set_robust_list": [ptr(0), unum(1)],
    "set_tid_address": [ptr(0)],
    "rseq": [ptr(0), hexn(1), num(2), hexn(3)],
    "arch_prctl": _arch_prctl,
    "prlimit64": _prlimit,
    "getrlimit": [named(0, tables.RLIMITS), rlimit_arg(1, at_exit=True)],
    "setrlimit": [named(0, tables.RLIMITS), rlimit_arg(1)],
    "rt_sigaction": [sig(0), sigaction_arg(1), sigaction_arg(2, at_exit=True),
                     unum(3)],
    "rt_sigprocmask": [named(0, tables.SIGPROCMASK_HOW), sigset_arg(1, 3),
                       sigset_arg(2, 3, at_exit=True), unum(3)],
    "rt_sigsuspend": [sigset_arg(0, 1), unum(1)],
    "rt_sigreturn": _rt_sigreturn,
    "sigreturn": _sigreturn_mask(SIGRETURN_MASK),
    "socketpair": _socketpair,
    "prctl": _prctl,
    "shmget": lambda c: [ipc_key(0), unum(1), ipc_resource(2, SHM_RESOURCE_FLAGS)],
    "shmat": lambda c: [num(0), ptr(1), flagset(2, SHMAT_FLAGS)],
    "shmdt": lambda c: [ptr(0)],
    "shmctl": lambda c: [num(0), ipc_cmd(1, SHM_CMDS), ptr(2)],
    "semget": lambda c: [ipc_key(0), num(1), ipc_resource(2, IPC_RESOURCE_FLAGS)],
    "semctl": _semctl,
    "msgget": lambda c: [ipc_key(0), ipc_resource(1, IPC_RESOURCE_FLAGS)],
    "msgctl": lambda c: [num(0), ipc_cmd(1, MSG_CMDS), ptr(2)],
    "sigaltstack": _sigaltstack,
    "getrandom": [buf_out(0, force_hex=True), unum(1),
                  flagset(2, tables.GETRANDOM_FLAGS)],
    "sysinfo": [struct_out(0, structs.SYSINFO_SIZE,
                           lambda d, cc: structs.sysinfo(d, cc.abi))],
    "uname": [struct_out(0, 390, lambda d, cc: structs.utsname(d,
                                                                cc.options.verbose))],
    "socket": _socket,
    "connect": [fd(0), sockaddr_arg(1, 2), uint(2)],
    "bind": [fd(0), sockaddr_arg(1, 2), uint(2)],
    "listen": [fd(0), num(1)],
    "shutdown": [fd(0), named(1, {0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"},
                              "{:#x} /* SHUT_??? */")],
    "send": [fd(0), sock_in(1, 2), unum(2), flagset(3, tables.MSG_FLAGS)],
    "recv": [fd(0), sock_out(1), unum(2), flagset(3, tables.MSG_FLAGS)],
    "sendto": [fd(0), sock_in(1, 2), unum(2), flagset(3, tables.MSG_FLAGS),
               sockaddr_arg(4, 5), uint(5)],
    "recvfrom": [fd(0), _remember_socklen(5), sock_out(1), unum(2),
                 flagset(3, tables.MSG_FLAGS), Arg(_recvfrom_source, True),
                 Arg(_recvfrom_length, True)],
    "poll": _poll,
    "ppoll": _ppoll,
    "select": _select(_timeval_at, masked=False),
    "_newselect": _select(_timeval_at, masked=False),
    "pselect6": _select(_timespec_at, masked=True),
    "epoll_create": [num(0)],
    "signalfd4": [fd(0), sigset_arg(1, 2), unum(2), flagset(3, SIGNALFD_FLAGS)],
    "signalfd": [fd(0), sigset_arg(1, 2), unum(2)],
    "eventfd2": [uint(0), flagset(1, EVENTFD_FLAGS)],
    "capget": [Arg(_cap_header), Arg(_cap_data, True)],
    "capset": [Arg(_cap_header), Arg(_cap_data)],
    "pkey_alloc": [hexn(0), flagset(1, PKEY_RIGHTS)],
    "pkey_free": [num(0)],
    "pkey_mprotect": [ptr(0), unum(1), flagset(2, tables.MMAP_PROT, "PROT_NONE"), num(3)],
    "eventfd": [uint(0)],
    "timerfd_create": [named(0, tables.CLOCKS), flagset(1, TIMERFD_FLAGS)],
    "timerfd_settime": [fd(0), flagset(1, TIMERFD_FLAGS), struct_in(2, 32, _itimerspec),
                        struct_out(3, 32, _itimerspec)],
    "timerfd_gettime": [fd(0), struct_out(1, 32, _itimerspec)],
    "setitimer": [named(0, ITIMERS), struct_in(1, 32, _itimerval), struct_out(2, 32, _itimerval)],
    "getitimer": [named(0, ITIMERS), struct_out(1, 32, _itimerval)],
    "inotify_init1": [flagset(0, INOTIFY_FLAGS)],
    "epoll_ctl": _epoll_ctl,
    "epoll_wait": _epoll_wait(num(3), masked=False),
    "epoll_pwait": _epoll_wait(num(3), masked=True),
    "epoll_pwait2": _epoll_wait(timespec_arg(3), masked=True),
    "sendmsg": [fd(0), Arg(lambda c: msghdr_text(c, c.args[1], None, None,
                                                 netlink_protocol(c, c.args[0]))),
                flagset(2, tables.MSG_FLAGS)],
    "recvmsg": [fd(0), Arg(_remember_namelen, glue=True), Arg(_received_msghdr, True),
                flagset(2, tables.MSG_FLAGS)],
    "sendmmsg": [fd(0), Arg(_sent_mmsghdrs, True), uint(2), flagset(3, tables.MSG_FLAGS)],
    "recvmmsg": [fd(0), Arg(_remember_mmsg, glue=True), Arg(_received_mmsghdrs, True),
                 uint(2), flagset(3, tables.MSG_FLAGS), Arg(lambda c: c.saved[1])],
    "waitid": _waitid,
    "ioctl": _ioctl,
    "fcntl": _fcntl,
    "nanosleep": [timespec_arg(0), exit_arg(ptr(1))],
    "clock_nanosleep": [named(0, tables.CLOCKS), flagset(1, ((1, "TIMER_ABSTIME"),)),
                        timespec_arg(2), exit_arg(ptr(3))],
    "clock_gettime": [named(0, tables.CLOCKS),
                      struct_out(1, 16, lambda d, cc: structs.timespec(d, cc.abi))],
    "gettimeofday": [struct_out(0, 16, lambda d, cc: structs.timeval(d, cc.abi)),
                     exit_arg(ptr(1))],
    "sched_yield": [],
    "pause": [],
    "alarm": [unum(0)],
}
SPECS["ugetrlimit"] = SPECS["getrlimit"]  # powerpc's name for it
for _name in ("getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
              "getpgrp", "setsid", "sync", "restart_syscall", "munlockall", "vhangup"):
    SPECS[_name] = []


def _statx_flags(value: int) -> str:
    value &= 0xFFFFFFFF
    sync = tables.STATX_SYNC.get(value & 0x6000, "AT_STATX_SYNC_TYPE")
    rest = flags(value & ~0x6000, tables.AT_FLAGS, "")
    return f"{sync}|{rest}" if rest else sync


# -- the public steps ----------------------------------------------------------------
class Plan:
    """A call's arguments split where strace splits them: those shown at entry, the rest
    at exit; worked out once per call name when they do not depend on its values."""

    __slots__ = ("opening", "entry", "rest", "bare")

    def __init__(self, name: str, parts: list[Arg]):
        first_exit = next((k for k, a in enumerate(parts) if a.at_exit), len(parts))
        self.opening = f"{name}("
        self.entry = tuple(parts[:first_exit])
        self.rest = parts[first_exit:]
        #: A call with no arguments (getpid()) is the same at every call: one Pending for all.
        self.bare = None if parts else Pending(None, self.opening, (), (), name)


_PLANS: dict[str, Plan] = {}  # call name -> its Plan, for the calls with a list in SPECS


class Pending:
    """A call whose entry is printed and whose exit is still to come.

    ``arguments`` holds each argument's text as shown so far (the entry's, then
    after :func:`decode_exit` the exit's too): for ``--json`` and other readers
    that want them one by one rather than as strace's line.  ``ctx`` is None for
    a call with no arguments at all (nothing to render, nothing to read).
    """

    __slots__ = ("ctx", "entry_text", "rest", "arguments", "name")

    def __init__(self, ctx: Context | None, entry_text: str, rest: list[Arg],
                 arguments: list[str] | None = None, name: str | None = None):
        self.ctx, self.entry_text, self.rest = ctx, entry_text, rest
        self.arguments = arguments if arguments is not None else []
        self.name = name if name is not None else ctx.name


def decode_entry(abi: Abi, name: str, args: tuple[int, ...], mem: Memory,
                 options: TraceOptions | None = None, sp: int = 0,
                 fd_path: FdPath | None = None) -> Pending:
    """``name(arg, arg, `` as strace prints it when the call starts."""
    if name in multiplexed.CARRIERS:  # socketcall, ipc, s390x's mmap: the call they carry
        inside = multiplexed.carried(abi, name, args, mem)
        if inside is not None:
            ctx = Context(abi, inside.name, inside.args, mem, options or DEFAULT_OPTIONS, sp,
                          fd_path)
            ctx.carried = inside
            parts = _parts(SPECS.get(inside.name), ctx, inside.args)
            return _entered(Plan(inside.name, parts), ctx, inside.name)
    plan = _PLANS.get(name)
    if plan is None:
        spec = SPECS.get(name)
        if type(spec) is list:
            plan = _PLANS[name] = Plan(name, spec)
        else:  # the arguments depend on the call (or on python-ptrace's prototype)
            ctx = Context(abi, name, args, mem, options or DEFAULT_OPTIONS, sp, fd_path)
            return _entered(Plan(name, _parts(spec, ctx, args)), ctx, name)
    if plan.bare is not None:  # getpid(): nothing to decode
        return plan.bare
    return _entered(plan, Context(abi, name, args, mem, options or DEFAULT_OPTIONS, sp,
                                  fd_path), name)


def fixed_entry(name: str) -> Pending | None:
    """The one Pending :func:`decode_entry` gives every call of ``name`` if nothing of the
    call shows in it (no arguments: ``getppid(``), else None.  A logger may keep it by call
    number instead of decoding each such entry."""
    if name in multiplexed.CARRIERS:
        return None
    plan = _PLANS.get(name)
    if plan is None:
        spec = SPECS.get(name)
        if type(spec) is not list:
            return None
        plan = _PLANS[name] = Plan(name, spec)
    return plan.bare


def _parts(spec: Spec | None, ctx: Context, args: tuple[int, ...]) -> list[Arg]:
    """A call's arguments as its spec (or python-ptrace's prototype) gives them."""
    if spec is None:
        return generic_arguments(ctx.name, args)
    return spec if type(spec) is list else spec(ctx)


def _entered(plan: Plan, ctx: Context, name: str) -> Pending:
    texts: list[str] = []
    shown = _render(ctx, plan.entry, texts)
    rest = plan.rest
    text = plan.opening + shown + (", " if shown and rest and not rest[0].glue else "")
    return Pending(ctx, text, rest, texts, name)


def _render(ctx: Context, args, texts: list[str]) -> str:
    """The arguments as strace joins them (", " between, none before a glued one such as
    clone3's " => {...}"); each one's text is added to ``texts``, a glued one to the
    argument before it."""
    out = ""
    for k, arg in enumerate(args):
        text = arg.render(ctx)
        out += ("" if arg.glue or not k else ", ") + text
        if not arg.glue:
            texts.append(text)
        elif texts:
            texts[-1] += text
    return out


def decode_exit(pending: Pending, rval: int, error: int | None, mem: Memory | None = None) -> str:
    """The arguments strace prints at the exit, and the closing parenthesis."""
    ctx = pending.ctx
    if ctx is None:
        return ")"
    ctx.rval, ctx.error, ctx.exiting = rval, error, True
    if mem is not None:  # (the result may read it too: select's sets, poll's revents)
        ctx.mem = mem
    if not pending.rest:
        return ")"
    return _render(ctx, pending.rest, pending.arguments) + ")"


#: Calls whose success value strace shows in hex (an address).
HEX_RESULTS = frozenset({"mmap", "brk", "mremap", "shmat", "mmap2", "sbrk"})
#: Calls that return a new file descriptor (``-y`` shows its path).
FD_RESULTS = frozenset({"open", "openat", "creat", "dup", "dup2", "dup3", "socket", "accept",
                        "accept4", "eventfd2", "epoll_create1", "memfd_create", "pidfd_open",
                        "signalfd4", "timerfd_create", "inotify_init1", "fcntl",
                        "epoll_create", "signalfd", "eventfd"})
ERRNO_NAMES = {95: "EOPNOTSUPP", 11: "EAGAIN", 35: "EDEADLK"}
#: The calls whose success value is not simply shown in decimal.
SHOWN_OTHERWISE = HEX_RESULTS | FD_RESULTS | {"umask", "poll", "ppoll", "select", "_newselect",
                                              "pselect6", "recvmmsg"}


@cache
def errno_text(err: int) -> str:
    """``-1 ENOENT (No such file or directory)``; the kernel's restart codes by strace's names."""
    if err in tables.RESTART_CODES:
        name, words = tables.RESTART_CODES[err]
        return f"? {name} ({words})"
    name = ERRNO_NAMES.get(err) or errno_names.errorcode.get(err, f"errno {err}")
    return f"-1 {name} ({os.strerror(err)})"


def format_result(pending: Pending | None, name: str, rval: int, error: int | None) -> str:
    """What strace prints after ``= ``."""
    if error is not None:
        return errno_text(error)
    ctx = pending.ctx if pending is not None else None
    if ctx is not None and ctx.carried is not None and ctx.carried.result_at:
        data = ctx.read(ctx.carried.result_at, ctx.abi.word_size)  # ipc's shmat: see there
        rval = ctx.abi.word(data) if data is not None else rval
    if name not in SHOWN_OTHERWISE:
        return str(rval)
    if name in HEX_RESULTS:
        return f"{rval & ((1 << 64) - 1):#x}"
    if name == "umask":
        return structs.octal(rval)
    if name == "fcntl" and ctx is not None:
        cmd = ctx.args[1] & 0xFFFFFFFF
        if cmd == 1:
            return f"{rval:#x} (flags {flags(rval, tables.FD_FLAGS)})" if rval else "0"
        if cmd == 3:
            return f"{rval:#x} (flags {open_flags(ctx, rval)})"
        if cmd not in (0, 1030):
            return str(rval)
    if name in ("poll", "ppoll") and ctx is not None:
        return _poll_result(ctx, rval)
    if name in ("select", "_newselect", "pselect6") and ctx is not None:
        return _select_result(ctx, rval)
    if name == "recvmmsg" and ctx is not None:
        return _recvmmsg_result(ctx, rval)
    if name in FD_RESULTS and ctx is not None and rval >= 0:
        return fd_text(ctx, rval)
    return str(rval)


_BY_KIND = {"path": path, "ptr": ptr, "int": num, "long": slong, "unsigned": unum}


def generic_arguments(name: str, args: tuple[int, ...]) -> list[Arg]:
    """A call we have no decoder of, printed by its C prototype (hex if none)."""
    key = (name, len(args))
    parts = _GENERIC.get(key)
    if parts is None:
        parts = _GENERIC[key] = _by_prototype(name, len(args))
    return parts


_GENERIC: dict[tuple[str, int], list[Arg]] = {}


def _by_prototype(name: str, count: int) -> list[Arg]:
    kinds = argument_kinds(name)
    if kinds is None:
        return [hexn(i) for i in range(count)]
    return [_BY_KIND[kind](i) for i, kind in enumerate(kinds)]
