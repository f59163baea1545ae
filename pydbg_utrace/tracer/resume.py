"""The one resumer: every stop ends here, in the cheapest resume that serves every engine.

A thread goes on only when nobody holds it; a REPORT or INTERRUPT asked
meanwhile is reported first; registers changed by engines (or a rewind over
a trap) are written back once; then PTRACE_LISTEN (a group stop), a
step-over of our trap, a single step, PTRACE_SYSCALL (someone wants
syscalls, or an abort's exit) or PTRACE_CONT.  (The fast lane's plain
resume of a syscall stop is :mod:`.fastlane`'s.)
"""

from __future__ import annotations

import logging
from typing import Any

from .. import kernel, seccomp
from ..engine import Report
from ..errors import NotStoppedError
from ..events import Event, Resume
from ..process import State, Thread
from ..seams import TracerSide
from ..syscall_stop import NEXT_OP
from . import ports
from .tables import Reporting

log = logging.getLogger("pydbg_utrace")


class Resumer:
    """Resumes threads, reads and writes their registers, interrupts them."""

    def __init__(self, tracer: TracerSide, reporting: Reporting) -> None:
        self.tracer = tracer
        self.reporting = reporting

    def connect(self, reporter: ports.Reporting, stops: ports.StopHandling,
                traps: ports.TrapHandling) -> None:
        self.reporter = reporter
        self.stops = stops
        self.traps = traps

    def resume(self, thread: Thread) -> None:
        """Let the thread go on if nobody holds it, in the cheapest way that serves all."""
        if thread.state != State.STOPPED or thread is self.reporting.thread:
            # (Asked by control() from a callback of this thread's report: the
            # report's own end resumes it, with every engine's answer combined.)
            return
        if thread.quiesce_owed:
            self.reporter.quiesce_owed(thread)
        if thread.interrupt_report:
            # An INTERRUPT sent while it ran: whichever ptrace stop came first took the
            # kernel's trap ("any trap clears pending STOP trap"), so no interrupt stop
            # follows; the report is owed at this one (a syscall stop, VFORK_DONE...).
            thread.interrupt_report = False
            self.reporter.quiesce_pass(thread, interrupt=True)
        if thread.holds:
            return
        if thread.pending <= Resume.REPORT:
            interrupt = thread.pending == Resume.INTERRUPT
            thread.pending = Resume.RESUME
            if thread.stop.event == Event.SYSCALL_ENTRY and thread.syscall is not None:
                report = Report(self.tracer, thread, Event.SYSCALL_ENTRY)
                report.syscall = thread.syscall
                report.resumed = True
                self.stops.report_syscall_entry(thread, report)
            else:
                self.reporter.quiesce_pass(thread, interrupt)
            if thread.holds:
                return
            if thread.pending <= Resume.REPORT:  # asked again: report once it has run
                # (INTERRUPT: its own mark; REPORT: pending again once the resume has
                # taken it; the next stop's resume pays either, whichever stop takes
                # the interrupt's trap)
                interrupt = thread.pending == Resume.INTERRUPT
                thread.pending = Resume.RESUME
                self.continue_thread(thread)
                if interrupt:
                    thread.interrupt_report = True
                else:
                    thread.pending = Resume.REPORT
                self.interrupt(thread)
                return
        self.continue_thread(thread)

    def continue_thread(self, thread: Thread) -> None:
        """The ptrace request that lets it go: LISTEN, a step-over, a step, SYSCALL or CONT."""
        if thread.release_at_exit is not None:
            self.stops.release_at_exit(thread)
            return
        action = thread.pending
        thread.pending = Resume.RESUME
        try:
            step = bool(thread.steppers) or action in (Resume.SINGLESTEP, Resume.BLOCKSTEP)
            if thread.group_stopped and thread.stop.jobctl:
                # Parked in the group stop, even on a trap: a step-over is no
                # way out of a group stop (and its stop is not one).  The
                # step-over (at_trap is kept) comes when the group continues.
                # Only from a PTRACE_EVENT_STOP: the kernel refuses LISTEN (EIO)
                # at any other stop (its exit stop: it is out of the group stop).
                self.flush_registers(thread)
                try:
                    kernel.listen(thread.tid)
                except kernel.InvalidRequestError:
                    # EIO: it left that stop meanwhile -- killed (a group exit) while
                    # held: its exit stop waits for us, and decides.
                    thread.state = State.RUNNING
                    return
                thread.state = State.LISTENING
                return
            if thread.at_trap is not None and self.traps.still_on_trap(thread):
                self.traps.step_over(thread, step)
                return
            soft = step and self.traps.plant_software_step(thread)
            self.flush_registers(thread)
            sig, thread.stop.inject = thread.stop.inject, 0
            if step and not soft:
                thread.stepping = True
                kernel.singlestep(thread.tid, sig)
            elif thread.abort_result is not None or self.wants_syscalls(thread):
                kernel.cont_syscall(thread.tid, sig)
                lane_state = thread.lane
                if lane_state is not None and not sig:
                    lane_state.next_op = NEXT_OP.get(lane_state.op, 0)
            else:
                kernel.cont(thread.tid, sig)
        except kernel.NoSuchProcessError:
            pass  # killed while stopped: its death report follows
        thread.state = State.RUNNING

    def flush_registers(self, thread: Thread) -> None:
        """Write back what engines (or a rewind) changed; the next stop reads afresh."""
        regs = thread.stop.regs
        if regs is not None and (regs.changed or regs.extra_changed):
            self.write_registers(thread, regs)
        thread.stop.regs = None

    def write_registers(self, thread: Thread, regs: Any) -> None:
        """Write back what engines changed; a value the kernel refuses is dropped.

        The kernel vets register writes (x86_64 refuses a bogus CS with EIO).
        The engine that wrote it has returned long ago, so the refusal is logged
        and the thread goes on with its registers as they were.
        """
        try:
            if regs.changed:
                kernel.set_regset(thread.tid, kernel.NT_PRSTATUS, regs.raw)
            for note in regs.extra_changed:
                kernel.set_regset(thread.tid, note, regs.extra[note])
        except kernel.InvalidRequestError as exc:
            log.error("thread %d: the kernel refused the registers engines wrote (%s); "
                      "they are dropped", thread.tid, exc.strerror)

    @staticmethod
    def wants_syscalls(thread: Thread) -> bool:
        scope = thread.syscall_scope  # seccomp hook: a filter may spare the stops
        if scope is None:
            return thread.syscall_watchers > 0
        return scope.wants_stops(thread.syscall_watchers)

    @staticmethod
    def count_syscall_watchers(thread: Thread) -> None:
        """Recount who wants syscall stops; replan the lane (set_events, detach: not per stop)."""
        bits = int(Event.SYSCALL)
        thread.syscall_watchers = sum(1 for att in thread.attachments
                                      if int(att.events) & bits)
        thread.syscall_scope = seccomp.scope_of(thread)
        if thread.lane is not None:
            thread.lane.replan()

    def interrupt(self, thread: Thread) -> None:
        """PTRACE_INTERRUPT a running or listening thread (its next stop comes as it comes)."""
        # Sent even if one is pending: the kernel keeps one trap flag, so a
        # second request costs nothing (and nothing here waits for the trap:
        # whatever stop comes next is handled as it comes).
        if thread.state not in (State.RUNNING, State.LISTENING):
            return
        try:
            kernel.interrupt(thread.tid)
        except kernel.NoSuchProcessError:
            pass

    def registers(self, thread: Thread) -> Any:
        """The stopped thread's registers, read on first use at this stop."""
        if thread.state != State.STOPPED:
            raise NotStoppedError(f"thread {thread.tid} is not stopped")
        if thread.stop.regs is None:
            arch = thread.arch
            tid = thread.tid
            raw = kernel.get_regset(tid, kernel.NT_PRSTATUS, arch.regset_size)
            thread.stop.regs = arch.registers(
                raw, lambda note, size: kernel.get_regset(tid, note, size))
        return thread.stop.regs
