"""The fast lane takes the same decision as dispatch: proved on random engines and answers.

pydbg_utrace.lane is a shortcut through pydbg_utrace.dispatch for syscall
reports on a thread nobody holds (docs/architecture.md, "The fast lane").
Each example builds two identical worlds of attachments whose engines answer
from one drawn script -- None, any Resume, dispositions, malformed answers,
exceptions, detaching another engine or changing its events from inside a
callback -- runs dispatch.report in one and lane.run in the other, and
compares what every engine was shown, in which order, and the decision.
No processes: pure, seeded by hypothesis (one test asks the kernel about a pid it
does not trace).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydbg_utrace import dispatch, kernel, lane
from pydbg_utrace.events import Event, Resume, SignalAction, SyscallAction
from pydbg_utrace.syscall_stop import SyscallReport

SYSCALL_EVENTS = (Event.SYSCALL_ENTRY, Event.SYSCALL_EXIT)
MASK_BITS = (Event.SYSCALL_ENTRY, Event.SYSCALL_EXIT, Event.EXEC, Event.SIGNAL)


@dataclass
class Att:
    engine: object
    events: Event
    detached: bool = False


@dataclass
class FakeReport:
    action: Resume = Resume.RESUME
    signal_action: SignalAction | None = None
    syscall_action: SyscallAction | None = SyscallAction.RUN


class Boom(Exception):
    pass


# What an engine may do in a callback: an answer, or a side effect then an answer.
ANSWERS = st.one_of(
    st.none(),
    st.sampled_from(list(Resume)),
    st.tuples(st.sampled_from(list(Resume)), st.sampled_from(list(SyscallAction))),
    st.just("raise"),
    st.just("gone"),  # the thread died under the report (dispatch.ReportCutShort)
    st.just("malformed"),
    st.tuples(st.just("detach"), st.integers(0, 7)),
    st.tuples(st.just("events"), st.integers(0, 7), st.integers(0, 15)),
)


def mask(bits: int) -> Event:
    out = Event.NONE
    for i, bit in enumerate(MASK_BITS):
        if bits >> i & 1:
            out |= bit
    return out


@dataclass
class World:
    atts: list
    log: list = field(default_factory=list)
    plan: lane.Plan | None = None

    def invalidate(self) -> None:  # what the tracer does on detach / set_events
        if self.plan is not None:
            self.plan.stale = True


class Engine:
    def __init__(self, name: str, world: World, script: list):
        self.name, self.world, self.script = name, world, list(script)

    def _answer(self, callback, att, report):
        self.world.log.append((self.name, callback, report.action, report.syscall_action))
        step = self.script.pop(0) if self.script else None
        if step == "raise":
            raise Boom(self.name)
        if step == "gone":
            raise dispatch.ReportCutShort(self.name)
        if step == "malformed":
            return "not an answer"
        if isinstance(step, tuple) and step[0] == "detach":
            atts = self.world.atts
            atts[step[1] % len(atts)].detached = True
            self.world.invalidate()
            return None
        if isinstance(step, tuple) and step[0] == "events":
            atts = self.world.atts
            atts[step[1] % len(atts)].events = mask(step[2])
            self.world.invalidate()
            return None
        return step

    def report_syscall_entry(self, att, report):
        return self._answer("entry", att, report)

    def report_syscall_exit(self, att, report):
        return self._answer("exit", att, report)


def build(masks, scripts) -> World:
    world = World([])
    for i, (bits, script) in enumerate(zip(masks, scripts, strict=True)):
        world.atts.append(Att(Engine(f"e{i}", world, script), mask(bits)))
    return world


def names(atts) -> list:
    return [att.engine.name for att in atts]


def summary(decision: dispatch.Decision) -> tuple:
    return (decision.action, decision.resume, names(decision.stopped), names(decision.released),
            names(decision.detached), [(a.engine.name, type(e)) for a, e in decision.failed],
            decision.called, decision.hold, decision.cut)


engines = st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 15), min_size=n, max_size=n),
    st.lists(st.lists(ANSWERS, max_size=3), min_size=n, max_size=n)))


@settings(max_examples=600, deadline=None)
@given(engines, st.sampled_from(SYSCALL_EVENTS))
def test_the_lane_decides_as_dispatch_does(setup, event):
    masks, scripts = setup
    by_dispatch = build(masks, scripts)
    expected_report = FakeReport()
    expected = dispatch.report(by_dispatch.atts, event, expected_report)

    by_lane = build(masks, scripts)
    by_lane.plan = lane.Plan(by_lane.atts)
    assert by_lane.plan.usable  # no QUIESCE in these masks
    report = FakeReport()
    running = lane.Running()
    calls = by_lane.plan.entry if event == Event.SYSCALL_ENTRY else by_lane.plan.exit
    got = lane.run(by_lane.plan, calls, event, report, running)

    assert by_lane.log == by_dispatch.log  # same callbacks, same order, same report shown
    assert report == expected_report
    assert running.current is None
    assert [a.detached for a in by_lane.atts] == [a.detached for a in by_dispatch.atts]
    if got is None:  # the lane's "nothing to record": dispatch must agree that it is so
        called = [a for a in by_dispatch.atts if a.engine.name in
                  {name for name, *_ in by_dispatch.log}]
        assert summary(expected) == (Resume.RESUME, Resume.RESUME, [],
                                     names(expected.released), [], [], len(by_dispatch.log),
                                     False, False)
        assert sorted(names(expected.released)) == sorted(names(called))
    else:
        assert summary(got) == summary(expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 15), min_size=1, max_size=8))
def test_a_plan_calls_exactly_the_engines_dispatch_would(masks):
    world = build(masks, [[] for _ in masks])
    plan = lane.Plan(world.atts)
    for event, calls in ((Event.SYSCALL_ENTRY, plan.entry), (Event.SYSCALL_EXIT, plan.exit)):
        wanted = [a for a in dispatch.calling_order(world.atts, event) if a.events & event]
        assert [att for att, _ in calls] == wanted
    assert plan.wants_exit == any(a.events & Event.SYSCALL_EXIT for a in world.atts)


def test_an_engine_with_quiesce_makes_the_plan_unusable():
    world = build([1, 0], [[], []])
    world.atts[1].events = Event.QUIESCE | Event.SYSCALL_ENTRY
    assert not lane.Plan(world.atts).usable


def test_every_none_answer_stays_in_the_lane():
    world = build([3, 3, 3], [[], [], []])
    plan = lane.Plan(world.atts)
    assert lane.run(plan, plan.exit, Event.SYSCALL_EXIT, FakeReport(), lane.Running()) is None
    assert [name for name, *_ in world.log] == ["e0", "e1", "e2"]


def test_a_thread_dying_under_the_report_blames_no_engine_and_ends_the_report():
    # The second engine's report.syscall found the thread killed (a group exit
    # since its stop): nobody is detached, the third is not called -- on the
    # lane and in dispatch alike.
    for run in ("lane", "dispatch"):
        world = build([3, 3, 3], [[], ["gone"], []])
        if run == "lane":
            plan = lane.Plan(world.atts)
            decision = lane.run(plan, plan.exit, Event.SYSCALL_EXIT, FakeReport(), lane.Running())
        else:
            decision = dispatch.report(world.atts, Event.SYSCALL_EXIT, FakeReport())
        assert [name for name, *_ in world.log] == ["e0", "e1"], run
        assert decision.cut and decision.detached == [] and decision.failed == [], run
        assert names(decision.released) == ["e0", "e1"] and decision.called == 2, run
        assert not any(att.detached for att in world.atts), run


def test_report_syscall_of_a_thread_killed_since_its_stop_cuts_the_report_short():
    # The lazy read of a syscall report asks the kernel; a thread it no longer
    # traces (here: one that was never a tracee) answers ESRCH.  The report
    # says so with ReportCutShort (still a NoSuchProcessError for the tracer),
    # which lane.run turns into a cut decision, no engine blamed.
    class Thread:
        tid = os.getpid()
        lane = None
        syscall = None

    class Reader:
        def report_syscall_exit(self, att, report):
            report.syscall  # noqa: B018 (the read is the point)

    report = SyscallReport(None, Thread(), Event.SYSCALL_EXIT, None, None)
    with pytest.raises(dispatch.ReportCutShort) as caught:
        report.syscall  # noqa: B018
    assert isinstance(caught.value, kernel.NoSuchProcessError)
    att = Att(Reader(), Event.SYSCALL_EXIT)
    plan = lane.Plan([att])
    decision = lane.run(plan, plan.exit, Event.SYSCALL_EXIT, report, lane.Running())
    assert decision.cut and decision.detached == [] and decision.failed == []
    assert not att.detached
