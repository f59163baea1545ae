"""The torture suite's bounded wait for a report (tests/torture/patience.py, FOUND.md L).

No process: a stand-in clock, an event that comes at a chosen time, and
schedstat readings that say how long each watched thread sat in a run queue.
The bound is the budget plus that queue time, never past the cap: load
stretches it, an idle or busy tracer does not, and a hang is still a verdict.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "torture"))

from patience import Clocks, wait_for_report  # noqa: E402

NS = 1_000_000_000
TRACER, THREAD, OTHER, ANOTHER = 11, 12, 13, 14


class World:
    """Time, an event due at ``due`` (None: never), and each thread's share of queue time."""

    def __init__(self, due: float | None, queued: dict[int, float]) -> None:
        self.t = 0.0
        self.due = due
        self.queued = queued  # tid -> fraction of wall time spent in a run queue
        self.gone: dict[int, float] = {}  # tid -> when it exited
        self.asleep_until: float | None = None  # the thread blocked in a system call till then
        self.others: tuple[int, ...] = ()  # the program's other threads

    def now(self) -> float:
        return self.t

    def came(self, timeout: float) -> bool:
        if self.due is not None and self.t + timeout >= self.due:
            self.t = max(self.t, self.due)
            return True
        self.t += timeout
        return False

    def read(self, tid: int) -> tuple[int, int] | None:
        if tid in self.gone and self.t > self.gone[tid]:
            return None
        share = self.queued.get(tid, 0.0)
        return int(self.t * (1 - share) * NS), int(self.t * share * NS)


def wait(world: World, budget: float = 2.0, cap: float = 10.0):
    clocks = Clocks({"tracer thread": TRACER, f"thread {THREAD}": THREAD},
                    {f"thread {tid}": tid for tid in world.others}, read=world.read)
    return wait_for_report(world.came, clocks, budget, cap, now=world.now,
                           in_syscall=lambda: world.asleep_until is not None
                           and world.t <= world.asleep_until)


def test_a_report_that_comes_in_time_is_in_time():
    waited = wait(World(due=0.5, queued={}))
    assert waited.came and waited.seconds == 0.5


def test_with_no_time_lost_to_load_the_bound_is_the_budget():
    """An idle tracer (blocked in its wait) or one busy on a CPU is judged at 2 s."""
    waited = wait(World(due=2.5, queued={}))
    assert not waited.came
    assert waited.seconds == 2.0 and waited.starved == 0.0 and not waited.capped
    assert "2.0 s = 2.0 s + 0.0 s in run queues + 0.0 s in a system call" in waited.where()


def test_time_in_run_queues_stretches_the_bound():
    """The tracer queued half the time: 2 s of its own time are 3 s of the clock's."""
    waited = wait(World(due=2.9, queued={TRACER: 0.5}))
    assert waited.came and waited.seconds == 2.9 and waited.starved > 0


def test_past_the_stretched_bound_it_is_a_verdict_that_says_where_the_time_went():
    waited = wait(World(due=None, queued={TRACER: 0.5, THREAD: 0.1}))
    assert not waited.came and not waited.capped
    # limit = 2 + 0.6 t: reached at t = 5 s, 3 s of which in run queues
    assert abs(waited.seconds - 5.0) < 0.05 and abs(waited.starved - 3.0) < 0.05
    (run, queued), (thread_run, thread_queued) = waited.times.values()
    assert abs(run - 2.5) < 0.05 and abs(queued - 2.5) < 0.05
    assert abs(thread_run - 4.5) < 0.05 and abs(thread_queued - 0.5) < 0.05
    assert "tracer thread: 2.49 s on a CPU, 2.49 s queued" in waited.where()


def test_a_hang_is_a_verdict_at_the_cap_however_loaded_the_machine():
    waited = wait(World(due=None, queued={TRACER: 0.9, THREAD: 0.9}), cap=10.0)
    assert not waited.came and waited.capped and waited.seconds == 10.0
    assert ", the cap;" in waited.where()


def test_a_thread_that_exits_during_the_wait_keeps_its_last_reading():
    world = World(due=None, queued={THREAD: 0.5})
    world.gone[THREAD] = 1.0
    waited = wait(world)
    assert not waited.came
    assert waited.times[f"thread {THREAD}"] == (0.5, 0.5)  # its first second, then gone
    assert abs(waited.seconds - 2.5) < 0.05


def test_a_step_of_a_blocking_system_call_may_take_as_long_as_the_call():
    """A single step of `syscall` (a futex wait for another thread) ends when it returns."""
    world = World(due=3.5, queued={})
    world.asleep_until = 3.0
    waited = wait(world)
    assert waited.came and waited.blocked >= 1.5


def test_a_thread_asleep_for_ever_is_a_verdict_at_the_cap():
    world = World(due=None, queued={})
    world.asleep_until = 1e9
    waited = wait(world, cap=10.0)
    assert not waited.came and waited.capped and waited.seconds == 10.0


def test_of_the_programs_other_threads_the_most_queued_one_counts():
    """A hold waits for the other threads to stop, all at once: the most queued one's time."""
    world = World(due=None, queued={OTHER: 0.2, ANOTHER: 0.1})
    world.others = (OTHER, ANOTHER)
    waited = wait(world)
    # limit = 2 + 0.2 t: reached at t = 2.5 s (not 2 + 0.3 t, the sum's 2.86 s)
    assert abs(waited.seconds - 2.5) < 0.05 and abs(waited.starved - 0.5) < 0.05
    assert "the most queued other: thread 13, 0.50 s" in waited.where()
