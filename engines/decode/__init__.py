"""Decoding system calls as strace prints them: pure, per architecture.

From the arch (:func:`abi_for`), the call's name and raw arguments, a
:class:`Memory` of the tracee and the :class:`TraceOptions`, the text
strace prints.  Two steps, as strace itself: :func:`decode_entry` at the
call's entry (``read(3, ``), :func:`decode_exit` at its exit (the buffer
the kernel filled, ``832)``), then :func:`format_result` (``= 832``).
No I/O here: the logger engine (engines/syscall_log.py) brings the memory.
See docs/syscall-log.md for what is decoded and what is ours vs python-ptrace's.
"""

from .abi import ABIS, Abi, abi_for
from .calls import Pending, decode_entry, decode_exit, errno_text, fixed_entry, format_result
from .launch import execve_from_stack
from .memory import BytesMemory, Memory, Unreadable
from .signals import death_line, siginfo, signal_line
from .tables import signal_name
from .text import quote

__all__ = [
    "ABIS", "Abi", "BytesMemory", "Memory", "Pending", "Unreadable", "abi_for", "death_line",
    "decode_entry", "decode_exit", "errno_text", "execve_from_stack", "fixed_entry",
    "format_result", "quote",
    "siginfo", "signal_line", "signal_name",
]
