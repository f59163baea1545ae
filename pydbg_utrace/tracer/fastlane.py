"""The fast lane: a plain syscall stop in the common case, straight from the wait loop.

docs/architecture.md ("The fast lane") says what it serves; the rules are
:mod:`pydbg_utrace.lane`'s, the data :mod:`pydbg_utrace.syscall_stop`'s.
Everything the lane does per stop is in this one module (the loop's test
of the status and the resumer's note of the next op aside), so that it
can be tuned without touching the other parts.
"""

from __future__ import annotations

import sys

from .. import kernel, lane
from ..events import Event, Resume, SyscallAction
from ..process import State, Thread
from ..seams import TracerSide
from ..syscall_stop import SyscallReport
from . import ports
from .tables import Reporting

# The fast lane's constants, loaded once (a module global is one dict lookup;
# an enum member through its class is two, plus a descriptor).
_RESUME = Resume.RESUME
_STOPPED, _RUNNING = State.STOPPED, State.RUNNING
_SYSCALL_ENTRY, _SYSCALL_EXIT = Event.SYSCALL_ENTRY, Event.SYSCALL_EXIT
_RUN, _ABORT = SyscallAction.RUN, SyscallAction.ABORT
_INFO_ENTRY, _INFO_EXIT = kernel.PTRACE_SYSCALL_INFO_ENTRY, kernel.PTRACE_SYSCALL_INFO_EXIT
_getrefcount = sys.getrefcount
_PTRACE_SYSCALL, _NULL = kernel.PTRACE_SYSCALL, kernel.NULL


