"""strace's ``-P PATH``: does a system call access one of the traced paths?

strace's rules (its pathtrace.c, read for the facts): only calls of the
``%file``, ``%desc`` and ``%network`` classes can; a call's *path* arguments
match when the string the program passed is one of the paths, byte for byte
(no normalising: strace adds each path's ``realpath`` to the set instead, see
:func:`path_set`); its *fd* arguments match when ``/proc/TID/fd/N`` points at
one of them, read at the call's entry (so ``close(3)`` of the file matches, and
``AT_FDCWD`` never does).  Which arguments are paths and which are fds is
strace's table below; a call not in it has its first argument checked, as a
path for a ``%file`` call, else as an fd.

Pure but for two reads a caller hands in (the tracee's memory and its fd
links), so the rules are unit-tested without a process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Protocol

from pydbg_utrace import kernel, read_string

from .syscall_classes import CLASSES

PATH_MAX = 4096


class Memory(Protocol):
    def read(self, address: int, size: int) -> bytes: ...
    def read_string(self, address: int, limit: int) -> tuple[bytes, bool]: ...


#: Which arguments are ("fd", n) or ("path", n), for the calls whose first argument
#: alone does not say it (strace's special cases).
_FD_FD = (("fd", 0), ("fd", 1))
_FD_PATH = (("fd", 0), ("path", 1))
ARGUMENTS: dict[str, tuple[tuple[str, int], ...]] = {
    **dict.fromkeys(("dup2", "dup3", "kexec_file_load", "sendfile", "sendfile64", "tee"),
                    _FD_FD),
    **dict.fromkeys(("execveat", "faccessat", "faccessat2", "fchmodat", "fchmodat2",
                     "fchownat", "fspick", "fstatat64", "newfstatat", "futimesat",
                     "getxattrat", "inotify_add_watch", "mkdirat", "mknodat",
                     "mount_setattr", "name_to_handle_at", "open_tree", "openat", "openat2",
                     "readlinkat", "setxattrat", "statx", "unlinkat", "utimensat",
                     "utimensat_time64"), _FD_PATH),
    **dict.fromkeys(("link", "mount", "pivot_root"), (("path", 0), ("path", 1))),
    **dict.fromkeys(("quotactl", "symlink"), (("path", 1),)),
    **dict.fromkeys(("linkat", "move_mount", "renameat", "renameat2"),
                    (("fd", 0), ("fd", 2), ("path", 1), ("path", 3))),
    **dict.fromkeys(("mmap", "mmap2"), (("fd", 4),)),
    "symlinkat": (("fd", 1), ("path", 2)),
    **dict.fromkeys(("copy_file_range", "splice"), (("fd", 0), ("fd", 2))),
    "epoll_ctl": (("fd", 2),),
    "fanotify_mark": (("fd", 3), ("path", 4)),  # (64-bit: the mask is one register)
    # No fd or path argument to test, though in the classes:
    **dict.fromkeys(("bpf", "epoll_create", "epoll_create1", "eventfd", "eventfd2",
                     "fanotify_init", "fsopen", "inotify_init", "inotify_init1",
                     "io_uring_setup", "landlock_create_ruleset", "memfd_create",
                     "memfd_secret", "mq_open", "perf_event_open", "pidfd_open", "pipe",
                     "pipe2", "socket", "socketpair", "timerfd_create", "userfaultfd"), ()),
}
SELECTS = frozenset({"select", "pselect6", "_newselect"})
POLLS = frozenset({"poll", "ppoll"})
FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY, FSCONFIG_SET_FD = 3, 4, 5


#: The name a call ``-P`` hides is given: in no ``-e trace=`` set.
HIDDEN = ""


class EveryName:
    """``-P`` without ``-e trace=``: every name is traced (but :data:`HIDDEN`)."""

    def __contains__(self, name: object) -> bool:
        return name != HIDDEN


class ThreadReads:
    """A thread's memory (``process_vm_readv``: no stop needed) and fd links, for
    :meth:`PathFilter.matches` from an engine that has no reader of its own."""

    def __init__(self, tid: int) -> None:
        self.tid = tid

    def read(self, address: int, size: int) -> bytes:
        return kernel.read_memory(self.tid, address, size) if size > 0 else b""

    def read_string(self, address: int, limit: int) -> tuple[bytes, bool]:
        return read_string(self.tid, address, limit)

    def link(self, fd: int) -> str | None:
        try:
            return os.readlink(f"/proc/{self.tid}/fd/{fd}")
        except OSError:
            return None


def path_set(paths: Iterable[str]) -> tuple[frozenset[str], list[str]]:
    """The paths ``-P`` compares with, and strace's notes on them.

    Each path as given, and its ``realpath`` too if that differs (strace:
    ``Requested path "/tmp/pw" resolved into "/etc/passwd"``).
    """
    chosen: list[str] = []
    notes = []
    for path in paths:
        if path not in chosen:
            chosen.append(path)
        if not os.path.exists(path):
            continue  # (strace's realpath() fails: the path alone)
        real = os.path.realpath(path)
        if real != path:
            notes.append(f"Requested path {_quoted(path)} resolved into {_quoted(real)}")
            if real not in chosen:
                chosen.append(real)
    return frozenset(chosen), notes


def _quoted(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


class PathFilter:
    """``matches(name, args, memory, fd_link)``: does this call access one of ``paths``?

    ``fd_link(fd)`` is what ``/proc/TID/fd/FD`` points at (None if nothing).
    """

    def __init__(self, paths: Iterable[str], arch_name: str) -> None:
        self.paths = frozenset(os.fsencode(path) for path in paths)
        self.links = frozenset(paths)
        self.arch_name = arch_name
        classes = CLASSES["ppc64" if arch_name.startswith("ppc64") else arch_name]
        self.file_calls = classes["file"]
        self.fd_calls = classes["desc"] | classes["network"]

    def thread_accesses(self, thread, name: str, args: tuple[int, ...]) -> bool:
        """:meth:`matches` for ``thread`` (a :class:`pydbg_utrace.Thread` at a syscall stop)."""
        reads = ThreadReads(thread.tid)
        return self.matches(name, args, reads, reads.link, thread.arch.word_size,
                            thread.arch.byteorder)

    def matches(self, name: str, args: tuple[int, ...], memory: Memory,
                fd_link: Callable[[int], str | None], word_size: int = 8,
                byteorder: str = "little") -> bool:
        is_file = name in self.file_calls
        if not is_file and name not in self.fd_calls:
            return False
        args = tuple(args) + (0,) * 6
        special = ARGUMENTS.get(name)
        if special is not None:
            return any(self._path(memory, args[n]) if kind == "path" else
                       self._fd(fd_link, args[n]) for kind, n in special)
        if name in SELECTS:
            return self._select(args, memory, fd_link, word_size, byteorder)
        if name in POLLS:
            return self._poll(args, memory, fd_link, byteorder)
        if name == "fsconfig":
            command = args[1] & 0xFFFFFFFF
            if command in (FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY):
                return self._fd(fd_link, args[4]) or self._path(memory, args[3])
            return command == FSCONFIG_SET_FD and self._fd(fd_link, args[4])
        if is_file:
            return self._path(memory, args[0])
        return self._fd(fd_link, args[0])

    def _path(self, memory: Memory, address: int) -> bool:
        if not address:
            return False
        try:
            text, _complete = memory.read_string(address, PATH_MAX + 1)
        except OSError:
            return False
        return text in self.paths

    def _fd(self, fd_link: Callable[[int], str | None], value: int) -> bool:
        fd = value & 0xFFFFFFFF  # the kernel takes an int, as strace does
        if fd >= 0x80000000:
            return False  # negative: AT_FDCWD, -1
        return fd_link(fd) in self.links

    def _select(self, args, memory: Memory, fd_link, word_size: int, byteorder: str) -> bool:
        nfds = args[0] & 0xFFFFFFFF
        if nfds == 0 or nfds >= 0x80000000:
            return False
        nfds = min(nfds, 1024 * 1024)
        size = ((nfds + 7) // 8 + word_size - 1) & -word_size
        for address in args[1:4]:
            if not address:
                continue
            try:
                data = memory.read(address, size)
            except OSError:
                continue
            # The kernel's fd_set: an array of longs, fd N is bit N % bits of long N / bits
            bits = 8 * word_size
            for first in range(0, min(nfds, 8 * len(data)), bits):
                word = int.from_bytes(data[first // 8:first // 8 + word_size], byteorder)
                for fd in range(first, min(first + bits, nfds)):
                    if word >> (fd - first) & 1 and fd_link(fd) in self.links:
                        return True
        return False

    def _poll(self, args, memory: Memory, fd_link, byteorder: str) -> bool:
        start, nfds = args[0], min(args[1] & 0xFFFFFFFF, 1024 * 1024)
        for n in range(nfds):
            try:
                entry = memory.read(start + 8 * n, 8)  # struct pollfd {int fd; short; short}
            except OSError:
                return False
            fd = int.from_bytes(entry[:4], byteorder, signed=True)
            if fd >= 0 and fd_link(fd) in self.links:
                return True
        return False
