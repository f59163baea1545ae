"""Helpers for the scenarios' ``run_utrace``: the same checks, through the multiplexer.

Scenarios drive the tracee with engines (subclasses of
:class:`pydbg_utrace.Engine`) whose callbacks run on the tracer thread and
answer with resume actions; what the scenario must check afterwards is
posted from the callbacks into a :class:`Log` that the scenario's own thread
reads, blocking (the runner's watchdog turns a hang into a verdict).
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from contextlib import contextmanager

from pydbg_utrace import Engine, InProgressError, Resume, Tracer

from .raw import Pipes
from .util import TIMEOUT_SCALE, Fail, log

_fd_lock = threading.Lock()


@contextmanager
def tracer():
    """A Tracer that is closed however the scenario ends.

    ``close()`` detaches rather than kills: ``close(kill=True)`` waits forever
    for a fork child the tracer let go untraced (it stays in
    ``Tracer._processes``; see docs/ptrace-tests.md).  Tracees are launched
    with ``kill_on_exit`` and the runner kills the scenario's whole session
    afterwards, so nothing is left behind either way.
    """
    t = Tracer()
    try:
        yield t
    except BaseException:
        _bounded_close(t)
        raise
    if not _bounded_close(t):
        raise Fail(f"tracer.close() blocked for more than {CLOSE_TIMEOUT:.0f}s")


CLOSE_TIMEOUT = 3.0


def _bounded_close(t: Tracer) -> bool:
    """close() in a helper thread: a close that hangs must not eat the verdict."""
    closer = threading.Thread(target=_close, args=(t,), daemon=True)
    closer.start()
    closer.join(CLOSE_TIMEOUT)
    if closer.is_alive():
        log(f"tracer.close() still blocked after {CLOSE_TIMEOUT}s")
        return False
    return True


def _close(t: Tracer) -> None:
    try:
        t.close()
    except Exception as exc:  # a verdict is already on its way
        log(f"tracer.close: {exc!r}")


def launch(t: Tracer, binary: str, *args: str):
    """``tracer.launch`` with the tracee's stdin/stdout on pipes of ours.

    ``Tracer.launch`` has no redirection, and the child inherits our fds 0 and
    1: so they point at the pipes just for the moment of the fork.
    """
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    with _fd_lock:
        saved = os.dup(0), os.dup(1)
        try:
            os.dup2(r_in, 0)
            os.dup2(w_out, 1)
            proc = t.launch([binary, *args], kill_on_exit=True)
        finally:
            os.dup2(saved[0], 0)
            os.dup2(saved[1], 1)
            os.close(saved[0])
            os.close(saved[1])
    os.close(r_in)
    os.close(w_out)
    return proc, Pipes(w_in, r_out)


def spawn(binary: str, *args: str):
    """Start ``binary`` untraced, as a child of this (main) thread, not the tracer's."""
    import subprocess

    p = subprocess.Popen([binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         close_fds=True)
    pipes = Pipes(p.stdin.fileno(), p.stdout.fileno())
    pipes.popen = p  # keep the file objects (and so the fds) alive
    return p, pipes


class Log:
    """Observations posted by callbacks (tracer thread), read by the scenario."""

    def __init__(self):
        self.q: queue.Queue = queue.Queue()
        self.problems: list[str] = []

    def post(self, *item) -> None:
        log(f"engine: {item}")
        self.q.put(item)

    def problem(self, msg: str) -> None:
        """Something a callback found wrong; fails the scenario at the next take()."""
        log(f"engine problem: {msg}")
        self.problems.append(msg)
        self.q.put(("problem", msg))

    def take(self, *kinds: str, within: float | None = None, why: str = "") -> tuple:
        """The next observation, which must be of one of ``kinds``.

        ``within`` bounds the wait where a missing report is the failure being
        tested (not as synchronisation: the report is expected right away).
        """
        try:
            item = self.q.get(timeout=None if within is None else within * TIMEOUT_SCALE)
        except queue.Empty:
            raise Fail(f"no {'/'.join(kinds)} report within {within}s{why}") from None
        if item[0] == "problem" or (kinds and item[0] not in kinds):
            raise Fail(f"expected {'/'.join(kinds)}, engine saw {item}")
        return item

    def check(self) -> None:
        if self.problems:
            raise Fail(self.problems[0])


class Observer(Engine):
    """An engine that posts every callback it gets into a :class:`Log`.

    Scenario engines subclass it and override the callbacks they decide in.
    """

    def __init__(self, out: Log | None = None):
        self.out = out or Log()
        self.atts: dict[int, object] = {}

    def watch(self, thread, events):
        att = thread.attach(self)
        att.set_events(events)
        self.atts[thread.tid] = att
        return att


def exit_status(proc, timeout: float = 30.0) -> int:
    status = proc.wait(timeout)
    if status is None:
        raise Fail(f"process {proc.pid} still alive after {timeout:.0f}s")
    return status


def expect_exit(proc, code: int, what: str = "tracee") -> None:
    status = exit_status(proc)
    if os.WIFSIGNALED(status):
        import signal

        raise Fail(f"{what} killed by {signal.Signals(os.WTERMSIG(status)).name}")
    if os.WEXITSTATUS(status) != code:
        raise Fail(f"{what} exit code: got {os.WEXITSTATUS(status)}, want {code}")


class JobWatcher(Observer):
    """Posts job-control, signal, quiesce and death reports.

    It decides nothing, except that with ``hold_continued`` it holds (STOP) a
    thread that reports the group's continuation or the SIGCONT's delivery.
    """

    hold_continued = False

    def __init__(self, out: Log | None = None):
        super().__init__(out)
        # Threads this engine means to keep stopped: every callback, the
        # quiesce ones included, answers STOP for them (a RESUME answer from
        # any callback would let go: STOP is sticky only until the engine's
        # next answer).
        self.holding: set[int] = set()

    def hold(self, tid: int) -> Resume:
        self.holding.add(tid)
        return Resume.STOP

    def release(self, tid: int) -> None:
        self.holding.discard(tid)
        self.atts[tid].control(Resume.RESUME)

    def report_quiesce(self, att, r):
        self.out.post("quiesce", att.thread.tid, r.event)
        if att.thread.tid in self.holding:
            return Resume.STOP

    def report_jctl(self, att, r):
        self.out.post("jctl", att.thread.tid, r.jctl.name)
        if self.hold_continued and r.jctl.name == "CONTINUED":
            return self.hold(att.thread.tid)

    def drain(self) -> list[tuple]:
        """What was posted so far (every report made before now)."""
        items = []
        while not self.out.q.empty():
            items.append(self.out.q.get_nowait())
        return items

    def report_signal(self, att, r):
        self.out.post("signal", att.thread.tid, r.signo)
        if self.hold_continued and r.signo == signal.SIGCONT:
            return self.hold(att.thread.tid)

    def report_death(self, att, r):
        self.out.post("death", att.thread.tid, r.exit_code)

    def take_skipping(self, kind: str, skip=("quiesce", "signal"), **kw) -> tuple:
        while True:
            item = self.out.take(kind, "death", *skip, **kw)
            if item[0] == kind:
                return item
            if item[0] == "death":
                raise Fail(f"thread {item[1]} died (status {item[2]:#x}) "
                           f"while waiting for {kind}")


def stop_now(eng: JobWatcher, att) -> None:
    """utrace_control(STOP) and, if it is in progress, the report_quiesce that must follow.

    The engine answers STOP from that report_quiesce (and every later one)
    until ``eng.release(tid)``.  While it waits, only the thread asked to stop
    may report (its jctl or signal report may come first, each after its own
    quiesce): the others are stopped or listening, so a report of theirs is a
    failure, not noise to skip.
    """
    tid = att.thread.tid
    eng.holding.add(tid)
    try:
        att.control(Resume.STOP)
    except InProgressError:
        while True:
            item = eng.out.take("quiesce", "jctl", "signal", within=3.0,
                                why=f" from thread {tid} after control(STOP) answered "
                                    f"'in progress'")
            if item[1] != tid:
                raise Fail(f"thread {item[1]} reported {item[:1] + item[2:]} while "
                           f"thread {tid} was being stopped") from None
            if item[0] == "quiesce":
                return
