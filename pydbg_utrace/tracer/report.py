"""Reporting one stop: dispatch runs the engines, the decision goes into the thread.

The rules (who is called, in which order, how answers combine) are
:mod:`pydbg_utrace.dispatch`'s; this part only feeds it and records the
result: holds, detaches, steps, the pending resume.  Also the reports with
no event of their own: quiesce passes (REPORT/INTERRUPT, a STOP's promise)
and the artificial signal a report with no signal may ask for.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence

from .. import dispatch, kernel, lane, signals
from ..engine import Attachment, Report
from ..events import Event, Resume, SignalAction
from ..process import Thread
from ..seams import TracerSide
from . import ports
from .tables import Reporting

log = logging.getLogger("pydbg_utrace")


class Reporter:
    """Runs dispatch for a stop and records its decision."""

    def __init__(self, tracer: TracerSide) -> None:
        self.tracer = tracer
        self.running = lane.Running()  # whose callback is running (.current)
        self.reporting = Reporting()  # whose report is being dispatched (.thread)

    def connect(self, control: ports.Detaching) -> None:
        self.control = control

    def report(self, thread: Thread, report: Report, event: Event,
               wanted: Event | None = None,
               attachments: Sequence[Attachment] | None = None) -> dispatch.Decision:
        """Run dispatch for ``event`` and record who holds the thread stopped."""
        thread.stop.event = event
        atts = thread.attachments if attachments is None else attachments
        held = any(hold in atts for hold in thread.holds)
        reporting = self.reporting
        outer, reporting.thread = reporting.thread, thread
        try:
            decision = dispatch.report(atts, event, report, wanted, self.running.set, held)
        finally:
            reporting.thread = outer
        self.record(thread, decision)
        return decision

    def record(self, thread: Thread, decision: dispatch.Decision) -> None:
        """Carry the engines' decision into the thread: holds, detaches, steps, pending."""
        for att, exc in decision.failed:
            log.error("engine %s raised in a callback on thread %d and was detached: %r",
                      att.engine.display_name(), thread.tid, exc, exc_info=exc)
        for att in decision.detached:
            self.control.detach_attachment(att)
        for att in decision.stopped:
            thread.holds.add(att)
        for att in decision.released:
            thread.holds.discard(att)
        if thread.quiesce_owed:  # a callback at this stop is the report STOP promised
            thread.quiesce_owed.difference_update(decision.stopped, decision.released)
        if decision.resume in (Resume.SINGLESTEP, Resume.BLOCKSTEP):
            for att in decision.released:
                if att not in thread.steppers:
                    thread.steppers.append(att)
        thread.pending = min(thread.pending, decision.resume)

    def quiesce_pass(self, thread: Thread, interrupt: bool) -> None:
        """The report a REPORT/INTERRUPT asked for: quiesce, or report_signal(REPORT)."""
        report = Report(self.tracer, thread, Event.NONE)
        if interrupt:
            report.signal_action = SignalAction.REPORT
            report.event = Event.SIGNAL
            report.siginfo = kernel.Siginfo.fresh()  # for an artificial signal
            self.report(thread, report, Event.SIGNAL, Event.SIGNAL_ALL)
            self.send_artificial(thread, report.signal_action, report.siginfo)
        else:
            self.report(thread, report, Event.NONE)

    def send_artificial(self, thread: Thread, action: SignalAction, info: kernel.Siginfo
                         ) -> None:
        """Carry out a signal disposition answered to a report with no signal.

        utrace lets that report "stop or deliver an artificial signal".  We
        can only inject a signal at a signal-delivery stop, and this is not
        one: so the signal is sent with tgkill, and at its delivery stop it
        gets the engine's siginfo and goes on without being reported again.
        TERM/CORE/STOP/TSTP without a signal number use SIGTERM/SIGQUIT/
        SIGSTOP/SIGTSTP; DELIVER/HANDLER deliver ``info.signo`` (if any) to
        the program's own disposition; REPORT/IGN do nothing.
        """
        if action in (SignalAction.REPORT, SignalAction.IGN):
            return
        signo = info.signo or signals.ARTIFICIAL_DEFAULT.get(action, 0)
        if not 0 < signo < signal.NSIG:
            return
        natural = signals.disposition(signo, *signals.read_masks(thread.tid))
        wanted = SignalAction.DELIVER if action == SignalAction.HANDLER else action
        sig = signals.signal_to_inject(wanted, signo, natural)
        if sig == 0:
            return
        if sig != signal.SIGKILL:
            info.signo = sig
            thread.artificial = info
        try:
            kernel.tgkill(thread.process.pid, thread.tid, sig)
        except kernel.NoSuchProcessError:
            thread.artificial = None

    def quiesce_owed(self, thread: Thread) -> None:
        """The report_quiesce that control(STOP)'s InProgressError promised.

        Most stops report an event, and its callbacks pay the debt (see _report).
        The stops that report nothing (a new thread's first stop, VFORK_DONE, a
        thread released after another's step-over) pay it here, to exactly the
        engines still owed: the others are not told of a stop twice.
        """
        owed = [att for att in thread.attachments if att in thread.quiesce_owed]
        thread.quiesce_owed.clear()
        if owed:
            self.report(thread, Report(self.tracer, thread, Event.NONE), Event.NONE,
                         attachments=owed)
