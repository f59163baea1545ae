"""Attaching to a process in group stop: the attach's own trap reaches no engine, every time.

Seizing a stopped thread makes the kernel re-trap it into a ptrace stop.
``attach_process`` takes that trap before it returns, so what engines
attached afterwards hear does not depend on how fast the tracer thread ran:
no JCTL STOPPED (the stop began before they attached), then one CONTINUED per
thread when the group is continued.  Found as a flake in the ppc64le guest
(ptrace-tests stopped-attach-transparency, 3 runs in 6), where the report
raced with the engines being attached.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess

import pytest

from pydbg_utrace import Engine, Event, JobControl, State

pytestmark = pytest.mark.live

TIMEOUT = 30
THREADS = 4  # echo_threads' sleepers, plus its main thread
ROUNDS = 10


class JobLog(Engine):
    """Posts every JCTL report; decides nothing."""

    def __init__(self) -> None:
        self.reports: queue.Queue = queue.Queue()

    def report_jctl(self, att, report):
        self.reports.put((att.thread.tid, report.jctl))


def stopped_child(tracee) -> subprocess.Popen:
    """echo_threads, started and then stopped by SIGSTOP (its whole group stop seen)."""
    child = subprocess.Popen([tracee("echo_threads"), str(THREADS)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    assert child.stdout.readline() == "ready\n"
    os.kill(child.pid, signal.SIGSTOP)
    # We are its real parent: waitpid(WUNTRACED) returns once the group stop is complete.
    _, status = os.waitpid(child.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGSTOP
    return child


def test_attach_to_a_stopped_process_reports_no_stop_and_one_continue_per_thread(
        tracer, tracee):
    for _ in range(ROUNDS):
        child = stopped_child(tracee)
        try:
            process = tracer.attach_process(child.pid)
            threads = list(process.threads.values())
            assert len(threads) == THREADS + 1
            # The contract, read right after the call: every trap already taken.
            assert all(t.group_stopped and t.state == State.LISTENING for t in threads)
            log = JobLog()
            for thread in threads:
                thread.attach(log).set_events(Event.JCTL)
            os.kill(child.pid, signal.SIGCONT)
            heard = [log.reports.get(timeout=TIMEOUT) for _ in threads]
            assert sorted(heard) == sorted((t.tid, JobControl.CONTINUED) for t in threads)
            process.detach()
            assert log.reports.empty(), f"reports after the continue: {log.reports.get()}"
            child.stdin.write("free\n")
            assert child.stdout.readline() == "free\n"
        finally:
            child.stdin.close()
            assert child.wait(TIMEOUT) == 0
