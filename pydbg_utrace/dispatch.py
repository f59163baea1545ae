"""The utrace reporting rules, as a pure state machine.

Rule 1: everything that decides *who is called, in which order, and how their
answers combine* lives in this file.
Rule 2: this file does no I/O and never touches ptrace.  The tracer hands it
the attachments of a stopped thread and an event; it calls the callbacks and
returns a :class:`Decision`; the tracer carries the decision out.

Theory of operation (kernel/utrace.c, seed 004):

* Engines are called in attach order -- reversed for syscall entry, so the
  engine attached last is "closest to user mode".
* An engine whose events include QUIESCE gets ``report_quiesce`` just before
  its event callback (even for an event it did not ask for).
* The set of engines is fixed when the report starts: an engine attached
  during the report first hears of the next event.  An engine that answered
  DETACH (or was detached meanwhile) is called no more.
* Each callback sees the combination of the answers before it
  (``report.action``); the final resume action is the minimum of all.
* An engine's *last* answer in a report decides whether it holds the thread
  stopped (STOP is sticky: the tracer keeps the thread stopped until every
  engine holding it lets go).
* Dispositions chain: each engine sees the previous one's signal or syscall
  action and may replace it; the last one that answers one wins.  An answer
  without a disposition keeps the one it was shown; a DETACH answer's
  disposition counts too.
* A callback that raises -- anything, ``SystemExit`` and ``KeyboardInterrupt``
  included: it runs on the tracer thread, which must outlive it -- is treated
  as DETACH and reported in ``failed``; but :class:`ReportCutShort` (the
  thread died under the report) ends the report, blaming nobody.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .events import Action, Event, Resume, SignalAction, SyscallAction

#: Which callback serves which event.
CALLBACKS: dict[Event, str] = {
    Event.QUIESCE: "report_quiesce",
    Event.REAP: "report_reap",
    Event.CLONE: "report_clone",
    Event.EXEC: "report_exec",
    Event.EXIT: "report_exit",
    Event.DEATH: "report_death",
    Event.SYSCALL_ENTRY: "report_syscall_entry",
    Event.SYSCALL_EXIT: "report_syscall_exit",
    Event.SIGNAL: "report_signal",
    Event.SIGNAL_IGN: "report_signal",
    Event.SIGNAL_STOP: "report_signal",
    Event.SIGNAL_TERM: "report_signal",
    Event.SIGNAL_CORE: "report_signal",
    Event.JCTL: "report_jctl",
    Event.STEP: "report_step",
    Event.BREAKPOINT: "report_breakpoint",
}


class Attached(Protocol):
    """What dispatch needs of an attachment."""

    engine: object
    events: Event
    detached: bool


class Reported(Protocol):
    """What dispatch needs of a report: the fields it keeps up to date."""

    action: Resume
    signal_action: SignalAction | None
    syscall_action: SyscallAction | None


class ReportCutShort(Exception):
    """Raised inside a callback by the report itself when the thread died under it.

    (A group exit killed it after its stop, so what the report reads lazily
    -- a syscall stop's info -- is gone.)  Not the engine's fault: it is not
    detached, and the report ends there, the engines after it not called,
    as a stop whose thread dies before it is reported is not reported at all.
    """


@dataclass(slots=True)
class Decision:
    """What the engines decided, for the tracer to carry out."""

    action: Resume = Resume.RESUME  # minimum of every answer (STOP included)
    resume: Resume = Resume.RESUME  # minimum of the answers other than STOP
    stopped: list = field(default_factory=list)  # last answer was STOP
    released: list = field(default_factory=list)  # last answer was not STOP
    detached: list = field(default_factory=list)  # answered DETACH
    failed: list = field(default_factory=list)  # (attachment, exception)
    called: int = 0  # how many callbacks ran
    hold: bool = False  # the signal goes back on the queue
    cut: bool = False  # the thread died under the report (ReportCutShort)


def normalize(answer: object) -> Action:
    """A callback's answer as an :class:`Action` (``None`` means resume).

    Anything else raises TypeError or ValueError, which counts as the engine
    failing.  That includes a bare disposition or bool: as ints they would
    silently mean a resume action (``SignalAction.DELIVER == 0 == STOP``).
    """
    if answer is None:
        return Action()
    if isinstance(answer, tuple):
        resume, disposition, hold = Action(*answer)
        if disposition is not None and not isinstance(disposition,
                                                      SignalAction | SyscallAction):
            raise TypeError(f"not a SignalAction or SyscallAction: {disposition!r}")
        if not isinstance(hold, bool):
            raise TypeError(f"hold is not a bool: {hold!r}")
        return Action(_resume(resume), disposition, hold)
    return Action(_resume(answer))


def _resume(value: object) -> Resume:
    if isinstance(value, Resume):
        return value
    if not isinstance(value, int) or isinstance(value, bool | enum.Enum):
        raise TypeError(f"not a Resume action: {value!r}")
    return Resume(value)


def calling_order(attachments: Sequence[Attached], event: Event) -> list:
    """Attach order; reversed for syscall entry."""
    if event == Event.SYSCALL_ENTRY:
        return list(reversed(attachments))
    return list(attachments)


def report(attachments: Sequence[Attached], event: Event, report: Reported,
           wanted: Event | None = None,
           running: Callable[[Attached | None], None] | None = None,
           held: bool = False) -> Decision:
    """Run one report of ``event`` through ``attachments`` and combine the answers.

    ``wanted`` is the event mask that selects the engines whose event callback
    runs (default: ``event`` itself); a signal report with no signal uses
    ``Event.SIGNAL_ALL``.  ``Event.NONE`` runs only ``report_quiesce``.
    ``running`` is told whose callback is about to run (and ``None`` after).
    ``held``: an engine still holds the thread from an earlier report, so the
    callbacks see STOP in ``report.action`` from the start (as in the kernel).
    """
    decision = Decision(action=Resume.STOP if held else Resume.RESUME)
    return report_rest(calling_order(attachments, event), event, report, decision, set(),
                       wanted, running)


def report_rest(order: Sequence[Attached], event: Event, report: Reported, decision: Decision,
                gone: set[int], wanted: Event | None = None,
                running: Callable[[Attached | None], None] | None = None) -> Decision:
    """The rest of a report: run ``order`` (already in calling order) on top of ``decision``.

    :func:`report` is this over the whole calling order.  The tracer's fast
    lane (:mod:`pydbg_utrace.lane`) hands a report over to it in the middle,
    once an answer leaves the common case, so both paths share these rules.
    """
    callback = CALLBACKS.get(event) if event else None
    wanted = event if wanted is None else wanted
    wanted_bits = int(wanted)
    for att in order:
        if decision.cut:
            break
        # int.__and__: the IntFlag operator builds a new Event each time, a
        # cost paid for every engine at every stop.
        if _and(att.events, _QUIESCE) and _still_attached(att, gone):
            _call(att, "report_quiesce", report, decision, gone, running)
        if callback and _and(att.events, wanted_bits) and _still_attached(att, gone):
            _call(att, callback, report, decision, gone, running)
    # An engine detached meanwhile by someone else (control(DETACH) from another
    # callback) holds nothing: finish_callback_report treats it like DETACH.
    for answers in (decision.stopped, decision.released):
        answers[:] = [att for att in answers if not att.detached]
    return decision


_and = int.__and__
_QUIESCE = int(Event.QUIESCE)


def _still_attached(att: Attached, gone: set[int]) -> bool:
    return not att.detached and id(att) not in gone


def _call(att: Attached, callback: str, report: Reported, decision: Decision,
          gone: set[int], running: Callable[[Attached | None], None] | None) -> None:
    report.action = decision.action
    decision.called += 1
    if running is not None:
        running(att)
    try:
        answer = getattr(att.engine, callback)(att, report)
    except BaseException as exc:  # an engine's bug (even sys.exit()) must not harm the others
        combine(att, None, exc, report, decision, gone)
        return
    finally:
        if running is not None:
            running(None)
    combine(att, answer, None, report, decision, gone)


def combine(att: Attached, answer: object, failure: BaseException | None, report: Reported,
            decision: Decision, gone: set[int]) -> None:
    """Fold one callback's answer (or the exception it raised) into ``decision``.

    finish_callback_report in kernel/utrace.c.  The callback has already been
    counted in ``decision.called``.
    """
    if failure is None and answer is None:  # the common answer, "resume": nothing to combine
        _move(att, decision.stopped, decision.released)
        return
    if isinstance(failure, ReportCutShort):  # the thread died: nobody's fault, the report ends
        decision.cut = True
        _move(att, decision.stopped, decision.released)
        return
    if failure is None:
        try:
            answer = normalize(answer)
        except BaseException as exc:  # a malformed answer counts as the engine failing
            failure = exc
    if failure is not None:
        decision.failed.append((att, failure))
        _forget(att, decision, gone)
        return
    # finish_callback sets report->result before it looks at DETACH: an answer
    # like (DETACH, ABORT) still aborts the call.
    _take_disposition(answer, report, decision)
    if answer.resume == Resume.DETACH:
        _forget(att, decision, gone)
        return
    decision.action = min(decision.action, answer.resume)
    report.action = decision.action
    if answer.resume == Resume.STOP:
        _move(att, decision.released, decision.stopped)
    else:
        decision.resume = min(decision.resume, answer.resume)
        _move(att, decision.stopped, decision.released)


def _take_disposition(answer: Action, report: Reported, decision: Decision) -> None:
    if isinstance(answer.disposition, SignalAction):
        report.signal_action = answer.disposition
        decision.hold = answer.hold
    elif isinstance(answer.disposition, SyscallAction):
        report.syscall_action = answer.disposition


def _forget(att: Attached, decision: Decision, gone: set[int]) -> None:
    gone.add(id(att))
    decision.detached.append(att)
    for answers in (decision.stopped, decision.released):
        if att in answers:
            answers.remove(att)


def _move(att: Attached, source: list, target: list) -> None:
    if att in source:
        source.remove(att)
    if att not in target:
        target.append(att)
