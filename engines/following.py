"""What every engine of ``trace -f`` does: attach itself to each thread and child it meets.

A small base class so that the summary, the JSON log and the injector follow
new threads and processes the same way the syscall log does: by their
creator's ``report_clone`` (the child is held until it returns), and, for a
running process, by passes over its threads until none is new.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from pydbg_utrace import (
    AttachFlags,
    Attachment,
    Engine,
    Event,
    ExistsError,
    NoSuchThreadError,
    Resume,
)

ONCE = AttachFlags.CREATE | AttachFlags.EXCLUSIVE | AttachFlags.MATCH_OPS


class FollowingEngine(Engine):
    """An engine with an event mask (``wanted``) that follows clones when ``follow``."""

    wanted = Event.NONE
    #: The system call numbers each attachment is narrowed to (seccomp fast path;
    #: docs/engine-api.md), or None for every call.
    syscall_filter: frozenset[int] | None = None

    def __init__(self, follow: bool = False) -> None:
        self.follow = follow

    def events(self) -> Event:
        return self.wanted | (Event.CLONE if self.follow else Event.NONE)

    def attach_to(self, thread) -> Attachment:
        att = thread.attach(self, ONCE)
        if self.syscall_filter is not None:  # before the events: no call slips through
            att.set_syscall_filter(self.syscall_filter)
        att.set_events(self.events())
        return att

    def attach_to_process(self, process) -> list[Attachment]:
        """Every thread of a running process, however its threads come and go."""
        attachments: list[Attachment] = []
        tried: set = set()
        while True:
            new = [t for t in process.thread_list() if t not in tried]
            if not new:
                return attachments
            for thread in new:
                tried.add(thread)
                try:
                    attachments.append(self.attach_running(thread))
                except (ExistsError, NoSuchThreadError):
                    continue  # report_clone was first, or it died: nothing to do

    def attach_running(self, thread) -> Attachment:
        """A thread met already running (``-p``): :meth:`attach_to`, unless told more."""
        return self.attach_to(thread)

    def report_clone(self, att: Attachment, report) -> None:
        if self.follow and report.child is not None:
            try:
                self.attach_to(report.child)
            except ExistsError:
                pass  # a pass of attach_to_process was first


class AttachNotices(FollowingEngine):
    """strace's ``Process N attached`` for each thread and child ``-f`` follows.

    ``say`` writes one message (the front end's: its program name, stderr).
    Said at the creator's ``report_clone``, before the child's first line.
    ``held``: kept back until :meth:`open` -- with ``-p``, strace's "Process N
    attached with M threads" comes first, and a thread born meanwhile must
    not be announced before it.
    """

    name = "attach-notices"

    def __init__(self, say: Callable[[str], None], held: bool = False) -> None:
        super().__init__(follow=True)
        self.say = say
        self.lock = threading.Lock()  # report_clone on the tracer thread, open() on another
        self.waiting: list[str] | None = [] if held else None

    def open(self) -> None:
        """Say what was kept back, and from now on each one as it comes."""
        with self.lock:
            waiting, self.waiting = self.waiting or [], None
            for message in waiting:
                self.say(message)

    def report_clone(self, att: Attachment, report) -> None:
        super().report_clone(att, report)
        if report.child is None:
            return
        message = f"Process {report.child.tid} attached"
        with self.lock:
            if self.waiting is not None:
                self.waiting.append(message)
                return
        self.say(message)


class DetachOnExec(FollowingEngine):
    """strace's ``-b execve``: a traced process that calls execve is let go at its exec.

    The thread is held at its exec report (``Resume.STOP``: the new program
    runs no instruction traced) and handed to whoever reads :attr:`requests`
    (the front end's main thread), which lets the process go through the
    public API: a callback must not detach the thread it reports.  The
    launched program's own exec came before any engine, so it is never
    one of them (strace skips that first exec too).  A thread's reap puts
    None in the queue: the reader looks whether the program has ended.
    Attach it last: the other engines' exec reports come first.
    """

    name = "detach-on-exec"
    wanted = Event.EXEC | Event.REAP

    def __init__(self, follow: bool = False) -> None:
        super().__init__(follow)
        self.requests: queue.SimpleQueue = queue.SimpleQueue()

    def report_exec(self, att: Attachment, report) -> Resume:
        self.requests.put(att.thread)
        return Resume.STOP

    def report_reap(self, att: Attachment, report) -> None:
        self.requests.put(None)
