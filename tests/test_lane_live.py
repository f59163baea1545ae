"""The fast lane on real tracees: it reports what the general path reports.

The lane knows entry from exit without asking the kernel when the previous
stop was a syscall stop it resumed plainly (pydbg_utrace/syscall_stop.py).
Here an engine asks the kernel anyway at every report (``report.syscall``
fetches GET_SYSCALL_INFO on the lane) and checks the kernel agrees, through
signals that interrupt system calls, fork, exec from a non-leader thread
and many threads.  And the same program traced by an engine that wants
QUIESCE (which keeps every stop off the lane) gives the same sequence of
system calls as one traced on the lane.
"""

from __future__ import annotations

import pytest

from pydbg_utrace import Engine, Event, kernel

pytestmark = pytest.mark.live

ENTRY, EXIT = kernel.PTRACE_SYSCALL_INFO_ENTRY, kernel.PTRACE_SYSCALL_INFO_EXIT


class Checker(Engine):
    """Records (event, nr) and what the kernel said the stop was; follows new tasks."""

    def __init__(self, events=Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT, read=True):
        self.events = events | Event.CLONE
        self.read = read
        self.seen: list[tuple[int, str, int]] = []
        self.wrong: list[tuple] = []

    def _note(self, att, report, kind, expected_op):
        if not self.read:
            self.seen.append((att.thread.tid, kind, -2))
            return
        info = report.syscall
        if info.op != expected_op:
            self.wrong.append((att.thread.tid, kind, info))
        self.seen.append((att.thread.tid, kind, info.nr))

    def report_syscall_entry(self, att, report):
        self._note(att, report, "entry", ENTRY)

    def report_syscall_exit(self, att, report):
        self._note(att, report, "exit", EXIT)

    def report_clone(self, att, report):
        child = report.child.attach(self)
        child.set_events(self.events)


def trace(tracer, argv, engine):
    process = tracer.launch(argv)
    att = process.main_thread.attach(engine)
    att.set_events(engine.events)
    process.start()
    assert process.wait(timeout=60) is not None, "the tracee did not finish"
    return process


@pytest.mark.parametrize("program", [["signals", "50"], ["forkexec"], ["thread_exec"],
                                     ["threads", "20"]])
def test_the_kernel_agrees_with_the_lane_on_entry_and_exit(tracer, tracee, program):
    engine = Checker()
    trace(tracer, [tracee(program[0]), *program[1:]], engine)
    assert engine.seen, "no system call reported"
    assert engine.wrong == []


def test_exit_reports_carry_the_entry_number_on_the_lane(tracer, tracee):
    engine = Checker()
    trace(tracer, [tracee("getppid")], engine)
    by_thread: dict[int, int] = {}
    for tid, kind, nr in engine.seen:
        if kind == "entry":
            by_thread[tid] = nr
        elif tid in by_thread:
            assert nr == by_thread.pop(tid)


class Quiet(Checker):
    """The same, with QUIESCE: no stop of its thread goes on the lane."""

    def __init__(self):
        super().__init__()
        self.events |= Event.QUIESCE


def test_the_lane_and_the_general_path_report_the_same_calls(tracer, tracee):
    argv = [tracee("signals"), "20"]
    on_lane, general = Checker(), Quiet()
    trace(tracer, argv, on_lane)
    trace(tracer, argv, general)
    strip = [(kind, nr) for _, kind, nr in on_lane.seen]
    assert strip == [(kind, nr) for _, kind, nr in general.seen]


def test_unread_reports_still_alternate_entry_and_exit(tracer, tracee):
    engine = Checker(read=False)
    trace(tracer, [tracee("signals"), "50"], engine)
    kinds = [kind for _, kind, _ in engine.seen]
    assert kinds and all(a != b for a, b in zip(kinds, kinds[1:], strict=False))
