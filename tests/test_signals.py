"""Signal dispositions (pydbg_utrace.signals), pure: no tracee.

The natural disposition follows ``utrace_get_signal`` (seed 004): a handler
gives DELIVER, SIG_IGN gives IGN, and under SIG_DFL the kernel's own classes
(``sig_kernel_coredump``, ``sig_kernel_ignore``, SIGSTOP, ``sig_kernel_stop``,
everything else terminates) give CORE, IGN, STOP, TSTP, TERM.
"""

from __future__ import annotations

import os
import signal

import pytest

from pydbg_utrace.events import Event, SignalAction
from pydbg_utrace.signals import (
    EVENT_OF_ACTION,
    default_action,
    disposition,
    read_masks,
    signal_to_inject,
)

A = SignalAction
S = signal.Signals

# signal(7) "Standard signals", with utrace's split of "Stop": SIGSTOP is
# UTRACE_SIGNAL_STOP, the job-control stops SIGTSTP/SIGTTIN/SIGTTOU are
# UTRACE_SIGNAL_TSTP (they obey the orphaned-process-group rule).
DEFAULTS = {
    S.SIGHUP: A.TERM, S.SIGINT: A.TERM, S.SIGQUIT: A.CORE, S.SIGILL: A.CORE,
    S.SIGTRAP: A.CORE, S.SIGABRT: A.CORE, S.SIGBUS: A.CORE, S.SIGFPE: A.CORE,
    S.SIGKILL: A.TERM, S.SIGUSR1: A.TERM, S.SIGSEGV: A.CORE, S.SIGUSR2: A.TERM,
    S.SIGPIPE: A.TERM, S.SIGALRM: A.TERM, S.SIGTERM: A.TERM, S.SIGSTKFLT: A.TERM,
    S.SIGCHLD: A.IGN, S.SIGCONT: A.IGN, S.SIGSTOP: A.STOP, S.SIGTSTP: A.TSTP,
    S.SIGTTIN: A.TSTP, S.SIGTTOU: A.TSTP, S.SIGURG: A.IGN, S.SIGXCPU: A.CORE,
    S.SIGXFSZ: A.CORE, S.SIGVTALRM: A.TERM, S.SIGPROF: A.TERM, S.SIGWINCH: A.IGN,
    S.SIGIO: A.TERM, S.SIGPWR: A.TERM, S.SIGSYS: A.CORE,
}


def test_defaults_table_covers_every_standard_signal():
    standard = {s for s in S if s < signal.SIGRTMIN}
    assert set(DEFAULTS) == standard


@pytest.mark.parametrize("signo", sorted(DEFAULTS), ids=lambda s: S(s).name)
def test_default_action_follows_signal7(signo):
    assert default_action(signo) == DEFAULTS[signo]


@pytest.mark.parametrize("signo", range(signal.SIGRTMIN, signal.SIGRTMAX + 1))
def test_default_action_of_realtime_signals_is_term(signo):
    assert default_action(signo) == A.TERM


def test_sigstop_is_an_absolute_stop_and_sigtstp_a_job_control_stop():
    # utrace_get_signal: "signr == SIGSTOP" -> STOP before "sig_kernel_stop" -> TSTP.
    assert default_action(signal.SIGSTOP) == A.STOP
    assert default_action(signal.SIGTSTP) == A.TSTP


# -- the report event of each natural disposition ---------------------------------------

@pytest.mark.parametrize("action,event", [
    (A.DELIVER, Event.SIGNAL), (A.IGN, Event.SIGNAL_IGN), (A.STOP, Event.SIGNAL_STOP),
    (A.TSTP, Event.SIGNAL_STOP), (A.TERM, Event.SIGNAL_TERM), (A.CORE, Event.SIGNAL_CORE),
], ids=lambda v: v.name)
def test_event_of_action_is_the_utrace_signal_event(action, event):
    assert EVENT_OF_ACTION[action] == event


