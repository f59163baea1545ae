"""The utrace reporting rules of pydbg_utrace.dispatch, fed by hand: no processes.

Each test names the rule it checks (UTRACE-RULES.md, "Reporting an event";
kernel/utrace.c in seed 004: REPORT_CALLBACKS, start_callback, finish_callback).
Attachments are small fakes with ``engine``, ``events`` and ``detached``; the
engines answer from a script and log what they were shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydbg_utrace import dispatch
from pydbg_utrace.dispatch import CALLBACKS, Decision, normalize
from pydbg_utrace.engine import Engine, Report
from pydbg_utrace.events import Action, Event, Resume, SignalAction, SyscallAction

R = Resume
Q = Event.QUIESCE


# -- fakes --------------------------------------------------------------------------------

@dataclass
class FakeReport:
    action: Resume = Resume.RESUME
    signal_action: SignalAction | None = None
    syscall_action: SyscallAction | None = None


@dataclass
class Call:
    """One callback as an engine saw it."""

    name: str  # engine name
    callback: str  # e.g. "report_quiesce"
    action: Resume  # report.action shown to it
    signal_action: SignalAction | None
    syscall_action: SyscallAction | None


class Scripted:
    """An engine answering ``script[callback]``: a value, or ``f(att, report)``.

    A list answers one item per call.  Everything it is called with goes to ``log``.
    """

    def __init__(self, name: str, log: list, script: dict | None = None):
        self.name = name
        self.log = log
        self.script = dict(script or {})

    def __getattr__(self, callback: str):
        if not callback.startswith("report_"):
            raise AttributeError(callback)

        def run(att, report):
            self.log.append(Call(self.name, callback, report.action,
                                 report.signal_action, report.syscall_action))
            answer = self.script.get(callback)
            if isinstance(answer, list):
                answer = answer.pop(0)
            if callable(answer) and not isinstance(answer, Resume):
                return answer(att, report)
            return answer

        return run


@dataclass(eq=False)
class Att:
    engine: Scripted
    events: Event
    detached: bool = False

    def __repr__(self) -> str:
        return f"<Att {self.engine.name}>"


@dataclass
class World:
    """A thread's attachments, and the log all their engines write to."""

    log: list = field(default_factory=list)
    atts: list = field(default_factory=list)

    def attach(self, name: str, events: Event, **script) -> Att:
        att = Att(Scripted(name, self.log, script), Event(events))
        self.atts.append(att)
        return att

    def run(self, event: Event, report=None, wanted: Event | None = None,
            running=None) -> Decision:
        self.report = report if report is not None else FakeReport()
        return dispatch.report(self.atts, event, self.report, wanted, running)

    def calls(self) -> list[tuple[str, str]]:
        return [(c.name, c.callback) for c in self.log]

    def seen(self) -> list[Resume]:
        return [c.action for c in self.log]


def raises(exc: BaseException):
    def callback(att, report):
        raise exc
    return callback


def do(effect, answer=None):
    """A callback that runs ``effect()`` (something another engine does) and answers."""
    def callback(att, report):
        effect()
        return answer
    return callback


# -- which callback serves which event ----------------------------------------------------

EXPECTED_CALLBACK = {
    Event.QUIESCE: "report_quiesce", Event.REAP: "report_reap", Event.CLONE: "report_clone",
    Event.EXEC: "report_exec", Event.EXIT: "report_exit", Event.DEATH: "report_death",
    Event.SYSCALL_ENTRY: "report_syscall_entry", Event.SYSCALL_EXIT: "report_syscall_exit",
    Event.SIGNAL: "report_signal", Event.SIGNAL_IGN: "report_signal",
    Event.SIGNAL_STOP: "report_signal", Event.SIGNAL_TERM: "report_signal",
    Event.SIGNAL_CORE: "report_signal", Event.JCTL: "report_jctl",
    Event.STEP: "report_step", Event.BREAKPOINT: "report_breakpoint",
}
SINGLE_EVENTS = [e for e in Event if e and e & (e - 1) == 0]
REPORTED_EVENTS = [e for e in SINGLE_EVENTS if e != Event.QUIESCE]


def test_callbacks_table_serves_every_event_with_its_utrace_callback():
    assert CALLBACKS == EXPECTED_CALLBACK
    assert set(CALLBACKS) == set(SINGLE_EVENTS)


