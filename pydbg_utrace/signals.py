"""Signal dispositions: which utrace event and default action a signal gets.

utrace reports a signal as SIGNAL when the program has a handler for it,
otherwise as SIGNAL_IGN/STOP/TERM/CORE after the action the kernel would take
(``utrace_get_signal``).  We learn the handlers from ``/proc/TID/status``.
"""

from __future__ import annotations

import signal

from . import procfs
from .events import Event, SignalAction

_IGNORED_BY_DEFAULT = {signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH, signal.SIGCONT}
# utrace_get_signal: SIGSTOP is UTRACE_SIGNAL_STOP; the other sig_kernel_stop()
# signals are job-control stops, UTRACE_SIGNAL_TSTP (orphaned-pgrp rule applies).
_TSTP_BY_DEFAULT = {signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
_CORE_BY_DEFAULT = {
    signal.SIGQUIT, signal.SIGILL, signal.SIGTRAP, signal.SIGABRT, signal.SIGBUS,
    signal.SIGFPE, signal.SIGSEGV, signal.SIGXCPU, signal.SIGXFSZ, signal.SIGSYS,
}

#: The report event for each action the kernel would take.
EVENT_OF_ACTION = {
    SignalAction.DELIVER: Event.SIGNAL,
    SignalAction.IGN: Event.SIGNAL_IGN,
    SignalAction.STOP: Event.SIGNAL_STOP,
    SignalAction.TSTP: Event.SIGNAL_STOP,
    SignalAction.TERM: Event.SIGNAL_TERM,
    SignalAction.CORE: Event.SIGNAL_CORE,
}


def default_action(signo: int) -> SignalAction:
    """What the kernel does with ``signo`` under ``SIG_DFL`` (signal(7))."""
    if signo in _IGNORED_BY_DEFAULT:
        return SignalAction.IGN
    if signo == signal.SIGSTOP:
        return SignalAction.STOP
    if signo in _TSTP_BY_DEFAULT:
        return SignalAction.TSTP
    if signo in _CORE_BY_DEFAULT:
        return SignalAction.CORE
    return SignalAction.TERM


def disposition(signo: int, caught: int, ignored: int) -> SignalAction:
    """The action for ``signo`` given the ``SigCgt``/``SigIgn`` masks of /proc status."""
    bit = 1 << (signo - 1)
    if caught & bit:
        return SignalAction.DELIVER
    if ignored & bit:
        return SignalAction.IGN
    return default_action(signo)


def read_masks(tid: int) -> tuple[int, int]:
    """``(SigCgt, SigIgn)`` of a thread; ``(0, 0)`` if it is gone."""
    masks = procfs.signal_masks(tid)
    return masks["SigCgt"], masks["SigIgn"]


def signal_to_inject(action: SignalAction, signo: int, natural: SignalAction) -> int:
    """The signal a user-space tracer injects to carry out ``action``.

    The kernel can apply a default action directly; we can only inject a
    signal, and the program's own handler would run for it.  So: the
    original signal when the program's disposition already does what was
    asked; SIGKILL for TERM/CORE otherwise (no core file: documented);
    SIGSTOP for STOP/TSTP (it cannot be caught); nothing for IGN/REPORT/HANDLER.
    """
    if action == SignalAction.DELIVER or action == natural:
        return signo if action != SignalAction.IGN else 0
    if action in (SignalAction.TERM, SignalAction.CORE):
        return signal.SIGKILL
    if action in (SignalAction.STOP, SignalAction.TSTP):
        return signal.SIGSTOP
    return 0


#: The signal an artificial TERM/CORE/STOP/TSTP stands for when the engine
#: chose none (``report.siginfo.signo`` left 0): the one whose default it is.
ARTIFICIAL_DEFAULT = {
    SignalAction.TERM: signal.SIGTERM,
    SignalAction.CORE: signal.SIGQUIT,
    SignalAction.STOP: signal.SIGSTOP,
    SignalAction.TSTP: signal.SIGTSTP,
}
