"""When the REPL stops the program: catchpoints and the ``handle`` table.

Read by the REPL engine on the tracer thread, changed by the REPL thread only
while the program is held, so a decision never sees half an update.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field


@dataclass
class Handling:
    """gdb's three columns of ``info signals``."""

    stop: bool = True
    print_: bool = True
    pass_: bool = True

    def describe(self) -> str:
        """``Yes\tYes\tNo``: the columns as gdb's ``info signals`` writes them."""
        return "\t".join("Yes" if v else "No" for v in (self.stop, self.print_, self.pass_))


# gdb's defaults (infrun.c): SIGINT and SIGTRAP are the debugger's own, and
# the noisy signals that programs use for housekeeping pass silently.
_QUIET = ("SIGALRM", "SIGURG", "SIGIO", "SIGPOLL", "SIGVTALRM", "SIGPROF", "SIGCHLD",
          "SIGWINCH", "SIGPRIO", "SIGWAITING", "SIGLWP", "SIGCANCEL")


def _default_handling(signo: int) -> Handling:
    name = signal_name(signo)
    if name in ("SIGINT", "SIGTRAP"):
        return Handling(True, True, False)
    if name in _QUIET:
        return Handling(False, False, True)
    return Handling()


# gdb's words for the signals Linux has, in gdb's order (gdb/signals.def): the
# rows of `info signals` and the end of "Program terminated with signal SIGSEGV, ...".
DESCRIPTIONS = {
    "SIGHUP": "Hangup", "SIGINT": "Interrupt", "SIGQUIT": "Quit",
    "SIGILL": "Illegal instruction", "SIGTRAP": "Trace/breakpoint trap", "SIGABRT": "Aborted",
    "SIGFPE": "Arithmetic exception", "SIGKILL": "Killed", "SIGBUS": "Bus error",
    "SIGSEGV": "Segmentation fault", "SIGSYS": "Bad system call", "SIGPIPE": "Broken pipe",
    "SIGALRM": "Alarm clock", "SIGTERM": "Terminated", "SIGURG": "Urgent I/O condition",
    "SIGSTOP": "Stopped (signal)", "SIGTSTP": "Stopped (user)", "SIGCONT": "Continued",
    "SIGCHLD": "Child status changed", "SIGTTIN": "Stopped (tty input)",
    "SIGTTOU": "Stopped (tty output)", "SIGIO": "I/O possible",
    "SIGXCPU": "CPU time limit exceeded", "SIGXFSZ": "File size limit exceeded",
    "SIGVTALRM": "Virtual timer expired", "SIGPROF": "Profiling timer expired",
    "SIGWINCH": "Window size changed", "SIGUSR1": "User defined signal 1",
    "SIGUSR2": "User defined signal 2", "SIGPWR": "Power fail/restart",
}


def signal_description(signo: int) -> str:
    return DESCRIPTIONS.get(signal_name(signo), signal_name(signo))


def signal_name(signo: int) -> str:
    try:
        return signal.Signals(signo).name
    except ValueError:
        return f"SIG{signo}"


def signal_number(text: str) -> int:
    """``SIGINT``, ``INT``, ``int`` or ``2`` -> 2; ValueError for anything else."""
    if text.isdigit():
        signo = int(text)
        if 0 < signo < signal.NSIG:
            return signo
        raise ValueError(f"no signal number {signo}")
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise ValueError(f"unknown signal {text!r}") from None


@dataclass
class Catchpoint:
    number: int
    kind: str  # syscall, signal, fork, exec, clone
    names: tuple[str, ...] = ()  # syscall names or signal names; () = any
    enabled: bool = True

    def describe(self) -> str:
        if self.kind in ("syscall", "signal"):
            return f"{self.kind} {', '.join(self.names) if self.names else 'any'}"
        return self.kind


@dataclass
class StopPolicy:
    catchpoints: dict[int, Catchpoint] = field(default_factory=dict)
    handlings: dict[int, Handling] = field(default_factory=dict)

    signal_name = staticmethod(signal_name)

    def handling(self, signo: int) -> Handling:
        if signo not in self.handlings:
            self.handlings[signo] = _default_handling(signo)
        return self.handlings[signo]

    def add(self, number: int, kind: str, names: tuple[str, ...] = ()) -> Catchpoint:
        catch = self.catchpoints[number] = Catchpoint(number, kind, names)
        return catch

    def _first(self, kind: str, name: str | None = None) -> int | None:
        for catch in self.catchpoints.values():
            if catch.enabled and catch.kind == kind and (
                    not catch.names or name in catch.names):
                return catch.number
        return None

    def catches_syscall(self, name: str) -> int | None:
        return self._first("syscall", name)

    def catches_signal(self, signo: int) -> int | None:
        return self._first("signal", signal_name(signo))

    def catches_event(self, kind: str) -> int | None:
        return self._first(kind)

    def wants_syscalls(self) -> bool:
        return any(c.enabled and c.kind == "syscall" for c in self.catchpoints.values())
