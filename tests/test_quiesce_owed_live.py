"""control(STOP) answered "in progress" is followed by report_quiesce, whatever stop it lands on.

utrace's promise (docs/engine-api.md): a STOP asked of a running thread makes
it stop at its next safe point, and an engine with QUIESCE is told there.
Most stops report an event whose callbacks tell it; a new thread's first
stop reports nothing, and the STOP asked from report_clone lands exactly
there.  Found by the torture suite (tests/torture/FOUND.md, B): the thread
was held, the engine never told, and an all-stop front end waited forever.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import threading

import pytest

from pydbg_utrace import Engine, Event, InProgressError, Resume, SignalAction

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


@contextlib.contextmanager
def echoing(tracee):
    """``echo_threads 1``, blocked in read(): yields it; at the end it must still echo
    (nothing lost) and exit 0."""
    child = subprocess.Popen([tracee("echo_threads"), "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert child.stdout.readline() == "ready\n"
        yield child
        child.stdin.write("x\n")
        assert child.stdout.readline() == "x\n"
    finally:
        child.stdin.close()
        assert child.wait(TIMEOUT) == 0


class ReportTwice(Engine):
    """Answers its first quiesce reports with STOP, then REPORT once more: utrace's "make
    some callback soon" asked again, which is owed once the thread has run."""

    def __init__(self) -> None:
        self.reports: queue.Queue = queue.Queue()
        self.answers = [Resume.STOP, Resume.REPORT, None]

    def report_quiesce(self, att, report):
        self.reports.put(report.event)
        return self.answers.pop(0) if self.answers else None


def test_a_report_asked_again_from_its_quiesce_report_comes_after_the_thread_ran(
        tracer, tracee):
    # A thread blocked in read(): STOP it, then control(REPORT) while it is held: its
    # quiesce report comes at once, and answers REPORT again -- "once it has run": the
    # thread goes on and is interrupted, and that stop owes the engine its report.
    with echoing(tracee) as child:
        process = tracer.attach_process(child.pid)
        engine = ReportTwice()
        att = process.main_thread.attach(engine)
        att.set_events(Event.QUIESCE)
        with pytest.raises(InProgressError):
            att.control(Resume.STOP)
        assert engine.reports.get(timeout=TIMEOUT) is not None  # held (STOP)
        att.control(Resume.REPORT)  # held: its report now, which asks REPORT again
        assert engine.reports.get(timeout=TIMEOUT) is not None
        try:
            engine.reports.get(timeout=TIMEOUT)  # the REPORT asked again, once it ran
        except queue.Empty:
            pytest.fail("a REPORT asked from a quiesce report was never reported")
        process.detach()


class Reports(Engine):
    """Counts its quiesce reports and report_signal(REPORT)s; answers None."""

    def __init__(self) -> None:
        self.quiesces: queue.Queue = queue.Queue()
        self.interrupts: queue.Queue = queue.Queue()

    def report_quiesce(self, att, report):
        self.quiesces.put(report.event)

    def report_signal(self, att, report):
        if report.signal_action == SignalAction.REPORT:
            self.interrupts.put(report.event)


class Syscalls(Engine):
    def report_syscall_entry(self, att, report):
        return None

    def report_syscall_exit(self, att, report):
        return None


def drained(q: queue.Queue) -> int:
    count = 0
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return count
        count += 1


def test_one_report_asked_of_a_running_thread_is_one_quiesce_report(tracer, tracee):
    # utrace's REPORT: "make some callback soon" -- one.  The interrupt stop paid it and
    # the resume after it paid it again.
    with echoing(tracee) as child:
        process = tracer.attach_process(child.pid)
        engine = Reports()
        att = process.main_thread.attach(engine)
        att.set_events(Event.QUIESCE)
        att.control(Resume.REPORT)
        assert engine.quiesces.get(timeout=TIMEOUT) == Event.NONE
        # A barrier: the next request runs after the report and its resume.
        tracer.call(lambda: None)
        process.detach()  # (no report is made by a detach)
        assert drained(engine.quiesces) == 0, "a second report for one REPORT"


@pytest.mark.parametrize("round_", range(3))
def test_an_interrupt_is_reported_though_a_syscall_stop_came_first(tracer, tracee, round_):
    # PTRACE_INTERRUPT's trap is cleared by whatever ptrace stop the thread makes first
    # ("any trap clears pending STOP trap"): in a loop of system calls that another
    # engine traces, that is a syscall stop, and the interrupt's report is owed there.
    process = tracer.launch([tracee("getppid_loop"), "100000000"])
    process.main_thread.attach(Syscalls()).set_events(Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT)
    engine = Reports()
    att = process.main_thread.attach(engine)
    att.set_events(Event.SIGNAL)
    process.start()
    for asked in range(10):
        att.control(Resume.INTERRUPT)
        try:
            engine.interrupts.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"INTERRUPT {asked + 1} of 10 was never reported")
    process.kill()
