"""stopkinds.stop_kind: wait status -> kind of ptrace stop, without any process.

The statuses are built as the kernel builds them (``status = sig << 8 | 0x7f``,
with ``event << 16`` for a PTRACE_EVENT stop; ptrace(2), "Stopped states").
"""

from __future__ import annotations

import os
import signal

import pytest

from pydbg_utrace import kernel
from pydbg_utrace.stopkinds import (
    GROUP_STOP_SIGNALS,
    KIND_OF_EVENT,
    TRACE_OPTIONS,
    StopKind,
    stop_kind,
)


def stopped(sig: int, event: int = 0) -> int:
    status = event << 16 | sig << 8 | 0x7F
    assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == sig
    return status


@pytest.mark.parametrize(("status", "kind"), [
    (stopped(signal.SIGTRAP | 0x80), StopKind.SYSCALL),
    (stopped(signal.SIGSEGV), StopKind.SIGNAL),
    (stopped(signal.SIGTRAP), StopKind.SIGNAL),  # a breakpoint, a step: si_code decides
    (stopped(signal.SIGSTOP), StopKind.SIGNAL),  # its delivery stop, before the group stop
    (stopped(signal.SIGSTOP, kernel.PTRACE_EVENT_STOP), StopKind.GROUP_STOP),
    (stopped(signal.SIGTSTP, kernel.PTRACE_EVENT_STOP), StopKind.GROUP_STOP),
    (stopped(signal.SIGTRAP, kernel.PTRACE_EVENT_STOP), StopKind.EVENT_STOP),
    (stopped(signal.SIGTRAP, kernel.PTRACE_EVENT_FORK), StopKind.CLONE),
    (stopped(signal.SIGTRAP, kernel.PTRACE_EVENT_VFORK), StopKind.CLONE),
    (stopped(signal.SIGTRAP, kernel.PTRACE_EVENT_CLONE), StopKind.CLONE),
    (stopped(signal.SIGTRAP, kernel.PTRACE_EVENT_EXEC), StopKind.EXEC),
    (stopped(signal.SIGTRAP, kernel.PTRACE_EVENT_EXIT), StopKind.EXIT),
    (stopped(signal.SIGTRAP, kernel.PTRACE_EVENT_VFORK_DONE), StopKind.VFORK_DONE),
    (stopped(signal.SIGTRAP, kernel.PTRACE_EVENT_SECCOMP), StopKind.SECCOMP),
    (stopped(signal.SIGTRAP, 42), StopKind.OTHER),  # an event nobody asked for
])
def test_stop_kind(status, kind):
    assert stop_kind(status) is kind


def test_every_group_stop_signal_makes_a_group_stop_and_sigtrap_does_not():
    for sig in GROUP_STOP_SIGNALS:
        assert stop_kind(stopped(sig, kernel.PTRACE_EVENT_STOP)) is StopKind.GROUP_STOP
    assert signal.SIGTRAP not in GROUP_STOP_SIGNALS


def test_every_event_the_tracer_asks_for_has_a_kind():
    """Each PTRACE_O_TRACE* option in TRACE_OPTIONS (and seccomp, asked per launch) is in
    the table: none of our own events would fall through to OTHER."""
    option_of_event = {
        kernel.PTRACE_EVENT_FORK: kernel.PTRACE_O_TRACEFORK,
        kernel.PTRACE_EVENT_VFORK: kernel.PTRACE_O_TRACEVFORK,
        kernel.PTRACE_EVENT_CLONE: kernel.PTRACE_O_TRACECLONE,
        kernel.PTRACE_EVENT_EXEC: kernel.PTRACE_O_TRACEEXEC,
        kernel.PTRACE_EVENT_EXIT: kernel.PTRACE_O_TRACEEXIT,
        kernel.PTRACE_EVENT_VFORK_DONE: kernel.PTRACE_O_TRACEVFORKDONE,
    }
    for event, option in option_of_event.items():
        assert TRACE_OPTIONS & option
        assert KIND_OF_EVENT[event] is not StopKind.OTHER
    assert KIND_OF_EVENT[kernel.PTRACE_EVENT_SECCOMP] is StopKind.SECCOMP
