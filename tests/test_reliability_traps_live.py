"""Breakpoints that come and go while threads run, and tracers that go away (issue 14).

Each test drives tests/tracees/trapchurn.c over stdin (one answer line per
command) and is bounded: an answer, a hit or a close() that never comes fails
the test after TIMEOUT instead of hanging the suite.  The random parts are
seeded (SEED), so a failure reproduces.
"""

from __future__ import annotations

import os
import queue
import select
import subprocess
import sys
import threading

import pytest
from pydbg_utrace import AttachFlags, Engine, Event, JobControl, Tracer, arch

pytestmark = pytest.mark.live
TIMEOUT = 30
SEED = 14


class Program:
    """trapchurn, started by the test (not by the tracer), driven line by line."""

    def __init__(self, path: str):
        self.child = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        address, pid = self.answer().split()
        self.address, self.pid = int(address, 16), int(pid)

    def _read(self) -> None:
        for line in self.child.stdout:
            self.lines.put(line.strip())
        self.lines.put("<EOF>")

    def answer(self) -> str:
        try:
            return self.lines.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"trapchurn gave no answer in {TIMEOUT}s (hung, or stopped for good)")

    def command(self, line: str) -> str:
        self.child.stdin.write(line + "\n")
        return self.answer()

    def code(self, size: int = 16) -> bytes:
        """The bytes at target() as they are in memory (our traps included).

        Read through a live thread: a zombie leader has no memory to show.
        """
        live = [tid for tid in os.listdir(f"/proc/{self.pid}/task")
                if task_state(self.pid, tid) != "Z"]
        with open(f"/proc/{self.pid}/task/{live[0]}/mem", "rb") as mem:
            mem.seek(self.address)
            return mem.read(size)

    def finish(self) -> int:
        """EOF on its stdin: it exits 0 unless something killed it; its wait status."""
        self.child.stdin.close()
        try:
            self.child.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail("trapchurn did not exit after EOF")
        return self.child.returncode

    def kill(self) -> None:
        """After a failure: SIGKILL; the wait is bounded (a hung tracer keeps its zombie)."""
        if self.child.poll() is None:
            self.child.kill()
            try:
                self.child.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                pass


class Hits(Engine):
    """Counts its breakpoint hits and every signal; follows new threads."""

    def __init__(self, events: Event = Event.CLONE | Event.BREAKPOINT | Event.SIGNAL_ALL):
        self.events = events
        self.hits = 0
        self.signals: list[int] = []
        self.jctl: dict[int, JobControl] = {}
        self.changed = threading.Condition()

    def report_clone(self, att, report):
        if report.clone_kind == "thread":
            report.child.attach(self).set_events(att.events)

    def report_breakpoint(self, att, report):
        with self.changed:
            self.hits += 1
            self.changed.notify_all()

    def report_signal(self, att, report):
        self.signals.append(report.signo)

    def report_jctl(self, att, report):
        with self.changed:
            self.jctl[att.thread.tid] = report.jctl
            self.changed.notify_all()

    def wait_for(self, predicate, what: str) -> None:
        """A bounded wait for something that must happen."""
        with self.changed:
            if not self.changed.wait_for(predicate, timeout=TIMEOUT):
                pytest.fail(f"no {what} within {TIMEOUT}s")

    def wait_hits(self, count: int) -> None:
        self.wait_for(lambda: self.hits >= count, f"{count} breakpoint hits")


def traced(tracer: Tracer, program: Program, engine: Engine):
    """Trace the program with ``engine`` on every thread; its main thread's attachment."""
    process = tracer.attach_process(program.pid)
    for thread in list(process.threads.values()):
        thread.attach(engine).set_events(engine.events)
    return process, tracer.attach(process.main_thread, engine, AttachFlags.MATCH_OPS)


def bounded(fn, what: str) -> None:
    """Run ``fn`` in a thread and fail if it does not return in TIMEOUT (a hang)."""
    error: list[BaseException] = []

    def run():
        try:
            fn()
        except BaseException as exc:  # handed to the test
            error.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    if worker.is_alive():
        pytest.fail(f"{what} hung for {TIMEOUT}s")
    if error:
        raise error[0]


def task_state(pid: int, tid) -> str:
    with open(f"/proc/{pid}/task/{tid}/status") as status:
        for line in status:
            if line.startswith("State:"):
                return line.split()[1]
    return "?"


def tracer_pid(tid: int) -> int:
    with open(f"/proc/{tid}/status") as status:
        for line in status:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return -1


@pytest.fixture
def program(tracee):
    prog = Program(tracee("trapchurn"))
    yield prog
    prog.kill()  # only if a test failed: the others finished it


# -- point 14: kill -9 of the debugger takes the program it started with it --------------

def test_kill_9_of_the_repl_kills_the_program_it_launched(tracee):
    repl = subprocess.Popen(
        [sys.executable, "-m", "pydbg_utrace", "--batch", "-ex", "break target", "-ex", "run",
         tracee("trapchurn")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while True:  # the program's first line: it runs, with the breakpoint planted
            line = repl.stdout.readline()
            assert line, f"the program never ran: {''.join(lines)} {repl.stderr.read()}"
            lines.append(line)
            words = line.split()
            if len(words) == 2 and words[0].startswith("0x") and words[1].isdigit():
                pid = int(words[1])
                break
        gone = os.pidfd_open(pid)
        with open(f"/proc/{pid}/mem", "rb") as mem:
            mem.seek(int(words[0], 16))
            assert mem.read(1) == arch.host().breakpoint_instruction[:1]
        repl.kill()  # SIGKILL: no atexit, no close(), only the kernel can clean up
        repl.wait()
        readable, _, _ = select.select([gone], [], [], TIMEOUT)
        assert readable, f"the program {pid} outlived its debugger's kill -9, trap and all"
        os.close(gone)
    finally:
        repl.kill()
        repl.wait()