@pytest.mark.parametrize("callback", sorted(set(EXPECTED_CALLBACK.values())))
def test_every_callback_is_an_engine_method(callback):
    assert callable(getattr(Engine, callback))


@pytest.mark.parametrize("event", REPORTED_EVENTS, ids=lambda e: e.name)
def test_each_event_runs_its_own_callback(event):
    w = World()
    w.attach("a", Event(~0 & ((1 << 16) - 1)) & ~Q)  # every event, no QUIESCE
    w.run(event)
    assert w.calls() == [("a", EXPECTED_CALLBACK[event])]


# -- calling order ------------------------------------------------------------------------

NOT_ENTRY = [e for e in REPORTED_EVENTS if e != Event.SYSCALL_ENTRY]


@pytest.mark.parametrize("event", NOT_ENTRY, ids=lambda e: e.name)
def test_engines_are_called_in_attach_order(event):
    w = World()
    for name in "abcd":
        w.attach(name, event)
    w.run(event)
    assert [name for name, _ in w.calls()] == list("abcd")


def test_syscall_entry_calls_engines_in_reverse_attach_order():
    w = World()
    for name in "abcd":
        w.attach(name, Event.SYSCALL_ENTRY)
    w.run(Event.SYSCALL_ENTRY)
    assert [name for name, _ in w.calls()] == list("dcba")


def test_syscall_entry_reverses_the_quiesce_callbacks_too():
    # REPORT_CALLBACKS(_reverse, ...) runs start_callback (quiesce) in the same order.
    w = World()
    w.attach("a", Q | Event.SYSCALL_ENTRY)
    w.attach("b", Q)
    w.attach("c", Q | Event.SYSCALL_ENTRY)
    w.run(Event.SYSCALL_ENTRY)
    assert w.calls() == [("c", "report_quiesce"), ("c", "report_syscall_entry"),
                         ("b", "report_quiesce"),
                         ("a", "report_quiesce"), ("a", "report_syscall_entry")]


def test_syscall_exit_is_not_reversed():
    w = World()
    for name in "abc":
        w.attach(name, Event.SYSCALL)
    w.run(Event.SYSCALL_EXIT)
    assert [name for name, _ in w.calls()] == list("abc")


def test_calling_order_does_not_change_the_attachment_list():
    atts = ["a", "b", "c"]
    assert dispatch.calling_order(atts, Event.SYSCALL_ENTRY) == ["c", "b", "a"]
    assert atts == ["a", "b", "c"]


def test_quiesce_runs_just_before_each_engines_own_event_callback():
    w = World()
    w.attach("a", Q | Event.EXEC)
    w.attach("b", Q | Event.EXEC)
    w.run(Event.EXEC)
    assert w.calls() == [("a", "report_quiesce"), ("a", "report_exec"),
                         ("b", "report_quiesce"), ("b", "report_exec")]


def test_quiesce_runs_for_an_event_the_engine_did_not_ask_for():
    w = World()
    w.attach("asked", Event.CLONE)
    w.attach("quiet", Q)
    w.run(Event.CLONE)
    assert w.calls() == [("asked", "report_clone"), ("quiet", "report_quiesce")]


def test_engine_without_the_event_bit_or_quiesce_is_not_called():
    w = World()
    w.attach("other", Event.EXEC | Event.SIGNAL_ALL | Event.SYSCALL)
    w.attach("none", Event.NONE)
    d = w.run(Event.CLONE)
    assert w.calls() == []
    assert d.called == 0
    assert d.stopped == d.released == d.detached == []


def test_engine_without_quiesce_gets_no_quiesce_callback():
    w = World()
    w.attach("a", Event.EXIT)
    w.run(Event.EXIT)
    assert w.calls() == [("a", "report_exit")]


def test_event_none_runs_only_report_quiesce():
    w = World()
    w.attach("all", Event(0xFFFF))
    w.attach("no-quiesce", Event(0xFFFF) & ~Q)
    d = w.run(Event.NONE)
    assert w.calls() == [("all", "report_quiesce")]
    assert d.called == 1


@pytest.mark.parametrize("bit", [Event.SIGNAL, Event.SIGNAL_IGN, Event.SIGNAL_STOP,
                                 Event.SIGNAL_TERM, Event.SIGNAL_CORE], ids=lambda e: e.name)
