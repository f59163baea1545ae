"""What decoding reads through: the tracee's memory, behind a small protocol.

The logger passes an object over ``process_vm_readv``; the unit tests pass
:class:`BytesMemory` over real bytes.  Either raises :class:`Unreadable`
(or any ``OSError``) where the tracee's memory cannot be read, and the
decoder then prints the address, as strace does.
"""

from __future__ import annotations

from typing import Protocol


class Unreadable(OSError):
    """The tracee's memory at that address cannot be read."""


class Memory(Protocol):
    def read(self, address: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``address`` (fewer at the end of a mapping)."""

    def read_string(self, address: int, limit: int) -> tuple[bytes, bool]:
        """The NUL-terminated string at ``address``: ``(bytes, complete)``, at most ``limit``."""

    # Optional (looked up with getattr): ``netlink_protocol(fd) -> int | None``, the
    # protocol of the tracee's netlink socket ``fd`` (-1: not bound yet, so unknown), None
    # if ``fd`` is no netlink socket.  Without it no buffer is decoded as netlink.


class BytesMemory:
    """A memory made of byte strings at given addresses (tests; core files)."""

    def __init__(self, regions: dict[int, bytes] | None = None,
                 netlinks: dict[int, int] | None = None):
        self.regions = dict(regions or {})
        self.netlinks = dict(netlinks or {})  # fd -> its netlink protocol (-1: unbound)

    def netlink_protocol(self, fd: int) -> int | None:
        return self.netlinks.get(fd)

    def _find(self, address: int) -> tuple[int, bytes]:
        for base, data in self.regions.items():
            if base <= address < base + len(data):
                return base, data
        raise Unreadable(14, f"no memory at {address:#x}")

    def read(self, address: int, size: int) -> bytes:
        base, data = self._find(address)
        return data[address - base:address - base + size]

    def read_string(self, address: int, limit: int) -> tuple[bytes, bool]:
        chunk = self.read(address, limit)
        nul = chunk.find(b"\0")
        if nul >= 0:
            return chunk[:nul], True
        return chunk, False
