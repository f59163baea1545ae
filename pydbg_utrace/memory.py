"""A tracee's memory: the address space engines see, and strings for people.

:class:`AddressSpace` goes through ``/proc/PID/mem`` and hides our traps.
:func:`read_memory` and :func:`read_string` (public API: exported by
``pydbg_utrace``) use ``process_vm_readv``: from any thread, with no stop
needed, and our traps visible as they are.  ``process_vm_readv`` fails at
an unmapped page, so :func:`read_string` reads a page at a time up to the NUL.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import Any

from . import kernel

PAGE_SIZE = 4096


def same_memory(pid1: int, pid2: int) -> bool:
    """Do two tasks share one address space?  ``kcmp(KCMP_VM)`` says."""
    from pydbg_utrace import arch

    try:
        return kernel.kcmp(pid1, pid2, kernel.KCMP_VM, arch.host().syscall_number_of("kcmp"))
    except (KeyError, OSError):
        return False  # cannot tell: treat as a fork (the common case)


def read_memory(pid: int, address: int, size: int) -> bytes:
    """Up to ``size`` bytes of thread ``pid``'s memory at ``address`` (public API).

    From any Python thread, the tracee running or not.  Fewer bytes at the end
    of a mapping; :class:`kernel.KernelError` (an ``OSError``) if none can be
    read.  The bytes as they are: an inserted breakpoint shows its trap
    instruction (``process.memory.read`` shows the program's own bytes).
    """
    return kernel.read_memory(pid, address, size)


def read_string(pid: int, address: int, limit: int = 4096) -> tuple[bytes, bool]:
    """The NUL-terminated string at ``address``: ``(bytes, complete)`` (public API).

    Read as :func:`read_memory` reads (any thread, no stop needed), a page at
    a time.  ``complete`` is False when ``limit`` cut it or memory ended
    before a NUL.  Raises :class:`kernel.KernelError` if nothing at all can
    be read.
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


class AddressSpace:
    """One process's memory as engines see it.

    Reads and writes go through ``/proc/PID/mem``: it reaches read-only text
    too and needs no stopped thread.  Our breakpoints are invisible: reads
    return the original bytes under them, and writes over them change the
    saved original (the trap stays in place).  ``traps`` maps an address to
    the object holding its original bytes (``.original``), kept by
    :mod:`pydbg_utrace.breakpoints`.
    """

    def __init__(self, pid: int, owner: Callable[..., Any] | None = None):
        self.pid = pid
        self.traps: dict[int, object] = {}
        self._fd: int | None = None
        # ``owner(fn, *args)`` runs fn on the thread that owns the trap table
        # and the file (the tracer thread: Tracer.call), so a REPL or gdb
        # thread never walks the table while the tracer changes it, nor reads
        # a file that exec closed.  None: the caller owns them (a bench tool).
        self._owner = owner

    def _mem(self) -> int:
        if self._fd is None:
            self._fd = os.open(f"/proc/{self.pid}/mem", os.O_RDWR | os.O_CLOEXEC)
        return self._fd

    def close(self) -> None:
        """Forget the open file: after exec it names the old address space."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read_raw(self, address: int, size: int) -> bytes:
        """The bytes as they are, traps included."""
        try:
            return os.pread(self._mem(), size, address)
        except OSError as exc:
            raise kernel.error(exc.errno, "read /proc/PID/mem", self.pid) from None

    def write_raw(self, address: int, data: bytes) -> None:
        try:
            written = os.pwrite(self._mem(), data, address)
        except OSError as exc:
            raise kernel.error(exc.errno, "write /proc/PID/mem", self.pid) from None
        if written != len(data):
            raise kernel.error(errno.EFAULT, "write /proc/PID/mem", self.pid)

    def read(self, address: int, size: int) -> bytes:
        """The program's own bytes: any trap we inserted shows its original (any thread)."""
        if self._owner is not None:
            return self._owner(self._read, address, size)
        return self._read(address, size)

    def write(self, address: int, data: bytes) -> None:
        """Write the program's bytes; under a trap, the saved original changes instead.

        From any thread, like :meth:`read`.  ``read_raw``/``write_raw`` are
        for the owner's own thread (the breakpoint table's edits).
        """
        if self._owner is not None:
            self._owner(self._write, address, data)
        else:
            self._write(address, data)

    def _read(self, address: int, size: int) -> bytes:
        data = bytearray(self.read_raw(address, size))
        for trap_address, trap in self._overlapping(address, len(data)):
            _patch(data, address, trap_address, trap.original)
        return bytes(data)

    def _write(self, address: int, data: bytes) -> None:
        data = bytearray(data)
        for trap_address, trap in self._overlapping(address, len(data)):
            original = bytearray(trap.original)
            _patch(original, trap_address, address, data)
            trap.original = bytes(original)
            _patch(data, address, trap_address, self.read_raw(trap_address, len(original)))
        self.write_raw(address, bytes(data))

    def _overlapping(self, address: int, size: int):
        for trap_address, trap in self.traps.items():
            if trap_address < address + size and address < trap_address + len(trap.original):
                yield trap_address, trap


def _patch(target: bytearray, target_address: int, source_address: int, source: bytes) -> None:
    """Copy the overlap of ``source`` (at ``source_address``) into ``target``."""
    start = max(target_address, source_address)
    end = min(target_address + len(target), source_address + len(source))
    if start < end:
        target[start - target_address:end - target_address] = \
            source[start - source_address:end - source_address]
