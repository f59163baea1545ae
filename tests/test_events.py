"""The engine API's vocabulary against ``include/linux/utrace.h`` (seed 004).

Pure: no processes.  Each value is written out here as the kernel header has
it, so that a renumbering in ``events.py`` fails a test instead of silently
drifting from the documentation engine authors read.
"""

from __future__ import annotations

import pytest

from pydbg_utrace.events import (
    Action,
    AttachFlags,
    Event,
    JobControl,
    Resume,
    SignalAction,
    SyscallAction,
)

# enum utrace_events, in declaration order: _UTRACE_EVENT_QUIESCE is bit 0.
UTRACE_H_EVENTS = [
    "QUIESCE", "REAP", "CLONE", "EXEC", "EXIT", "DEATH", "SYSCALL_ENTRY", "SYSCALL_EXIT",
    "SIGNAL", "SIGNAL_IGN", "SIGNAL_STOP", "SIGNAL_TERM", "SIGNAL_CORE", "JCTL",
]


@pytest.mark.parametrize("bit,name", list(enumerate(UTRACE_H_EVENTS)), ids=UTRACE_H_EVENTS)
def test_event_bit_is_the_utrace_h_bit(bit, name):
    assert Event[name] == 1 << bit


def test_project_events_come_after_the_kernel_bits():
    # STEP and BREAKPOINT have no kernel counterpart: they must not reuse a kernel bit.
    assert Event.STEP == 1 << 14
    assert Event.BREAKPOINT == 1 << 15


def test_every_single_event_has_its_own_bit():
    singles = [e for e in Event if e and e & (e - 1) == 0]
    values = [int(e) for e in singles]
    assert len(values) == len(set(values)) == len(UTRACE_H_EVENTS) + 2


def test_signal_all_is_the_five_signal_events():
    # UTRACE_EVENT_SIGNAL_ALL in utrace.h.
    assert Event.SIGNAL_ALL == (Event.SIGNAL | Event.SIGNAL_IGN | Event.SIGNAL_STOP
                                | Event.SIGNAL_TERM | Event.SIGNAL_CORE)
    assert not Event.SIGNAL_ALL & Event.JCTL


def test_syscall_is_entry_and_exit():
    assert Event.SYSCALL == Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT


def test_event_none_is_zero():
    assert Event.NONE == 0
    assert not Event.NONE


def test_resume_order_is_the_priority_order():
    # "The order of these is important ... the smallest value prevails."
    order = ["STOP", "INTERRUPT", "REPORT", "SINGLESTEP", "BLOCKSTEP", "RESUME", "DETACH"]
    assert [r.name for r in sorted(Resume)] == order
    assert [int(Resume[n]) for n in order] == list(range(7))


@pytest.mark.parametrize("name,value", [
    ("DELIVER", 0x00), ("IGN", 0x10), ("TERM", 0x20), ("CORE", 0x30),
    ("STOP", 0x40), ("TSTP", 0x50), ("REPORT", 0x60), ("HANDLER", 0x70),
])
def test_signal_action_has_the_kernel_encoding(name, value):
    assert SignalAction[name] == value
    assert SignalAction[name] & 0xF0 == value  # fits UTRACE_SIGNAL_MASK


def test_signal_actions_are_exactly_the_kernel_ones():
    assert {a.name for a in SignalAction} == {
        "DELIVER", "IGN", "TERM", "CORE", "STOP", "TSTP", "REPORT", "HANDLER"}


def test_syscall_action_run_and_abort():
    assert SyscallAction.RUN == 0
    assert SyscallAction.ABORT == 1
    assert {a.name for a in SyscallAction} == {"RUN", "ABORT"}


def test_attach_flags_names():
    assert {f.name for f in AttachFlags if f} == {
        "MATCH_OPS", "MATCH_DATA", "CREATE", "EXCLUSIVE"}
    assert AttachFlags.NONE == 0


def test_attach_flags_are_distinct_bits():
    flags = [AttachFlags.MATCH_OPS, AttachFlags.MATCH_DATA, AttachFlags.CREATE,
             AttachFlags.EXCLUSIVE]
    combined = 0
    for flag in flags:
        assert flag & (flag - 1) == 0
        assert not combined & flag
        combined |= flag


def test_attach_match_flags_have_the_kernel_values():
    assert AttachFlags.MATCH_OPS == 0x0001
    assert AttachFlags.MATCH_DATA == 0x0002


def test_attach_create_and_exclusive_have_the_kernel_values():
    assert AttachFlags.CREATE == 0x0010
    assert AttachFlags.EXCLUSIVE == 0x0020


def test_job_control_types_are_cld_codes():
    # report_jctl's type is CLD_STOPPED or CLD_CONTINUED (<asm-generic/siginfo.h>).
    assert JobControl.STOPPED == 5
    assert JobControl.CONTINUED == 6


def test_action_defaults_to_resume_without_disposition():
    assert Action() == (Resume.RESUME, None, False)


def test_action_is_a_tuple_of_resume_disposition_hold():
    answer = Action(Resume.STOP, SignalAction.IGN, True)
    assert answer.resume is Resume.STOP
    assert answer.disposition is SignalAction.IGN
    assert answer.hold is True
    assert tuple(answer) == (Resume.STOP, SignalAction.IGN, True)