def test_wanted_signal_all_selects_any_signal_bit(bit):
    # A report_signal(REPORT) with no signal (after INTERRUPT) goes to every engine
    # that asked for any kind of signal.
    w = World()
    w.attach("sig", bit)
    w.attach("exec", Event.EXEC)
    w.run(Event.SIGNAL, wanted=Event.SIGNAL_ALL)
    assert w.calls() == [("sig", "report_signal")]


def test_wanted_defaults_to_the_event_itself():
    w = World()
    w.attach("term", Event.SIGNAL_TERM)
    w.attach("ign", Event.SIGNAL_IGN)
    w.run(Event.SIGNAL_IGN)
    assert w.calls() == [("ign", "report_signal")]


def test_event_mask_is_read_again_after_report_quiesce():
    # start_callback re-reads engine->flags after report_quiesce: set_events there counts.
    w = World()
    a = w.attach("clears", Q | Event.EXEC)
    b = w.attach("sets", Q)
    a.engine.script["report_quiesce"] = do(lambda: setattr(a, "events", Q))
    b.engine.script["report_quiesce"] = do(lambda: setattr(b, "events", Q | Event.EXEC))
    w.run(Event.EXEC)
    assert w.calls() == [("clears", "report_quiesce"),
                         ("sets", "report_quiesce"), ("sets", "report_exec")]


def test_running_is_told_whose_callback_runs_and_none_after():
    w = World()
    told = []
    w.attach("a", Q | Event.EXEC)
    w.attach("b", Event.EXEC, report_exec=raises(RuntimeError("boom")))
    w.run(Event.EXEC, running=lambda att: told.append(att and att.engine.name))
    assert told == ["a", None, "a", None, "b", None]


def test_called_counts_every_callback_run():
    w = World()
    w.attach("a", Q | Event.EXEC)
    w.attach("b", Q)
    w.attach("c", Event.EXEC, report_exec=R.DETACH)
    assert w.run(Event.EXEC).called == 4


# -- combining the answers ----------------------------------------------------------------

def test_first_callback_sees_resume():
    w = World()
    w.attach("a", Event.EXEC)
    w.run(Event.EXEC, FakeReport(action=R.STOP))
    assert w.seen() == [R.RESUME]


def test_each_callback_sees_the_minimum_of_the_answers_before_it():
    w = World()
    answers = [R.BLOCKSTEP, R.RESUME, R.REPORT, R.SINGLESTEP, R.INTERRUPT, R.RESUME]
    for i, answer in enumerate(answers):
        w.attach(str(i), Event.EXEC, report_exec=answer)
    w.run(Event.EXEC)
    assert w.seen() == [R.RESUME, R.BLOCKSTEP, R.BLOCKSTEP, R.REPORT, R.REPORT, R.INTERRUPT]


def test_quiesce_answer_counts_for_the_next_callback():
    w = World()
    w.attach("a", Q | Event.EXEC, report_quiesce=R.REPORT)
    w.run(Event.EXEC)
    assert w.seen() == [R.RESUME, R.REPORT]


def test_report_action_is_the_final_combination_after_the_report():
    w = World()
    w.attach("a", Event.EXEC, report_exec=R.SINGLESTEP)
    w.attach("b", Event.EXEC, report_exec=R.RESUME)
    w.run(Event.EXEC)
    assert w.report.action == R.SINGLESTEP


def test_none_answer_means_resume():
    w = World()
    w.attach("a", Event.EXEC, report_exec=None)
    d = w.run(Event.EXEC)
    assert d.action == d.resume == R.RESUME
    assert d.released == w.atts


def test_no_callback_means_resume():
    d = World().run(Event.EXEC)
    assert (d.action, d.resume, d.called) == (R.RESUME, R.RESUME, 0)


def test_final_action_is_the_minimum_of_all_answers_stop_included():
    w = World()
    w.attach("a", Event.EXEC, report_exec=R.SINGLESTEP)
    w.attach("b", Event.EXEC, report_exec=R.STOP)
    w.attach("c", Event.EXEC, report_exec=R.REPORT)
    d = w.run(Event.EXEC)
    assert d.action == R.STOP


def test_resume_is_the_minimum_of_the_answers_other_than_stop():
    # report->resume_action: how the thread goes on once the STOP holds are let go.
    w = World()
    w.attach("a", Event.EXEC, report_exec=R.SINGLESTEP)
    w.attach("b", Event.EXEC, report_exec=R.STOP)
    w.attach("c", Event.EXEC, report_exec=R.BLOCKSTEP)
    d = w.run(Event.EXEC)
    assert d.resume == R.SINGLESTEP


