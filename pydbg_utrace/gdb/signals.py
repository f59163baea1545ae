"""gdb's signal numbers, which are not Linux's.

The remote protocol speaks gdb's own ``enum gdb_signal``
(gdb/include/gdb/signals.def): ``T0a`` is GDB_SIGNAL_BUS, not SIGUSR1.
gdbserver translates at its edge (``gdb_signal_from_host``); so do we.
"""

from __future__ import annotations

import signal

# gdb_signal numbers of the signals Linux has, by name (signals.def order).
_GDB_NUMBERS = {
    "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6,
    "SIGFPE": 8, "SIGKILL": 9, "SIGBUS": 10, "SIGSEGV": 11, "SIGSYS": 12, "SIGPIPE": 13,
    "SIGALRM": 14, "SIGTERM": 15, "SIGURG": 16, "SIGSTOP": 17, "SIGTSTP": 18, "SIGCONT": 19,
    "SIGCHLD": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGIO": 23, "SIGXCPU": 24, "SIGXFSZ": 25,
    "SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28, "SIGUSR1": 30, "SIGUSR2": 31,
    "SIGPWR": 32,
}
GDB_SIGNAL_UNKNOWN = 143

_TO_GDB: dict[int, int] = {
    int(getattr(signal, name)): number for name, number in _GDB_NUMBERS.items()
    if hasattr(signal, name)
}


def to_gdb(signo: int) -> int:
    """The gdb_signal number of Linux signal ``signo`` (0 stays 0)."""
    if signo == 0:
        return 0
    if signo in _TO_GDB:
        return _TO_GDB[signo]
    # Real-time signals: 32 -> REALTIME_32 (77), 33..63 -> 45.., 64..127 -> 78..
    if signo == 32:
        return 77
    if 33 <= signo <= 63:
        return 45 + signo - 33
    if 64 <= signo <= 127:
        return 78 + signo - 64
    return GDB_SIGNAL_UNKNOWN


_FROM_GDB: dict[int, int] = {gdb: host for host, gdb in _TO_GDB.items()}
_FROM_GDB.update({77: 32})
_FROM_GDB.update({45 + n - 33: n for n in range(33, 64)})
_FROM_GDB.update({78 + n - 64: n for n in range(64, 128)})


def from_gdb(number: int) -> int | None:
    """The Linux signal of gdb_signal ``number``; None if Linux has none (e.g. SIGEMT)."""
    if number == 0:
        return 0
    return _FROM_GDB.get(number)
