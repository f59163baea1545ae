"""A step-over's hold and a thread being single-stepped (torture FOUND L): units, no process.

:class:`pydbg_utrace.tracer.holding.Holding` is the unit; the kernel's wait
is a stand-in that hands out the statuses the test queued, the resumer one
that records the interrupts.
"""

from __future__ import annotations

import collections
from types import SimpleNamespace

import pytest

from pydbg_utrace import kernel
from pydbg_utrace.process import State, Thread
from pydbg_utrace.tracer.holding import Holding
from pydbg_utrace.tracer.tables import Tables

LEADER, HITTER, STEPPER, RUNNER = 100, 101, 102, 103
INTERRUPT_STOP = 0x80057F  # PTRACE_EVENT_STOP, SIGTRAP: only our interrupt stopped it
STEP_TRAP = 0x57F  # a SIGTRAP stop: a step done (or a hit)
ROUNDS = 1000  # step-overs in a row (the other threads keep hitting the trap)


class Kernel:
    """waitpid stand-in: the statuses each interrupted thread (or the test) queued."""

    def __init__(self) -> None:
        self.queued: collections.deque[tuple[int, int]] = collections.deque()

    def wait_tracees(self, nohang: bool = False) -> tuple[int, int]:
        if not self.queued:
            if nohang:
                return 0, 0
            raise AssertionError("the hold waits for a thread that will never report")
        return self.queued.popleft()


def single_step(thread: Thread) -> None:
    """An engine asked for a step: PTRACE_SINGLESTEP in flight, its report owed."""
    thread.stepping = True
    thread.steppers.append("an engine's attachment")


@pytest.fixture
def world(monkeypatch):
    fake = Kernel()
    monkeypatch.setattr(kernel, "wait_tracees", fake.wait_tracees)
    tables = Tables()
    process = SimpleNamespace(pid=LEADER, threads={}, leader_cannot_report=lambda: False)
    threads = {}
    for tid in (LEADER, HITTER, STEPPER, RUNNER):
        thread = Thread(None, tid, process)
        thread.born = True
        process.threads[tid] = tables.threads[tid] = threads[tid] = thread
    threads[LEADER].state = State.STOPPED  # (in fgets, say: held by an engine)
    interrupted = []

    def interrupt(thread):
        interrupted.append(thread.tid)
        fake.queued.append((thread.tid, INTERRUPT_STOP))  # it stops at once, before it ran

    def resume(thread):  # the release: "let it go on as it was" -- a single step again
        thread.state = State.RUNNING

    holding = Holding(tables)
    holding.connect(SimpleNamespace(interrupt=interrupt, resume=resume),
                    SimpleNamespace(waker=-1))
    return SimpleNamespace(kernel=fake, tables=tables, threads=threads, holding=holding,
                           interrupted=interrupted)


def test_a_step_over_does_not_hold_a_thread_being_single_stepped(world):
    """FOUND L: each step-over interrupted the stepping thread before it had run its one
    instruction, and released it as it was; under load the next hit came first, for
    seconds (`a step or STOP not reported within 2 s`, the thread on no CPU at all)."""
    stepper, runner = world.threads[STEPPER], world.threads[RUNNER]
    single_step(stepper)
    for _ in range(ROUNDS):
        held = world.holding.hold_others(world.threads[HITTER])
        world.holding.release(held)
    assert STEPPER not in world.interrupted, \
        f"the single-stepping thread was interrupted by {world.interrupted.count(STEPPER)} " \
        f"of {ROUNDS} step-overs, never left to run its instruction"
    assert world.interrupted.count(RUNNER) == ROUNDS  # a free-running thread is still held
    assert runner.state == State.RUNNING and stepper.state == State.RUNNING


def test_the_stepping_threads_step_met_in_a_hold_is_handled_by_the_loop(world):
    stepper = world.threads[STEPPER]
    single_step(stepper)
    world.kernel.queued.append((STEPPER, STEP_TRAP))  # its step ends while the hold collects
    held = world.holding.hold_others(world.threads[HITTER])
    assert [(t.tid, status) for t, status in held] == [(RUNNER, INTERRUPT_STOP)]
    assert list(world.tables.deferred) == [(STEPPER, STEP_TRAP)]
    assert stepper.state == State.HELD  # the loop reports its step next


def test_debug_register_writes_still_hold_a_stepping_thread(world):
    """Writing debug registers needs every thread stopped, the stepping one too."""
    single_step(world.threads[STEPPER])
    held = world.holding.hold_running(world.threads[LEADER].process)
    assert sorted(t.tid for t, _ in held) == [HITTER, STEPPER, RUNNER]


def test_a_thread_whose_stepping_engine_left_is_held_again(world):
    """Interrupted before its step ran, then let go with PTRACE_CONT (its engine had left):
    ``stepping`` is still set, but it runs freely, and could run past the lifted trap."""
    stale = world.threads[STEPPER]
    stale.stepping = True  # (no engine's step in flight: steppers is empty)
    held = world.holding.hold_others(world.threads[HITTER])
    assert sorted(t.tid for t, _ in held) == [STEPPER, RUNNER]