def test_resume_is_resume_when_every_answer_is_stop():
    w = World()
    w.attach("a", Q | Event.EXEC, report_quiesce=R.STOP, report_exec=R.STOP)
    d = w.run(Event.EXEC)
    assert (d.action, d.resume) == (R.STOP, R.RESUME)


def test_detach_answer_is_not_combined():
    # DETACH (6) is above RESUME: it must not show up in action or resume.
    w = World()
    w.attach("a", Event.EXEC, report_exec=R.DETACH)
    w.attach("b", Event.EXEC, report_exec=R.REPORT)
    d = w.run(Event.EXEC)
    assert w.seen() == [R.RESUME, R.RESUME]
    assert (d.action, d.resume) == (R.REPORT, R.REPORT)


ORDER = [R.STOP, R.INTERRUPT, R.REPORT, R.SINGLESTEP, R.BLOCKSTEP, R.RESUME]
PAIRS = [(lo, hi) for i, lo in enumerate(ORDER) for hi in ORDER[i + 1:]]


@pytest.mark.parametrize("lo,hi", PAIRS, ids=[f"{lo.name}<{hi.name}" for lo, hi in PAIRS])
@pytest.mark.parametrize("lo_first", [True, False], ids=["lo-first", "hi-first"])
def test_resume_order_smaller_wins(lo, hi, lo_first):
    w = World()
    first, second = (lo, hi) if lo_first else (hi, lo)
    w.attach("1", Event.EXEC, report_exec=first)
    w.attach("2", Event.EXEC, report_exec=second)
    d = w.run(Event.EXEC)
    assert d.action == lo
    assert d.resume == (hi if lo == R.STOP else lo)


def test_real_report_carries_the_combination():
    report = Report(None, object(), Event.SIGNAL)  # tracer and thread are not used here
    report.signal_action = SignalAction.TERM
    w = World()
    w.attach("a", Event.SIGNAL_ALL, report_signal=(R.SINGLESTEP, SignalAction.IGN))
    w.attach("b", Event.SIGNAL_ALL, report_signal=R.STOP)
    d = w.run(Event.SIGNAL, report)
    assert report.action == R.STOP
    assert report.signal_action == SignalAction.IGN
    assert [c.signal_action for c in w.log] == [SignalAction.TERM, SignalAction.IGN]
    assert (d.action, d.resume) == (R.STOP, R.SINGLESTEP)


# -- sticky STOP bookkeeping: an engine's last answer decides -----------------------------

def test_engine_whose_answer_is_stop_holds_the_thread():
    w = World()
    a = w.attach("a", Event.EXEC, report_exec=R.STOP)
    b = w.attach("b", Event.EXEC, report_exec=R.RESUME)
    d = w.run(Event.EXEC)
    assert d.stopped == [a]
    assert d.released == [b]


def test_stop_from_quiesce_then_resume_from_the_event_callback_releases():
    w = World()
    a = w.attach("a", Q | Event.EXEC, report_quiesce=R.STOP, report_exec=R.RESUME)
    d = w.run(Event.EXEC)
    assert d.stopped == []
    assert d.released == [a]
    assert d.action == R.STOP  # the combination still saw the STOP


def test_resume_from_quiesce_then_stop_from_the_event_callback_holds():
    w = World()
    a = w.attach("a", Q | Event.EXEC, report_quiesce=R.RESUME, report_exec=R.STOP)
    d = w.run(Event.EXEC)
    assert d.stopped == [a]
    assert d.released == []


def test_engine_not_called_neither_holds_nor_releases():
    # Its hold from an earlier report (kept by the tracer) is not touched.
    w = World()
    w.attach("a", Event.CLONE)
    d = w.run(Event.EXEC)
    assert d.stopped == d.released == []


def test_stop_from_quiesce_then_detach_holds_nothing():
    w = World()
    a = w.attach("a", Q | Event.EXEC, report_quiesce=R.STOP, report_exec=R.DETACH)
    d = w.run(Event.EXEC)
    assert d.stopped == d.released == []
    assert d.detached == [a]


