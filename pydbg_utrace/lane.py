"""The fast lane: a syscall stop in the common case, decided without the general machinery.

Rule 1: this file decides nothing of its own.  The utrace rules live in
:mod:`pydbg_utrace.dispatch`; the lane is a shortcut through them for one
shape of report, and the moment a report leaves that shape it is handed to
``dispatch.report_rest`` at the very engine where it left, with the answers
so far folded in as dispatch would have folded them.
Rule 2: no I/O here either (the tracer fetches and resumes).

The common case (docs/architecture.md, "The fast lane"): a syscall entry or
exit stop on a thread that no engine holds, that owes nobody a quiesce
report and has no engine with ``QUIESCE`` in its events.  Then dispatch
would call the engines that want the event one after the other, each seeing
``report.action == RESUME``, and as long as each answers ``None`` nothing is
combined at all: the decision is "resume, nothing to record".

A :class:`Plan` is that calling sequence worked out once per thread, as
bound callbacks with plain-int masks: made when the thread's engines or
their events change, not per stop.  Anything that could
change it mid-report (attach, detach, set_events) marks the plan ``stale``,
and a stale plan hands over after the callback that made it so.

tests/test_lane.py proves on random engine sets and answers (hypothesis)
that the lane and dispatch take the same decision, call the same callbacks
in the same order and show them the same report.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import dispatch
from .events import Event, Resume

_QUIESCE = int(Event.QUIESCE)
_ENTRY = int(Event.SYSCALL_ENTRY)
_EXIT = int(Event.SYSCALL_EXIT)
_RESUME = Resume.RESUME


class Running:
    """Whose callback runs right now (None between callbacks).

    One object the tracer reads for utrace's "from inside this engine's own
    callback" rules (set_events, examine, control) and that both paths
    write: dispatch through :meth:`set`, the lane directly.
    """

    __slots__ = ("current",)

    def __init__(self) -> None:
        self.current: object = None

    def set(self, att: object) -> None:
        self.current = att


class LaneState:
    """The fast lane's memory of one thread (``Thread.lane``), kept by the tracer."""

    __slots__ = ("plan", "next_op", "op", "report", "fetch_entry", "fetch_always", "epoch")

    def __init__(self, exit_keeps_entry: bool = False) -> None:
        self.plan: Plan | None = None  # None: make it again before the next lane stop
        self.next_op = 0  # the op of the next syscall stop, if known (0: ask the kernel)
        self.op = 0  # the op of the current syscall stop, once known
        self.report: object = None  # the last SyscallReport, reused while nobody keeps it
        # Read the entry's number and arguments at the entry stop when an engine
        # wants the exit?  Always where the exit stop's registers lose them
        # (``exit_keeps_entry`` false); elsewhere only while the last exit report
        # had them read (a guess: a thread's engines read them at every exit or
        # at none; a wrong guess costs a register read at the exit).
        self.fetch_always = not exit_keeps_entry
        self.fetch_entry = True
        self.epoch = -1  # the tracer's epoch at the last plain resume by the lane (-1: none)

    def replan(self) -> None:
        """The thread's engines or their events changed: the plan is out of date."""
        self.epoch = -1
        if self.plan is not None:
            self.plan.stale = True
            self.plan = None


class Plan:
    """One thread's syscall reports, precomputed: who is called, in which order.

    ``usable`` is false when the lane cannot serve this thread at all (an
    engine wants QUIESCE: it must be told before every callback, which the
    lane does not do).  ``entry`` / ``exit`` are ``(attachment, callback)``
    pairs in calling order (reversed for entry).  ``wants_exit``: some engine
    will want the exit report, so the entry's number and arguments must be
    read at the entry stop (the exit stop does not have them).
    """

    __slots__ = ("attachments", "usable", "entry", "exit", "wants_exit", "stale")

    def __init__(self, attachments: Sequence[dispatch.Attached]):
        self.attachments = tuple(attachments)
        masks = [int(att.events) for att in self.attachments]
        self.usable = not any(mask & _QUIESCE for mask in masks) and not any(
            att.detached for att in self.attachments)
        pairs = list(zip(self.attachments, masks, strict=True))
        self.entry = tuple((att, att.engine.report_syscall_entry)
                           for att, mask in reversed(pairs) if mask & _ENTRY)
        self.exit = tuple((att, att.engine.report_syscall_exit)
                          for att, mask in pairs if mask & _EXIT)
        self.wants_exit = any(mask & _EXIT for mask in masks)
        self.stale = False


def run(plan: Plan, calls: tuple, event: Event, report: dispatch.Reported, running: Running
        ) -> dispatch.Decision | None:
    """Report ``event`` through ``calls`` (``plan.entry`` for SYSCALL_ENTRY, else ``plan.exit``).

    ``None``: every engine answered ``None`` -- the decision dispatch would
    take is "resume; every engine called is released; nothing else", which
    on a thread nobody holds leaves nothing to record.  Otherwise the
    :class:`dispatch.Decision` of the whole report, finished by dispatch.
    """
    resume = _RESUME
    att = None
    try:  # (around the loop, not in it: one instruction less per engine)
        for att, callback in calls:
            report.action = resume
            running.current = att
            answer = callback(att, report)
            if answer is not None or plan.stale:  # (a detach makes the plan stale)
                break
        else:
            running.current = None
            return None
    except BaseException as exc:  # like dispatch: an engine's bug must not harm the others
        running.current = None
        return _hand_over(plan, calls, att, event, report, running, None, exc)
    running.current = None
    return _hand_over(plan, calls, att, event, report, running, answer, None)


def _hand_over(plan: Plan, calls: tuple, att: dispatch.Attached, event: Event,
               report: dispatch.Reported, running: Running, answer: object,
               failure: BaseException | None) -> dispatch.Decision:
    """Rebuild dispatch's state at ``att``'s answer and let dispatch finish the report."""
    index = next(i for i, (called, _) in enumerate(calls) if called is att)
    decision = dispatch.Decision()
    decision.released = [called for called, _ in calls[:index]]  # each answered None
    decision.called = index + 1
    gone: set[int] = set()
    dispatch.combine(att, answer, failure, report, decision, gone)
    order = dispatch.calling_order(plan.attachments, event)
    rest = order[order.index(att) + 1:]
    return dispatch.report_rest(rest, event, report, decision, gone, None, running.set)