@pytest.mark.parametrize("signo", sorted(DEFAULTS), ids=lambda s: S(s).name)
def test_every_default_disposition_has_a_signal_event(signo):
    assert EVENT_OF_ACTION[default_action(signo)] & Event.SIGNAL_ALL


# -- disposition from /proc/TID/status masks --------------------------------------------

def bit(signo: int) -> int:
    return 1 << (signo - 1)  # SigCgt/SigIgn: bit (signo - 1), as in sigset_t


@pytest.mark.parametrize("signo", sorted(DEFAULTS), ids=lambda s: S(s).name)
def test_caught_signal_is_delivered_to_its_handler(signo):
    assert disposition(signo, bit(signo), 0) == A.DELIVER


@pytest.mark.parametrize("signo", sorted(DEFAULTS), ids=lambda s: S(s).name)
def test_ignored_signal_is_ign(signo):
    assert disposition(signo, 0, bit(signo)) == A.IGN


@pytest.mark.parametrize("signo", sorted(DEFAULTS), ids=lambda s: S(s).name)
def test_signal_neither_caught_nor_ignored_takes_its_default(signo):
    assert disposition(signo, 0, 0) == DEFAULTS[signo]


def test_masks_are_read_at_bit_signo_minus_one():
    # SIGINT is bit 1 (mask 0x2); a neighbour's bit must not count.
    assert disposition(signal.SIGINT, 0x2, 0) == A.DELIVER
    assert disposition(signal.SIGINT, 0x1 | 0x4, 0) == A.TERM
    assert disposition(signal.SIGINT, 0, 0x1 | 0x4) == A.TERM
    assert disposition(signal.SIGRTMAX, 1 << 63, 0) == A.DELIVER


def test_other_signals_handlers_do_not_matter():
    everything_but_segv = ((1 << 64) - 1) & ~bit(signal.SIGSEGV)
    assert disposition(signal.SIGSEGV, everything_but_segv, everything_but_segv) == A.CORE


def test_read_masks_of_this_process(monkeypatch):
    old_usr1 = signal.signal(signal.SIGUSR1, lambda *_: None)
    old_usr2 = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    try:
        caught, ignored = read_masks(os.getpid())
    finally:
        signal.signal(signal.SIGUSR1, old_usr1)
        signal.signal(signal.SIGUSR2, old_usr2)
    assert caught & bit(signal.SIGUSR1)
    assert not ignored & bit(signal.SIGUSR1)
    assert ignored & bit(signal.SIGUSR2)
    assert not caught & bit(signal.SIGUSR2)
    assert disposition(signal.SIGUSR1, caught, ignored) == A.DELIVER
    assert disposition(signal.SIGUSR2, caught, ignored) == A.IGN


def test_read_masks_of_a_gone_thread_is_empty():
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    assert read_masks(pid_max + 1) == (0, 0)


# -- signal_to_inject: every SignalAction x natural disposition -------------------------
#
# A user-space tracer cannot apply a default action; it can only choose which
# signal the tracee gets on PTRACE_CONT.  The mechanisms, by name in the ids:
#   same      - the natural disposition already does it: re-inject the signal
#               (DELIVER always: the tracee's own SIG_IGN discards it)
#   suppress  - inject nothing (0)
#   sigkill   - TERM/CORE against the program's disposition: SIGKILL (no core file,
#               wait status says SIGKILL: the documented difference)
#   sigstop   - STOP/TSTP against the program's disposition: SIGSTOP (cannot be
#               caught; the orphaned-pgrp rule of TSTP is lost)

NATURALS = [A.DELIVER, A.IGN, A.TERM, A.CORE, A.STOP, A.TSTP]
SIGNO_OF_NATURAL = {  # a signal whose natural disposition is this one
    A.DELIVER: signal.SIGUSR1, A.IGN: signal.SIGCHLD, A.TERM: signal.SIGTERM,
    A.CORE: signal.SIGSEGV, A.STOP: signal.SIGSTOP, A.TSTP: signal.SIGTSTP,
}