def test_engine_detached_by_another_after_answering_stop_holds_nothing():
    # finish_callback_report: utrace_control(DETACH) is treated like a DETACH answer;
    # a detached engine cannot keep the thread stopped.
    w = World()
    a = w.attach("a", Event.EXEC, report_exec=R.STOP)
    w.attach("b", Event.EXEC, report_exec=do(lambda: setattr(a, "detached", True)))
    d = w.run(Event.EXEC)
    assert a not in d.stopped
    assert a not in d.released


# -- DETACH -------------------------------------------------------------------------------

def test_detach_from_quiesce_skips_the_event_callback():
    w = World()
    a = w.attach("a", Q | Event.EXEC, report_quiesce=R.DETACH)
    w.attach("b", Event.EXEC)
    d = w.run(Event.EXEC)
    assert w.calls() == [("a", "report_quiesce"), ("b", "report_exec")]
    assert d.detached == [a]


def test_detached_engines_are_listed_in_calling_order():
    w = World()
    a = w.attach("a", Event.SYSCALL_ENTRY, report_syscall_entry=R.DETACH)
    w.attach("b", Event.SYSCALL_ENTRY)
    c = w.attach("c", Event.SYSCALL_ENTRY, report_syscall_entry=R.DETACH)
    d = w.run(Event.SYSCALL_ENTRY)
    assert d.detached == [c, a]


def test_engine_flagged_detached_by_another_mid_report_is_skipped():
    w = World()
    w.attach("a", Event.EXEC, report_exec=do(lambda: setattr(b, "detached", True)))
    b = w.attach("b", Q | Event.EXEC)
    w.attach("c", Event.EXEC)
    d = w.run(Event.EXEC)
    assert w.calls() == [("a", "report_exec"), ("c", "report_exec")]
    assert d.detached == []  # not dispatch's to detach again


def test_engine_flagged_detached_in_its_own_quiesce_gets_no_event_callback():
    # control(DETACH) from inside report_quiesce: "no callbacks after it returns".
    w = World()
    a = w.attach("a", Q | Event.EXEC)
    a.engine.script["report_quiesce"] = do(lambda: setattr(a, "detached", True))
    w.run(Event.EXEC)
    assert w.calls() == [("a", "report_quiesce")]


def test_attachment_added_during_the_report_first_hears_the_next_event():
    w = World()
    late = Att(Scripted("late", w.log), Q | Event.EXEC)
    w.attach("a", Event.EXEC, report_exec=do(lambda: w.atts.append(late)))
    w.attach("b", Event.EXEC)
    w.run(Event.EXEC)
    assert w.calls() == [("a", "report_exec"), ("b", "report_exec")]
    w.log.clear()
    w.atts[0].engine.script["report_exec"] = None
    w.run(Event.EXEC)
    assert ("late", "report_exec") in w.calls()


@pytest.mark.parametrize("event", [Event.EXEC, Event.SYSCALL_ENTRY], ids=lambda e: e.name)
def test_attachment_removed_from_the_list_during_the_report_does_not_skip_the_next(event):
    # The tracer removes a detaching attachment from thread.attachments at once.
    w = World()
    def leave(att, report):
        att.detached = True
        w.atts.remove(att)
    for name in "abc":
        w.attach(name, event, **{EXPECTED_CALLBACK[event]: leave if name == "b" else None})
    w.run(event)
    expected = list("abc") if event != Event.SYSCALL_ENTRY else list("cba")
    assert [name for name, _ in w.calls()] == expected


# -- dispositions -------------------------------------------------------------------------

def sig_world(*answers):
    w = World()
    for i, answer in enumerate(answers):
        w.attach(str(i), Event.SIGNAL_ALL, report_signal=answer)
    return w


def test_signal_action_starts_as_the_report_gives_it():
    w = sig_world(None)
    w.run(Event.SIGNAL_TERM, FakeReport(signal_action=SignalAction.TERM))
    assert w.log[0].signal_action == SignalAction.TERM


def test_each_engine_sees_the_previous_engines_signal_action():
    w = sig_world((R.RESUME, SignalAction.IGN), (R.RESUME, SignalAction.CORE), None)
    w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER))
    assert [c.signal_action for c in w.log] == [
        SignalAction.DELIVER, SignalAction.IGN, SignalAction.CORE]


def test_last_signal_answer_wins():
    w = sig_world((R.RESUME, SignalAction.IGN), (R.RESUME, SignalAction.DELIVER))
    w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.TERM))
    assert w.report.signal_action == SignalAction.DELIVER


