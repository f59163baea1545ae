"""control(STOP) answered "in progress" is followed by report_quiesce, whatever stop it lands on.

utrace's promise (docs/engine-api.md): a STOP asked of a running thread makes
it stop at its next safe point, and an engine with QUIESCE is told there.
Most stops report an event whose callbacks tell it; a new thread's first
stop reports nothing, and the STOP asked from report_clone lands exactly
there.  Found by the torture suite (tests/torture/FOUND.md, B): the thread
was held, the engine never told, and an all-stop front end waited forever.
"""

from __future__ import annotations

import os
import queue
import threading

import pytest

from pydbg_utrace import Engine, Event, InProgressError, Resume

pytestmark = pytest.mark.live

TIMEOUT = 30
THREADS = 8


class Holder(Engine):
    """On one new thread: holds it from the quiesce report that the STOP is owed."""

    def __init__(self) -> None:
        self.told = threading.Event()
        self.events: list[Event] = []

    def report_quiesce(self, att, report):
        self.events.append(report.event)
        self.told.set()
        return Resume.STOP


class StopNewThreads(Engine):
    """On the main thread: STOP every new thread from report_clone, before its first stop."""

    def __init__(self) -> None:
        self.pending: queue.Queue = queue.Queue()  # (attachment, holder), one per STOP
        self.at_once = 0

    def report_clone(self, att, report):
        holder = Holder()
        hold = report.child.attach(holder)
        hold.set_events(Event.QUIESCE)
        try:
            hold.control(Resume.STOP)
            self.at_once += 1
        except InProgressError:
            self.pending.put((hold, holder))


def test_a_stop_asked_before_a_threads_first_stop_is_reported_there(tracer, tracee):
    process = tracer.launch([tracee("threads"), str(THREADS)])
    watcher = StopNewThreads()
    process.main_thread.attach(watcher).set_events(Event.CLONE)
    process.start()
    for _ in range(THREADS):  # each new thread, held at its birth once told so
        hold, holder = watcher.pending.get(timeout=TIMEOUT)
        assert holder.told.wait(TIMEOUT), f"thread {hold.thread.tid}: STOP never reported"
        assert holder.events == [Event.NONE]  # one quiesce, of its own: no event there
        hold.control(Resume.DETACH)
    assert watcher.at_once == 0  # every STOP was asked of a thread not yet born
    status = process.wait(TIMEOUT)
    assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