def mechanism(action: SignalAction, natural: SignalAction) -> str:
    if action in (A.IGN, A.REPORT, A.HANDLER):
        return "suppress"
    if action == A.DELIVER or action == natural:
        return "same"
    return "sigkill" if action in (A.TERM, A.CORE) else "sigstop"


EXPECTED_SIGNAL = {
    "same": lambda signo: signo,
    "suppress": lambda signo: 0,
    "sigkill": lambda signo: signal.SIGKILL,
    "sigstop": lambda signo: signal.SIGSTOP,
}

CASES = [(action, natural) for action in A for natural in NATURALS]


@pytest.mark.parametrize(
    "action,natural", CASES,
    ids=[f"{a.name}-on-{n.name}-is-{mechanism(a, n)}" for a, n in CASES])
def test_signal_to_inject(action, natural):
    signo = SIGNO_OF_NATURAL[natural]
    expected = EXPECTED_SIGNAL[mechanism(action, natural)](signo)
    assert signal_to_inject(action, signo, natural) == expected


def test_deliver_reinjects_the_original_signal_number():
    # DELIVER lets the tracee's disposition act on the very signal that came.
    for signo in (signal.SIGUSR1, signal.SIGINT, signal.SIGRTMIN + 3):
        assert signal_to_inject(A.DELIVER, signo, A.DELIVER) == signo


def test_term_on_a_handled_signal_never_runs_the_handler():
    # Injecting SIGTERM would run the program's SIGTERM handler if it has one.
    assert signal_to_inject(A.TERM, signal.SIGTERM, A.DELIVER) == signal.SIGKILL


def test_stop_on_a_handled_sigtstp_uses_sigstop():
    assert signal_to_inject(A.TSTP, signal.SIGTSTP, A.DELIVER) == signal.SIGSTOP


def test_natural_stop_kinds_differ_for_injection():
    # SIGTTIN's natural TSTP re-injects SIGTTIN; an absolute STOP asked for it is SIGSTOP.
    natural = default_action(signal.SIGTTIN)
    assert signal_to_inject(A.TSTP, signal.SIGTTIN, natural) == signal.SIGTTIN
    assert signal_to_inject(A.STOP, signal.SIGTTIN, natural) == signal.SIGSTOP


# -- procfs: the /proc/TID/status reader signals.read_masks goes through -----------------

def test_procfs_parses_status_text():
    from pydbg_utrace import procfs

    text = "Name:\tcat\nState:\tS (sleeping)\nTgid:\t41\nPPid:\t7\nSigCgt:\t0000000000000202\n"
    fields = procfs.parse_status(text)
    assert fields["State"] == "S (sleeping)" and fields["Tgid"] == "41"
    assert int(fields["SigCgt"], 16) == (1 << 1) | (1 << 9)


def test_procfs_reads_this_process_and_says_nothing_of_a_missing_one():
    import os

    from pydbg_utrace import procfs, signals

    assert procfs.tgid(os.getpid()) == os.getpid()
    assert procfs.parent_of(os.getpid()) == os.getppid()
    assert procfs.state(os.getpid()) in ("R", "S")
    assert procfs.status(2**22 + 12345) == {}  # beyond pid_max: no such task
    assert procfs.tgid(2**22 + 12345) == 2**22 + 12345
    assert signals.read_masks(2**22 + 12345) == (0, 0)


def test_procfs_task_readers_on_this_process():
    import os
    import signal
    import threading

    from pydbg_utrace import procfs

    assert threading.get_native_id() in procfs.task_ids(os.getpid())
    assert procfs.task_state(os.getpid(), os.getpid()) in ("R", "S")
    assert procfs.task_ids(2**22 + 12345) == [] and procfs.task_state(1, 2**22 + 12345) == ""
    assert procfs.pending_unblocked(os.getpid(), signal.SIGTRAP) is False
