"""Attachment.holds_thread(): the public question a front end asked of Thread.holds.

The REPL read ``att.thread.holds`` and ``att.thread.state`` from its own
thread (issue 12: front ends reach past the public API, and read the
tracer thread's data without its owner).  ``holds_thread()`` is asked of
the tracer thread; here from the test's thread, around a real stop.
"""

from __future__ import annotations

import threading

import pytest

from pydbg_utrace import Engine, Event, Resume

pytestmark = pytest.mark.live


class StopsAtTheFirstCall(Engine):
    def __init__(self):
        self.stopped = threading.Event()

    def report_syscall_entry(self, att, report):
        if not self.stopped.is_set():
            self.stopped.set()
            return Resume.STOP
        return None


def test_holds_thread_while_its_stop_stands_and_not_after(tracer, tracee):
    process = tracer.launch([tracee("getppid")])
    engine = StopsAtTheFirstCall()
    att = process.main_thread.attach(engine)
    bystander = process.main_thread.attach(Engine())
    att.set_events(Event.SYSCALL_ENTRY)
    assert not att.holds_thread()  # held by the launch, not by this engine
    process.start()
    assert engine.stopped.wait(10)
    att.barrier()
    assert att.holds_thread() and not bystander.holds_thread()
    att.set_events(Event.NONE)
    att.control(Resume.RESUME)
    assert not att.holds_thread()
    assert process.wait(10) is not None