def test_answer_without_disposition_keeps_the_signal_action():
    w = sig_world((R.RESUME, SignalAction.STOP), R.RESUME, None, Action(R.REPORT))
    w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER))
    assert w.report.signal_action == SignalAction.STOP


def test_hold_flag_is_in_the_decision():
    w = sig_world(Action(R.RESUME, SignalAction.DELIVER, hold=True))
    assert w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER)).hold


def test_no_hold_by_default():
    w = sig_world((R.RESUME, SignalAction.IGN), None)
    assert not w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER)).hold


def test_hold_of_the_last_signal_answer_wins():
    # HOLD is part of report->result, which each answer replaces.
    w = sig_world(Action(R.RESUME, SignalAction.DELIVER, hold=True),
                  (R.RESUME, SignalAction.IGN))
    assert not w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER)).hold
    w = sig_world((R.RESUME, SignalAction.IGN),
                  Action(R.RESUME, SignalAction.DELIVER, hold=True))
    assert w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER)).hold


def test_hold_survives_a_later_answer_without_disposition():
    w = sig_world(Action(R.RESUME, SignalAction.DELIVER, hold=True), R.RESUME)
    assert w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER)).hold


def test_hold_without_a_signal_disposition_is_ignored():
    # Documented on Action: hold goes with a signal disposition.
    w = sig_world(Action(R.RESUME, None, hold=True))
    assert not w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER)).hold


def test_signal_answer_does_not_touch_the_syscall_action():
    w = sig_world((R.RESUME, SignalAction.IGN))
    w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER))
    assert w.report.syscall_action is None


def entry_world(*answers):
    """Engines attached in this order; entry calls them in reverse."""
    w = World()
    for i, answer in enumerate(answers):
        w.attach(str(i), Event.SYSCALL_ENTRY, report_syscall_entry=answer)
    return w


def test_syscall_abort_by_the_last_engine_called_wins():
    # The first-attached engine is called last at entry: its answer decides.
    w = entry_world((R.RESUME, SyscallAction.RUN), (R.RESUME, SyscallAction.ABORT))
    w.run(Event.SYSCALL_ENTRY, FakeReport(syscall_action=SyscallAction.RUN))
    assert w.report.syscall_action == SyscallAction.RUN
    w = entry_world((R.RESUME, SyscallAction.ABORT), (R.RESUME, SyscallAction.RUN))
    w.run(Event.SYSCALL_ENTRY, FakeReport(syscall_action=SyscallAction.RUN))
    assert w.report.syscall_action == SyscallAction.ABORT


def test_each_engine_sees_the_previous_engines_syscall_action():
    w = entry_world(None, (R.RESUME, SyscallAction.ABORT))
    w.run(Event.SYSCALL_ENTRY, FakeReport(syscall_action=SyscallAction.RUN))
    assert [c.syscall_action for c in w.log] == [SyscallAction.RUN, SyscallAction.ABORT]


def test_answer_without_disposition_keeps_the_syscall_abort():
    w = entry_world(R.RESUME, None, (R.RESUME, SyscallAction.ABORT))
    w.run(Event.SYSCALL_ENTRY, FakeReport(syscall_action=SyscallAction.RUN))
    assert w.report.syscall_action == SyscallAction.ABORT


def test_syscall_answer_does_not_touch_the_signal_action_or_hold():
    w = entry_world((R.RESUME, SyscallAction.ABORT))
    d = w.run(Event.SYSCALL_ENTRY, FakeReport(syscall_action=SyscallAction.RUN))
    assert w.report.signal_action is None
    assert not d.hold


def test_disposition_of_a_detach_answer_still_counts():
    # finish_callback sets report->result from the return value before it detaches:
    # "(DETACH, ABORT)" means "skip this call, and I am done".
    w = entry_world((R.DETACH, SyscallAction.ABORT))
    d = w.run(Event.SYSCALL_ENTRY, FakeReport(syscall_action=SyscallAction.RUN))
    assert w.report.syscall_action == SyscallAction.ABORT
    assert d.detached == w.atts
    w = sig_world(Action(R.DETACH, SignalAction.IGN, hold=True))
    d = w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.DELIVER))
    assert w.report.signal_action == SignalAction.IGN
    assert d.hold


