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
from ..syscall_stop import NEXT_OP, SyscallReport
from . import ports
from .tables import Reporting

# The fast lane's constants, loaded once (a module global is one dict lookup;
# an enum member through its class is two, plus a descriptor).
_RESUME = Resume.RESUME
_STOPPED, _RUNNING = State.STOPPED, State.RUNNING
_SYSCALL_ENTRY, _SYSCALL_EXIT = Event.SYSCALL_ENTRY, Event.SYSCALL_EXIT
_RUN, _ABORT = SyscallAction.RUN, SyscallAction.ABORT
_INFO_ENTRY, _INFO_EXIT = kernel.PTRACE_SYSCALL_INFO_ENTRY, kernel.PTRACE_SYSCALL_INFO_EXIT
_NEXT_OP = NEXT_OP
_getrefcount = sys.getrefcount


class FastLane:
    """The lane's handler of a syscall stop."""

    def __init__(self, tracer: TracerSide, running: lane.Running, reporting: Reporting) -> None:
        self.tracer = tracer
        self.running = running
        self.reporting = reporting

    def connect(self, reporter: ports.Reporting, resumer: ports.Resuming,
                stops: ports.StopHandling) -> None:
        self.reporter = reporter
        self.resumer = resumer
        self.stops = stops

    def on_syscall(self, thread: Thread) -> bool:
        """A syscall stop in the common case, in as few steps as Python allows.

        False (nothing done) when the lane cannot serve this stop: then
        _on_status takes it the general way.  The lane serves a born thread
        of a known process that nobody holds, owes no quiesce, has nothing
        pending (no step, no REPORT, no abort result, no trap to step over,
        no group stop, no seccomp scope) and whose engines do not want QUIESCE.
        """
        lane_state = thread.lane
        if lane_state is None:
            lane_state = thread.lane = lane.LaneState()
        plan = lane_state.plan
        if plan is None:
            plan = lane_state.plan = lane.Plan(thread.attachments)
        if not plan.usable or thread.holds or thread.quiesce_owed or thread.steppers \
                or thread.pending is not _RESUME or thread.abort_result is not None \
                or thread.at_trap is not None or thread.group_stopped or not thread.born \
                or thread.release_at_exit is not None or thread.process is None \
                or thread.syscall_scope is not None:  # seccomp: who hears a call depends on it
            return False
        op, lane_state.next_op = lane_state.next_op, 0
        tid = thread.tid
        thread.state = _STOPPED
        stop = thread.stop  # a new stop: StopState.reset(False), inlined (the hot path)
        stop.regs = None
        stop.inject = 0
        stop.event = 0
        stop.jobctl = False
        thread.process.settled(tid)
        info = None
        try:
            if not op:
                info = kernel.SyscallInfo.undecoded(kernel.fetch_syscall_info(tid))
                op = info.op
            if op == _INFO_ENTRY:
                event = _SYSCALL_ENTRY
                if info is None and plan.wants_exit:
                    info = kernel.SyscallInfo.undecoded(kernel.fetch_syscall_info(tid))
                entry = thread.syscall = info  # None: fetched only if an engine reads it
            elif op == _INFO_EXIT and thread.syscall is not None \
                    and thread.syscall.op != _INFO_EXIT:
                event = _SYSCALL_EXIT
                entry = thread.syscall
                if info is not None:
                    info.nr, info.args = entry.nr, entry.args
            else:  # an exit whose entry we did not see, a seccomp stop: the general way
                lane_state.op = 0
                self.stops.on_syscall(thread)
                return True
        except kernel.NoSuchProcessError:
            return True  # killed (a group exit) since it stopped: its exit stop follows
        lane_state.op = op
        report = lane_state.report
        if report is None or report.written or _getrefcount(report) > 3:
            report = lane_state.report = SyscallReport(self.tracer, thread, event, info, entry)
        else:  # nobody kept the last one: make it this stop's
            report.renew(event, info, entry)
        if event is _SYSCALL_ENTRY:
            report.syscall_action = _RUN
            calls = plan.entry
        else:
            calls = plan.exit
        stop.event = event
        reporting = self.reporting
        reporting.thread = thread
        try:
            decision = lane.run(plan, calls, event, report, self.running)
        finally:
            reporting.thread = None
        if decision is not None or report.syscall_action is _ABORT \
                or _getrefcount(report) > 3:
            # Left the lane (or an engine kept the report): from here on the
            # general path, with the syscall info read while still at this stop.
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
        if event is _SYSCALL_EXIT:
            thread.syscall = None  # (an exit is never the entry of the next stop)
        if thread.holds or thread.pending is not _RESUME or stop.regs is not None \
                or thread.steppers or thread.abort_result is not None \
                or thread.quiesce_owed or not thread.syscall_watchers:
            self.resumer.resume(thread)  # a callback asked for more than a plain resume
            return True
        try:
            kernel.resume_syscall(tid)
            lane_state.next_op = _NEXT_OP[op]
        except kernel.NoSuchProcessError:
            pass  # killed while stopped: its death report follows
        thread.state = _RUNNING
        return True
