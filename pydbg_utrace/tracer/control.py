"""Control: the engine API's requests, carried out on the tracer thread.

``attach``, ``set_events``, ``set_syscall_filter``, ``control``,
``barrier``, ``examine`` and an attachment's detach, with utrace's error
codes (in progress, no such thread, already).  Every method runs on the
tracer thread (the facade marshals the calls); a control() from a
callback of the report in progress is combined with that report (the
resumer leaves the reporting thread alone).
"""

from __future__ import annotations

from typing import Any

from .. import lane
from ..engine import Attachment, Engine
from ..errors import (
    AlreadyError,
    ExistsError,
    InProgressError,
    InvalidError,
    NoSuchThreadError,
    NotFoundError,
    NotStoppedError,
    NotSupportedError,
)
from ..events import AttachFlags, Event, Resume
from ..hooks import Hooks
from ..process import Process, State, Thread
from ..seams import ApiSide
from ..stopkinds import LAUNCH_HOLD
from . import ports
from .tables import Tables


class Control:
    """The engine API's requests (tracer thread)."""

    def __init__(self, api: ApiSide, tables: Tables, hooks: Hooks,
                 running: lane.Running) -> None:
        self.api = api
        self.tables = tables
        self.hooks = hooks
        self.running = running  # whose callback runs now (utrace's "own callback" rules)

    def connect(self, resumer: ports.Resuming) -> None:
        self.resumer = resumer

    def attach(self, thread: Thread, engine: Engine | None, flags: AttachFlags,
                data: Any) -> Attachment:
        matches = [
            att for att in thread.attachments
            if not att.detached
            and (not flags & AttachFlags.MATCH_OPS or att.engine is engine)
            and (not flags & AttachFlags.MATCH_DATA or att.data == data)
        ]
        if not flags & AttachFlags.CREATE:
            if not matches:
                raise NotFoundError(f"no matching engine on thread {thread.tid}")
            return matches[0]
        if flags & AttachFlags.EXCLUSIVE and matches:
            raise ExistsError(f"a matching engine is already attached to thread {thread.tid}")
        if not thread.alive:
            raise NoSuchThreadError(f"thread {thread.tid} is dead")
        if engine is None:
            raise InvalidError("attach with CREATE needs an engine")
        att = Attachment(self.api, thread, engine, data)
        thread.attachments.append(att)
        if thread.lane is not None:
            thread.lane.replan()
        return att

    def set_events(self, att: Attachment, events: Event) -> None:
        thread = att.thread
        if att.detached:
            raise NoSuchThreadError(f"engine is detached from thread {thread.tid}")
        lifecycle = Event.DEATH | Event.QUIESCE
        if thread.death_reported and (events ^ att.events) & lifecycle:
            raise AlreadyError(f"thread {thread.tid} is already dying")
        if self.running.current is att and att.events & ~events:
            raise InProgressError("cannot clear events while this engine's callback runs")
        had_syscalls = self.resumer.wants_syscalls(thread)
        att.events = events
        self.resumer.count_syscall_watchers(thread)
        if thread.state == State.RUNNING and had_syscalls != self.resumer.wants_syscalls(thread):
            self.resumer.interrupt(thread)  # re-resume it with or without syscall stops

    def control(self, att: Attachment, action: Resume) -> None:
        thread = att.thread
        if att.detached:
            raise NoSuchThreadError(f"engine is detached from thread {thread.tid}")
        if not thread.alive:
            if action == Resume.DETACH:
                if thread.death_reported:
                    raise AlreadyError(f"thread {thread.tid}: death report began")
                self.detach_attachment(att)
                return
            raise NoSuchThreadError(f"thread {thread.tid} is dead")
        if action == Resume.DETACH:
            self.detach_attachment(att)
            self.resumer.resume(thread)
            return
        if thread.exited and thread.state == State.RUNNING:  # utrace: -ESRCH for exit_state
            raise NoSuchThreadError(f"thread {thread.tid} has exited (a zombie until reaped)")
        if action in (Resume.REPORT, Resume.SINGLESTEP, Resume.BLOCKSTEP) \
                and not att.events & Event.QUIESCE:
            raise InvalidError(f"{action.name} needs Event.QUIESCE in the engine's events")
        if action in (Resume.SINGLESTEP, Resume.BLOCKSTEP) and not thread.arch.has_singlestep:
            raise NotSupportedError(f"{thread.arch.name} has no single-step")
        if action == Resume.STOP:
            thread.holds.add(att)
            if thread.state != State.STOPPED:
                thread.quiesce_owed.add(att)
                self.resumer.interrupt(thread)
                raise InProgressError(f"thread {thread.tid} stops at its next safe point")
            return
        if action == Resume.INTERRUPT and thread.state != State.STOPPED:
            thread.interrupt_report = True
            self.resumer.interrupt(thread)
            return
        thread.holds.discard(att)
        if action in (Resume.SINGLESTEP, Resume.BLOCKSTEP) and att not in thread.steppers:
            thread.steppers.append(att)
        thread.pending = min(thread.pending, action)
        if action == Resume.REPORT and thread.state != State.STOPPED:
            self.resumer.interrupt(thread)
            return
        self.resumer.resume(thread)

    def set_syscall_result(self, thread: Thread, value: int, err: int | None) -> None:
        if thread.stop.event == Event.SYSCALL_EXIT:
            thread.arch.set_syscall_result(self.resumer.registers(thread), value, err)
        else:
            thread.abort_result = (value, err)

    def barrier(self, att: Attachment) -> None:
        """utrace_barrier: NoSuchThreadError once the engine is detached and gone."""
        # Requests run between callbacks, so none of att's is running now.
        if att.detached and att not in att.thread.attachments:
            raise NoSuchThreadError(f"engine is detached from thread {att.thread.tid}")

    def examine(self, att: Attachment) -> Any:
        """The registers, if ``att``'s callback runs or ``att`` holds the thread."""
        thread = att.thread
        if att.detached or not thread.alive:
            raise NoSuchThreadError(f"thread {thread.tid} is gone or the engine detached")
        if self.running.current is not att and att not in thread.holds:
            raise NotStoppedError(
                f"thread {thread.tid} is not held stopped by {att.engine.display_name()}")
        return self.resumer.registers(thread)

    def detach_attachment(self, att: Attachment) -> None:
        """One engine leaves one thread: its holds, steps and (maybe) traps go."""
        att.detached = True
        thread = att.thread
        if att in thread.attachments:
            thread.attachments.remove(att)
            self.resumer.count_syscall_watchers(thread)
        thread.holds.discard(att)
        thread.quiesce_owed.discard(att)
        if att in thread.steppers:
            thread.steppers.remove(att)
        self._engine_leaves(att)

    def _engine_leaves(self, att: Attachment) -> None:
        """Tell the services an engine left a thread (its traps may go with it).

        Not while the process is being let go (detach restores everything) or
        is dead (its memory is going away).
        """
        process = att.thread.process
        if process is None or self.tables.processes.get(process.pid) is not process \
                or not any(t.alive for t in process.threads.values()):
            return
        engine = att.engine
        last = not any(other.engine is engine and not other.detached
                       for t in process.threads.values() for other in t.attachments)
        self.hooks.engine_left(att, last)

    def start(self, process: Process) -> None:
        """Let a launched program run (its launch hold goes)."""
        thread = process.main_thread
        thread.holds.discard(LAUNCH_HOLD)
        self.resumer.resume(thread)
