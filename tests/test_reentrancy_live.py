"""control() from inside a callback is combined with the report, as in utrace.

In kernel utrace a utrace_control() made by an engine's callback on the
reporting thread takes effect when the report finishes (finish_report), with
every engine's answer combined.  Here callbacks run on the tracer thread and
control() would run inline: it must not resume the thread while dispatch is
still going through the other engines (issue 12's re-entrancy bug).
"""

from __future__ import annotations

import threading

import pytest

from pydbg_utrace import Engine, Event, Resume
from pydbg_utrace.errors import NotStoppedError

pytestmark = pytest.mark.live


class ResumesFromItsCallback(Engine):
    def __init__(self):
        self.error = None
        self.calls = 0

    def report_syscall_exit(self, att, report):
        self.calls += 1
        if self.calls == 1:
            att.control(Resume.RESUME)  # on the tracer thread, in the middle of the report


class StopsAfterIt(Engine):
    def __init__(self):
        self.errors: list[BaseException] = []
        self.stopped_at = None
        self.answered = threading.Event()

    def report_syscall_exit(self, att, report):
        if self.stopped_at is None:
            try:
                self.stopped_at = report.regs.pc  # NotStoppedError if A's control resumed it
            except NotStoppedError as exc:
                self.errors.append(exc)
                self.stopped_at = -1
            self.answered.set()
            return Resume.STOP
        return None


def test_control_from_a_callback_is_combined_with_the_report(tracer, tracee):
    """Engine A calls control(RESUME) from its callback; B after it answers STOP: it stays."""
    process = tracer.launch([tracee("getppid")])
    thread = process.main_thread
    a, b = ResumesFromItsCallback(), StopsAfterIt()
    att_a = thread.attach(a)
    att_a.set_events(Event.SYSCALL_EXIT)
    att_b = thread.attach(b)
    att_b.set_events(Event.SYSCALL_EXIT)
    process.start()
    assert b.answered.wait(timeout=30), "no syscall exit was reported"
    assert b.errors == []
    with att_b.examine() as regs:  # still held by B: examine() works, from this thread
        assert regs.pc == b.stopped_at
    att_b.control(Resume.RESUME)
    assert process.wait(timeout=30) is not None