class FastLane:
    """The lane's handler of a syscall stop."""

    def __init__(self, tracer: TracerSide, running: lane.Running, reporting: Reporting) -> None:
        self.tracer = tracer
        self.running = running
        self.reporting = reporting
        # Counts what may change a thread's state outside the fast lane: a stop
        # taken the general way, a request drained, a call from a callback.  A
        # thread the lane resumed plainly at this count has nothing to check at
        # its next syscall stop if the count has not moved (docs/architecture.md).
        self.epoch = 0

    def connect(self, reporter: ports.Reporting, resumer: ports.Resuming,
                stops: ports.StopHandling, seccomp_stops: ports.SeccompSide) -> None:
        self.reporter = reporter
        self.resumer = resumer
        self.stops = stops
        self.seccomp = seccomp_stops

    def something_ran(self) -> None:
        """Something ran in the tracer outside the lane: each lane stop checks all again."""
        self.epoch += 1


    def on_syscall(self, thread: Thread) -> bool:
        """A syscall stop in the common case, in as few steps as Python allows.

        False (nothing done) when the lane cannot serve this stop: then
        _on_status takes it the general way.  The lane serves a born thread
        of a known process that nobody holds, owes no quiesce (nor an
        interrupt's report: this stop may have taken its trap), has nothing
        pending (no step, no REPORT, no abort result, no trap to step over,
        no group stop, no seccomp scope) and whose engines do not want QUIESCE.
        """
        lane_state = thread.lane
        epoch = self.epoch
        if lane_state is None or lane_state.epoch != epoch:
            # Something ran in the tracer since the lane resumed this thread
            # plainly (or it never did): check everything.
            lane_state = self._lane_serves(thread)
            if lane_state is None:
                return False
            if thread.syscall_scope is not None:  # seccomp: who hears a call depends on it
                return self.seccomp.on_filtered_exit_fast(thread, lane_state.plan)
        # (Else nothing ran since: every condition checked then still holds.
        # Every way out below but the plain resume goes through _leave, which
        # forgets next_op and the epoch.)
        plan = lane_state.plan
        op = lane_state.next_op
        tid = thread.tid
        thread.state = _STOPPED
        info = None
        try:
            if not op:
                info = kernel.get_syscall_info(tid)
                op = info.op
            if op == _INFO_ENTRY:
                event, action, calls = _SYSCALL_ENTRY, _RUN, plan.entry
                next_op = _INFO_EXIT
                if info is None and lane_state.fetch_entry and plan.wants_exit:
                    info = kernel.get_syscall_info(tid)
                entry = thread.syscall = info  # None: fetched only if an engine reads it
            elif op == _INFO_EXIT and (info is None or thread.syscall is not None
                                       and thread.syscall.op != _INFO_EXIT):
                # (info None: the op is known from the entry we resumed; that
                # entry's info may be unread, and then the exit's registers have it)
                event, action, calls = _SYSCALL_EXIT, None, plan.exit
                next_op = _INFO_ENTRY
                entry = thread.syscall
                if info is not None:
                    info.nr, info.args = entry.nr, entry.args
                lane_state.fetch_entry = lane_state.fetch_always  # until an exit reads it
            else:  # an exit whose entry we did not see, a seccomp stop: the general way
                _leave(lane_state, 0)
                self.stops.on_syscall(thread)
                return True
        except kernel.NoSuchProcessError:
            _leave(lane_state, 0)
            return True  # killed (a group exit) since it stopped: its exit stop follows
        report = lane_state.report
        if report is None:
            report = lane_state.report = SyscallReport(self.tracer, thread, event, info, entry)
        else:  # nobody kept the last one (see below), nobody wrote its odd fields
            report.renew(event, info, entry, action)
        thread.stop.event = event
        self.reporting.thread = thread
        try:
            decision = lane.run(plan, calls, event, report, self.running)
        finally:
            self.reporting.thread = None
        if decision is not None or report.syscall_action is _ABORT \
                or _getrefcount(report) > 3:
            return self._general_resume(thread, lane_state, op, event, report, decision)
        if event is _SYSCALL_EXIT:
            thread.syscall = None  # (an exit is never the entry of the next stop)
        if self.epoch != epoch and (  # a callback called into the tracer: what did it ask?
                thread.holds or thread.pending is not _RESUME or thread.stop.regs is not None
                or thread.steppers or thread.abort_result is not None
                or thread.quiesce_owed or not thread.syscall_watchers):
            # A callback asked for more than a plain resume: the general way,
            # which wants an entry's info in thread.syscall.
            _leave(lane_state, op)
            if event is _SYSCALL_ENTRY and thread.syscall is None:
                try:
                    report.syscall  # noqa: B018 (read: sets thread.syscall)
                except kernel.NoSuchProcessError:
                    return True
            self.resumer.resume(thread)
            return True
        # The plain resume, kernel.resume_syscall without its frame.  (Looked up
        # at each call, so that bench/steps.py can count it from outside.)
        if kernel.ptrace_plain(_PTRACE_SYSCALL, tid, _NULL, _NULL) == -1:
            error = kernel.failed("PTRACE_SYSCALL", tid)
            _leave(lane_state, 0)
            if not isinstance(error, kernel.NoSuchProcessError):
                raise error
            # (killed while stopped: its death report follows)
        else:
            lane_state.next_op = next_op
            # (If a callback called into the tracer, the count has moved on
            # since ``epoch``: the next stop checks everything.)
            lane_state.epoch = epoch
        thread.state = _RUNNING
        return True

    def _general_resume(self, thread: Thread, lane_state: lane.LaneState, op: int,
                        event: Event, report: SyscallReport,
                        decision: lane.dispatch.Decision | None) -> bool:
        """Left the lane (or an engine kept the report): from here on the general
        path, with the syscall info read while still at this stop."""
        if _getrefcount(report) > 4:  # (one more than the lane's test: this frame's own)
            lane_state.report = None  # kept: the next stop gets a new one
        _leave(lane_state, op)  # (op: a plain resume from here knows the next)
        try:
            info = report.syscall
        except kernel.NoSuchProcessError:
            return True
        if event is _SYSCALL_EXIT:
            thread.syscall = info
        if decision is not None:
            self.reporter.record(thread, decision)
        if event is _SYSCALL_ENTRY:
            self.stops.after_entry_report(thread, report)
        self.resumer.resume(thread)
        return True

    def _lane_serves(self, thread: Thread) -> lane.LaneState | None:
        """Can the lane take this syscall stop?  Its LaneState if so, after the
        bookkeeping of any stop; None (nothing done) if not."""
        lane_state = thread.lane
        if lane_state is None:
            if thread.process is None:
                return None
            lane_state = thread.lane = lane.LaneState(thread.arch.keeps_syscall_at_exit)
        plan = lane_state.plan
        if plan is None:
            plan = lane_state.plan = lane.Plan(thread.attachments)
        if not plan.usable or thread.holds or thread.quiesce_owed or thread.steppers \
                or thread.pending is not _RESUME or thread.abort_result is not None \
                or thread.at_trap is not None or thread.group_stopped or not thread.born \
                or thread.release_at_exit is not None or thread.process is None \
                or thread.interrupt_report:  # (this stop took the interrupt's trap: it owes one)
            return None
        stop = thread.stop  # a new stop: StopState.reset(False), inlined (the hot path)
        stop.regs = None
        stop.inject = 0
        stop.event = 0
        stop.jobctl = False
        thread.process.settled(thread.tid)
        return lane_state


def _leave(lane_state: lane.LaneState, op: int) -> None:
    """The stop leaves the lane: the next one is checked again, its op asked
    of the kernel (unless a plain resume from ``op`` tells it)."""
    lane_state.op = op
    lane_state.next_op = 0
    lane_state.epoch = -1
