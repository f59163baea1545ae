"""The ``execve`` line of a launched program, from its new stack.

A launched program is traced from its exec on, so the entry of its execve
was never seen; at the exit stop the new stack holds what strace printed
at the entry: ``argc``, ``argv[]``, ``envp[]`` and the auxiliary vector
whose ``AT_EXECFN`` points at the file name as passed to execve (System V
ABI, "Process Initialization").  The envp address is the new stack's, not
the caller's (a normalised address in the comparison with strace).
"""

from __future__ import annotations

from ..trace_options import TraceOptions
from .abi import Abi
from .calls import Pending, decode_entry
from .memory import Memory

AT_NULL = 0
AT_EXECFN = 31


def execve_from_stack(abi: Abi, mem: Memory, sp: int,
                      options: TraceOptions | None = None) -> Pending | None:
    """The call as if its entry had been seen (``entry_text``: ``execve("/bin/ls", ["ls"],
    0x7ff... /* 35 vars */``), or None where the stack does not read as one."""
    w = abi.word_size
    try:
        argc = abi.word(mem.read(sp, w))
        argv = sp + w
        envp = argv + (argc + 1) * w
        k = 0
        while abi.word(mem.read(envp + k * w, w)):
            k += 1
        auxv = envp + (k + 1) * w
        execfn = 0
        for n in range(64):
            kind, value = abi.word(mem.read(auxv + 2 * n * w, w)), abi.word(
                mem.read(auxv + (2 * n + 1) * w, w))
            if kind == AT_NULL:
                break
            if kind == AT_EXECFN:
                execfn = value
    except OSError:
        return None
    if not execfn:
        return None
    return decode_entry(abi, "execve", (execfn, argv, envp), mem, options)
