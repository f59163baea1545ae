"""A bounded wait for a report that must come, honest about load (FOUND.md L).

A STOP or a step is reported within milliseconds when the tracer thread and
the thread it serves get a CPU.  On a loaded machine they may not: the run
queue can eat the whole bound, and "not reported within 2 s" is then a verdict
on the machine.  So the bound is ``budget`` seconds *plus* the time the
tracer thread and the thread waited in a run queue meanwhile (the kernel's
``/proc/TID/schedstat``), never more than ``cap`` seconds: a tracer that is
idle (blocked in its wait) or busy on a CPU gains nothing and is judged at
``budget``; a real hang is still a verdict, at ``cap`` at the latest.  So
is the time the thread sits blocked in a system call: a single step of a
``syscall`` instruction (a futex wait for another thread, say) ends when the
call returns.  The verdict says where the time went.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

NS = 1e9
SLACK = 0.01  # seconds: a wait this close to its bound is over (no tiny extra rounds)
SLICES = 8  # the clocks are read every budget/SLICES s (a thread that exits keeps its last)


def asleep(tid: int) -> bool:
    """Is thread ``tid`` blocked in the kernel (a system call: ``S`` or ``D``), not stopped?"""
    try:
        with open(f"/proc/{tid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in "SD"
    except (OSError, IndexError):
        return False


def schedstat(tid: int) -> tuple[int, int] | None:
    """(ns on a CPU, ns waiting in a run queue) of thread ``tid``; None once it is gone."""
    try:
        with open(f"/proc/{tid}/schedstat") as fh:
            run, queued, _slices = fh.read().split()
    except (OSError, ValueError):
        return None
    return int(run), int(queued)


@dataclass
class Waited:
    """How a wait for a report ended, and where its time went."""

    came: bool
    seconds: float = 0.0  # wall time waited
    budget: float = 0.0
    starved: float = 0.0  # seconds the watched threads waited for a CPU meanwhile
    blocked: float = 0.0  # seconds (sampled) the thread was blocked in a system call
    capped: bool = False
    #: who -> (seconds on a CPU, seconds in a run queue) during the wait
    times: dict[str, tuple[float, float]] = field(default_factory=dict)
    reports: int | None = None  # reports the program made meanwhile (the tracer was busy)
    counted: tuple[str, ...] = ()  # the watched threads counted in full (the others: the max)

    def where(self) -> str:
        """The verdict's account of the time: '2.0 s + 1.3 s in run queues (...)'."""
        parts = [f"{who}: {run:.2f} s on a CPU, {queued:.2f} s queued"
                 for who, (run, queued) in self.times.items() if who in self.counted]
        others = [(queued, who) for who, (_run, queued) in self.times.items()
                  if who not in self.counted]
        if others:
            queued, who = max(others)
            parts.append(f"the most queued other: {who}, {queued:.2f} s")
        if self.reports is not None:
            parts.append(f"{self.reports} reports meanwhile")
        parts.append("load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
        cap = ", the cap" if self.capped else ""
        return (f"{self.seconds:.1f} s = {self.budget:.1f} s + {self.starved:.1f} s in run "
                f"queues + {self.blocked:.1f} s in a system call{cap}; " + ", ".join(parts))


class Clocks:
    """The schedstat clocks of some threads, read against their values at the start.

    ``threads`` (the tracer thread, the thread waited for) count in full;
    ``others`` (the program's other threads) only the most queued of them: the
    tracer's holds wait for them to stop, all at once (a lower bound of what
    that cost), while they run free the rest of the time.
    """

    def __init__(self, threads: dict[str, int], others: dict[str, int] | None = None,
                 read: Callable[[int], tuple[int, int] | None] = schedstat) -> None:
        self.threads = threads  # who (for the verdict) -> tid
        self.others = others or {}
        self.read = read
        watched = {**self.others, **threads}
        self.start = {who: read(tid) for who, tid in watched.items()}
        self.last = dict(self.start)

    def starved(self, times: dict[str, tuple[float, float]]) -> float:
        """Seconds lost to run queues: the threads' own, plus the most queued other's."""
        own = sum(queued for who, (_run, queued) in times.items() if who in self.threads)
        return own + max((queued for who, (_run, queued) in times.items()
                          if who in self.others), default=0.0)

    def since(self) -> dict[str, tuple[float, float]]:
        """who -> (s on a CPU, s queued) since the start (up to its end, for one gone)."""
        out = {}
        for who, tid in {**self.others, **self.threads}.items():
            now = self.read(tid) or self.last[who]  # gone: its last reading stands
            self.last[who] = now
            first = self.start[who]
            if first is None or now is None:
                continue
            out[who] = ((now[0] - first[0]) / NS, (now[1] - first[1]) / NS)
        return out


def wait_for_report(came: Callable[[float], bool], clocks: Clocks, budget: float, cap: float,
                    reports: Callable[[], int] | None = None,
                    in_syscall: Callable[[], bool] = lambda: False,
                    now: Callable[[], float] = time.monotonic) -> Waited:
    """Wait with ``came(timeout)`` (an Event's wait) for ``budget`` s not lost to load.

    The bound grows by the run-queue time of ``clocks``'s threads, and by the
    time the thread sat blocked in a system call (``in_syscall()``, sampled
    every budget/SLICES s: a step of a ``syscall`` instruction ends when the
    call returns, which is the program's business), up to ``cap`` s.
    """
    start = now()
    first_reports = reports() if reports else None
    limit = budget
    starved = blocked = 0.0
    times: dict[str, tuple[float, float]] = {}
    last = start
    while True:
        remaining = min(limit, cap) - (now() - start)
        if came(max(min(remaining, budget / SLICES), 0.0)):
            # (past the budget: it came thanks to the load or a system call; the run notes it)
            return Waited(True, seconds=now() - start, budget=budget, starved=starved,
                          blocked=blocked, times=times, counted=tuple(clocks.threads))
        if in_syscall():
            blocked += now() - last
        last = now()
        elapsed = last - start
        times = clocks.since()
        starved = clocks.starved(times)
        limit = budget + starved + blocked
        if elapsed >= cap or elapsed + SLACK >= limit:
            return Waited(False, seconds=elapsed, budget=budget, starved=starved,
                          blocked=blocked, capped=elapsed >= cap, times=times,
                          reports=None if reports is None else reports() - first_reports,
                          counted=tuple(clocks.threads))
