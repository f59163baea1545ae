"""Calls that carry another call inside: what strace prints in their place.

``socketcall(call, args)`` (s390x's glibc makes every socket call through it)
and ``ipc(call, first, second, third, ptr, fifth)`` (System V IPC through
glibc on ppc64 and s390x) are printed by strace as the call they carry,
``socket(AF_UNIX, ...)``, ``shmget(...)``; s390x's ``mmap`` takes its six
arguments in a block in memory (the kernel's ``old_mmap``).  Each is turned
here into the plain call's name and arguments (pure: the tracee's memory is
read through the :class:`Memory` given), then decoded as that call.
"""

from __future__ import annotations

from typing import NamedTuple

from .abi import Abi
from .memory import Memory

#: linux/net.h's SYS_* numbers: the call and how many words its arguments take.
SOCKETCALLS = {
    1: ("socket", 3), 2: ("bind", 3), 3: ("connect", 3), 4: ("listen", 2), 5: ("accept", 3),
    6: ("getsockname", 3), 7: ("getpeername", 3), 8: ("socketpair", 4), 9: ("send", 4),
    10: ("recv", 4), 11: ("sendto", 6), 12: ("recvfrom", 6), 13: ("shutdown", 2),
    14: ("setsockopt", 5), 15: ("getsockopt", 5), 16: ("sendmsg", 3), 17: ("recvmsg", 3),
    18: ("accept4", 4), 19: ("recvmmsg", 5), 20: ("sendmmsg", 4),
}
#: linux/ipc.h's numbers; each takes its arguments from ipc's (first, second, third, ptr,
#: fifth) as ipc/syscall.c passes them on.
IPC_CALLS = {
    1: ("semop", (0, 3, 1)), 2: ("semget", (0, 1, 2)), 3: ("semctl", (0, 1, 2, 3)),
    4: ("semtimedop", (0, 3, 1, 4)), 11: ("msgsnd", (0, 3, 1, 2)),
    12: ("msgrcv", (0, 3, 1, 4, 2)), 13: ("msgget", (0, 1)), 14: ("msgctl", (0, 1, 3)),
    21: ("shmat", (0, 3, 1)), 22: ("shmdt", (3,)), 23: ("shmget", (0, 1, 2)),
    24: ("shmctl", (0, 1, 3)),
}
IPC_SHMAT = 21
IPC_SEMCTL = 3
#: The names :func:`carried` may turn into another call (a cheap test before calling it).
CARRIERS = frozenset({"socketcall", "ipc", "mmap"})


class Carried(NamedTuple):
    name: str
    args: tuple[int, ...]
    #: ipc's shmat returns 0 and writes the address to this word: strace shows it as the result
    result_at: int = 0
    #: ipc's semctl passes its union semun by address: strace shows the word there
    by_reference: bool = False


def subcall_name(name: str, args: tuple[int, ...]) -> str:
    """The name strace counts and prints for this call (``-c`` needs only this)."""
    if name == "socketcall" and args:
        return SOCKETCALLS.get(args[0] & 0xFFFFFFFF, (name, 0))[0]
    if name == "ipc" and args:
        return IPC_CALLS.get(args[0] & 0xFFFF, (name, ()))[0]
    return name


def carriers_of(names) -> set[str]:
    """The calls that may carry one of ``names`` (``{"socketcall"}`` for ``connect``): a
    filter on ``names`` must let them through too, as strace's ``--seccomp-bpf`` does."""
    out = set()
    if any(sub in names for sub, _ in SOCKETCALLS.values()):
        out.add("socketcall")
    if any(sub in names for sub, _ in IPC_CALLS.values()):
        out.add("ipc")
    return out


def carried(abi: Abi, name: str, args: tuple[int, ...], mem: Memory) -> Carried | None:
    """The plain call inside ``name(args)``, or None if it is one already (or unreadable)."""
    if name == "socketcall":
        known = SOCKETCALLS.get(args[0] & 0xFFFFFFFF)
        if known is None:
            return None
        words = _words(abi, mem, args[1], known[1])
        return None if words is None else Carried(known[0], words)
    if name == "ipc":
        known = IPC_CALLS.get(args[0] & 0xFFFF)
        if known is None:
            return None
        sub, picks = known
        inner = tuple(args[1:6]) + (0,) * (5 - len(args[1:6]))
        return Carried(sub, tuple(inner[k] for k in picks),
                       result_at=inner[2] if args[0] & 0xFFFF == IPC_SHMAT else 0,
                       by_reference=args[0] & 0xFFFF == IPC_SEMCTL)
    if name == "mmap" and abi.name == "s390x":
        words = _words(abi, mem, args[0], 6)
        return None if words is None else Carried("mmap", words)
    return None


def _words(abi: Abi, mem: Memory, addr: int, count: int) -> tuple[int, ...] | None:
    try:
        data = mem.read(addr, count * abi.word_size)
    except OSError:
        return None
    if len(data) < count * abi.word_size:
        return None
    return tuple(abi.word(data, k * abi.word_size) for k in range(count))
