"""state.StopState: a thread's per-stop state, reset whole at every stop (no process)."""

from __future__ import annotations

from pydbg_utrace.process import Thread
from pydbg_utrace.state import StopState


def test_reset_clears_every_field():
    stop = StopState()
    for name in StopState.__slots__:
        setattr(stop, name, object())
    stop.reset(jobctl=True)
    assert (stop.regs, stop.inject, stop.event, stop.jobctl) == (None, 0, 0, True)
    assert set(StopState.__slots__) == {"regs", "inject", "event", "jobctl"}, \
        "a new field: reset() must clear it (and the fast lane's inlined reset too)"


def test_a_thread_has_one_and_it_knows_nothing_of_the_tracer():
    thread = Thread(None, tid=1, process=None)
    assert isinstance(thread.stop, StopState)
    assert not hasattr(thread.stop, "__dict__")  # slots only: nothing else hangs on it
    assert StopState.__init__.__code__.co_argcount == 1  # no back-reference is handed in
