"""Reading a tracee's memory for people: strings and byte blocks.

``process_vm_readv`` works from any thread and needs no stop; it fails at an
unmapped page, so strings are read a page at a time up to their NUL.
"""

from __future__ import annotations

from . import kernel

PAGE_SIZE = 4096


def read_string(pid: int, address: int, limit: int = 4096) -> tuple[bytes, bool]:
    """The NUL-terminated string at ``address``: ``(bytes, complete)``.

    ``complete`` is False when ``limit`` cut it or memory ended before a NUL.
    Raises :class:`kernel.KernelError` if nothing at all can be read.
    """
    out = b""
    while len(out) < limit:
        chunk_end = min((address // PAGE_SIZE + 1) * PAGE_SIZE, address + limit - len(out))
        try:
            chunk = kernel.read_memory(pid, address, chunk_end - address)
        except kernel.KernelError:
            if out:
                return out, False
            raise
        nul = chunk.find(b"\0")
        if nul >= 0:
            return out + chunk[:nul], True
        if not chunk:
            return out, False
        out += chunk
        address += len(chunk)
    return out[:limit], False