def test_disposition_of_a_failing_callback_is_not_taken():
    w = sig_world(raises(ValueError("x")))
    w.run(Event.SIGNAL, FakeReport(signal_action=SignalAction.TERM))
    assert w.report.signal_action == SignalAction.TERM


# -- normalize: what a callback may return ------------------------------------------------

@pytest.mark.parametrize("answer,expected", [
    (None, Action(R.RESUME)),
    (R.STOP, Action(R.STOP)),
    (R.DETACH, Action(R.DETACH)),
    (2, Action(R.REPORT)),
    ((R.STOP,), Action(R.STOP)),
    ((R.RESUME, SignalAction.IGN), Action(R.RESUME, SignalAction.IGN)),
    ((R.REPORT, SignalAction.DELIVER, True), Action(R.REPORT, SignalAction.DELIVER, True)),
    ((R.STOP, SyscallAction.ABORT), Action(R.STOP, SyscallAction.ABORT)),
    ((R.RESUME, None), Action(R.RESUME)),
    (Action(R.SINGLESTEP, SignalAction.TERM), Action(R.SINGLESTEP, SignalAction.TERM)),
], ids=repr)
def test_normalize_accepts(answer, expected):
    got = normalize(answer)
    assert got == expected
    assert isinstance(got.resume, Resume)


def test_normalize_makes_the_resume_of_a_tuple_a_resume():
    assert normalize((0, SignalAction.IGN)).resume is R.STOP


GARBAGE = [
    "resume", 7, -1, 1.5, object(), [R.STOP], {"resume": R.STOP},
    ("x",), (7,), (R.RESUME, SignalAction.IGN, False, 1),
    (R.RESUME, 0x10),  # a bare int disposition: signal or syscall?
    (R.RESUME, "IGN"),
    (R.RESUME, SignalAction.IGN, "yes"),
    True,  # a bool is not a resume action (True == INTERRUPT)
    SignalAction.DELIVER,  # == 0: would silently mean STOP
    SignalAction.IGN,
    SyscallAction.ABORT,  # == 1: would silently mean INTERRUPT
]


@pytest.mark.parametrize("answer", GARBAGE, ids=repr)
def test_normalize_rejects(answer):
    with pytest.raises((TypeError, ValueError)):
        normalize(answer)


@pytest.mark.parametrize("answer", GARBAGE, ids=repr)
def test_garbage_answer_counts_as_a_failure_and_others_still_run(answer):
    w = World()
    a = w.attach("a", Event.EXEC, report_exec=R.SINGLESTEP)
    b = w.attach("bad", Event.EXEC, report_exec=lambda att, report: answer)
    c = w.attach("c", Event.EXEC, report_exec=R.REPORT)
    d = w.run(Event.EXEC)
    assert [att for att, _ in d.failed] == [b]
    assert isinstance(d.failed[0][1], (TypeError, ValueError))
    assert d.detached == [b]
    assert d.released == [a, c]
    assert (d.action, d.resume) == (R.REPORT, R.REPORT)


# -- isolation: a callback that raises ----------------------------------------------------

def test_callback_that_raises_is_listed_in_failed_and_detached():
    w = World()
    err = RuntimeError("engine bug")
    a = w.attach("a", Event.EXEC, report_exec=raises(err))
    d = w.run(Event.EXEC)
    assert d.failed == [(a, err)]
    assert d.detached == [a]
    assert d.stopped == d.released == []


def test_later_engines_run_after_a_raise_with_the_right_combination():
    w = World()
    a = w.attach("a", Event.EXEC, report_exec=R.STOP)
    w.attach("b", Q | Event.EXEC, report_quiesce=R.INTERRUPT, report_exec=raises(KeyError()))
    c = w.attach("c", Event.EXEC, report_exec=R.SINGLESTEP)
    d = w.run(Event.EXEC)
    assert w.calls()[-1] == ("c", "report_exec")
    assert w.seen() == [R.RESUME, R.STOP, R.STOP, R.STOP]
    assert (d.action, d.resume) == (R.STOP, R.INTERRUPT)  # b's quiesce answer stands
    assert d.stopped == [a]
    assert d.released == [c]


def test_raise_in_quiesce_skips_the_event_callback():
    w = World()
    w.attach("a", Q | Event.EXEC, report_quiesce=raises(RuntimeError()))
    d = w.run(Event.EXEC)
    assert w.calls() == [("a", "report_quiesce")]
    assert len(d.failed) == 1


