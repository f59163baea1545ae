"""strace's ``-e read=SET`` / ``-e write=SET``: the data a call moved, in hex and ASCII.

After the line of a successful call on one of the fds, strace prints every
byte it read (the result's count) or was asked to write (the count
argument), 16 a line::

     | 00000  68 65 6c 6c 6f 0a                                hello.           |

For the vector calls each buffer comes under `` * N bytes in buffer I``, up
to the first empty one (strace's dumpiov).  The calls are strace's list
(its dumpio): read, pread64, recvfrom, mq_timedreceive, readv, preadv,
preadv2; write, pwrite64, sendto, mq_timedsend, writev, pwritev, pwritev2,
vmsplice.  Not done: sendmsg, recvmsg, sendmmsg, recvmmsg (their buffers are
inside a msghdr).

Pure but for the memory a caller hands in.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Protocol


class Memory(Protocol):
    def read(self, address: int, size: int) -> bytes: ...


#: name -> (buffer argument, count argument or None for the result's)
READS = {name: (1, None) for name in ("read", "pread64", "recvfrom", "recv",
                                      "mq_timedreceive")}
READ_VECTORS = frozenset({"readv", "preadv", "preadv2"})
WRITES = {name: (1, 2) for name in ("write", "pwrite64", "sendto", "send", "mq_timedsend")}
WRITE_VECTORS = frozenset({"writev", "pwritev", "pwritev2", "vmsplice"})
_PRINTABLE = bytes(c if 0x20 <= c < 0x7F else ord(".") for c in range(256))


def hex_lines(data: bytes) -> str:
    """strace's dumpstr: `` | OFFSET  16 bytes in hex (8 + 8)  16 as ASCII |`` lines."""
    out = []
    for offset in range(0, len(data), 16):
        chunk = data[offset:offset + 16]
        hexes = ""
        for i in range(16):
            hexes += f"{chunk[i]:02x} " if i < len(chunk) else "   "
            if i in (7, 15):
                hexes += " "
        text = chunk.translate(_PRINTABLE).decode("ascii")
        out.append(f" | {offset:05x}  {hexes}{text:<16} |\n")
    return "".join(out)


def dump(name: str, args: tuple[int, ...], rval: int, reads: Container[int] | None,
         writes: Container[int] | None, memory: Memory, word_size: int = 8,
         byteorder: str = "little") -> str:
    """The dump that follows a successful call's line ("" if none)."""
    fd = args[0] & 0xFFFFFFFF
    if fd >= 0x80000000:
        return ""
    if reads is not None and fd in reads:
        if name in READS:
            return _buffer(memory, args[1], rval)
        if name in READ_VECTORS:
            return _vector(memory, args[1], args[2], rval, word_size, byteorder)
    if writes is not None and fd in writes:
        if name in WRITES:
            return _buffer(memory, args[1], args[2])
        if name in WRITE_VECTORS:
            return _vector(memory, args[1], args[2], -1, word_size, byteorder)
    return ""


def _buffer(memory: Memory, address: int, size: int) -> str:
    if size <= 0:
        return ""
    try:
        return hex_lines(memory.read(address, size))
    except OSError:
        return ""


def _vector(memory: Memory, address: int, count: int, total: int, word_size: int,
            byteorder: str) -> str:
    """Each iovec's bytes (``total``: how many the call moved; -1: every buffer's)."""
    out = ""
    left = total if total >= 0 else None
    for index in range(min(count & 0xFFFFFFFF, 1024)):
        try:
            raw = memory.read(address + 2 * word_size * index, 2 * word_size)
        except OSError:
            break
        base = int.from_bytes(raw[:word_size], byteorder)
        size = int.from_bytes(raw[word_size:], byteorder)
        if left is not None:
            size = min(size, left)
            left -= size
        if not size:
            break
        out += f" * {size} bytes in buffer {index}\n" + _buffer(memory, base, size)
    return out