def test_raise_after_stop_from_quiesce_releases_nothing_and_holds_nothing():
    w = World()
    a = w.attach("a", Q | Event.EXEC, report_quiesce=R.STOP, report_exec=raises(OSError()))
    d = w.run(Event.EXEC)
    assert a not in d.stopped and a not in d.released
    assert d.detached == [a]


def test_failed_engine_gets_no_more_callbacks_in_the_report():
    w = World()
    w.attach("a", Q | Event.EXEC, report_quiesce=raises(RuntimeError()))
    w.attach("b", Event.EXEC)
    w.run(Event.EXEC)
    assert w.calls() == [("a", "report_quiesce"), ("b", "report_exec")]


@pytest.mark.parametrize("err", [SystemExit(3), KeyboardInterrupt(), GeneratorExit()],
                         ids=["SystemExit", "KeyboardInterrupt", "GeneratorExit"])
def test_base_exceptions_are_isolated_like_any_other(err):
    # Callbacks run on the tracer thread: a sys.exit() in one must end that
    # engine, not the thread every tracee depends on (issue 14, point 7).
    w = World()
    a = w.attach("a", Event.EXEC, report_exec=raises(err))
    w.attach("b", Event.EXEC)
    d = w.run(Event.EXEC)
    assert d.failed == [(a, err)]
    assert d.detached == [a]
    assert w.calls()[-1] == ("b", "report_exec")


# -- the whole combination as a property --------------------------------------------------

RAISE = "raise"
answers = st.sampled_from(list(Resume) + [None, RAISE])
engines = st.lists(
    st.tuples(st.booleans(), st.booleans(), answers, answers),  # quiesce?, event?, answers
    max_size=6)


def model(spec: list, reverse: bool):
    """The rules written out plainly, for comparison."""
    order = list(range(len(spec)))
    if reverse:
        order.reverse()
    seen, detached, failed, last = [], [], [], {}
    action = resume = R.RESUME
    for i in order:
        quiesce, wants, qa, ea = spec[i]
        for callback, answer in (("q", qa), ("e", ea)):
            if not (quiesce if callback == "q" else wants):
                continue
            seen.append(action)
            if answer == RAISE or answer == R.DETACH:
                detached.append(i)
                failed += [i] if answer == RAISE else []
                last.pop(i, None)
                break
            answer = R.RESUME if answer is None else answer
            action = min(action, answer)
            if answer != R.STOP:
                resume = min(resume, answer)
            last[i] = answer
    stopped = {i for i, a in last.items() if a == R.STOP}
    released = {i for i, a in last.items() if a != R.STOP}
    return seen, action, resume, stopped, released, detached, failed


@settings(max_examples=400, deadline=None)
@given(spec=engines, entry=st.booleans())
def test_combination_matches_the_rules(spec, entry):
    event = Event.SYSCALL_ENTRY if entry else Event.EXEC
    callback = EXPECTED_CALLBACK[event]
    w = World()
    for i, (quiesce, wants, qa, ea) in enumerate(spec):
        script = {"report_quiesce": raises(RuntimeError()) if qa == RAISE else qa,
                  callback: raises(RuntimeError()) if ea == RAISE else ea}
        w.attach(str(i), (Q if quiesce else Event.NONE) | (event if wants else Event.NONE),
                 **script)
    d = w.run(event)
    seen, action, resume, stopped, released, detached, failed = model(spec, entry)
    index = {id(att): i for i, att in enumerate(w.atts)}
    assert w.seen() == seen
    assert (d.action, d.resume) == (action, resume)
    assert {index[id(a)] for a in d.stopped} == stopped
    assert {index[id(a)] for a in d.released} == released
    assert [index[id(a)] for a in d.detached] == detached
    assert [index[id(a)] for a, _ in d.failed] == failed
    assert d.called == len(seen)
    assert w.report.action == action


def test_a_thread_still_held_shows_stop_from_the_first_callback():
    seen = []

    class Look:
        def report_syscall_exit(self, att, report):
            seen.append(report.action)

    class Att:
        engine = Look()
        events = Event.SYSCALL_EXIT
        detached = False

    class Rep:
        action = Resume.RESUME
        signal_action = None
        syscall_action = None

    decision = dispatch.report([Att()], Event.SYSCALL_EXIT, Rep(), held=True)
    assert seen == [Resume.STOP]
    assert decision.resume == Resume.RESUME  # what it would do once let go
