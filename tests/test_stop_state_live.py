"""A thread's per-stop state on real tracees: registers read at one stop are this stop's.

The fast lane may skip its checks at a thread's next syscall stop when
nothing ran in the tracer since it resumed the thread (docs/architecture.md,
"The fast lane", 6).  Reading or writing registers from a callback is such
a thing: registers written at a syscall entry reach the program, and the
registers read at every stop are that stop's (state.StopState).  Found by
ptrace-tests' syscall-reset after the lane's epoch came in: the lane kept
the previous stop's registers and dropped an engine's write.
"""

from __future__ import annotations

import os

import pytest

from pydbg_utrace import Engine, Event

pytestmark = pytest.mark.live


class RegisterReader(Engine):
    """At every syscall stop, the number in the registers against GET_SYSCALL_INFO's."""

    def __init__(self, result_for: str | None = None, value: int = 0):
        self.mismatches: list[tuple[str, int, int]] = []
        self.stops = 0
        self.result_for, self.value = result_for, value

    def report_syscall_entry(self, att, report):
        self.stops += 1
        arch = att.thread.arch
        in_regs = arch.syscall_number(report.regs)
        if in_regs != report.syscall.nr:
            self.mismatches.append(("entry", in_regs, report.syscall.nr))
        if self.result_for is not None and in_regs == arch.syscall_number_of(self.result_for):
            arch.abort_syscall(report.regs)  # a register write, on the lane
            report.set_syscall_result(self.value)  # written at the exit stop


def run(tracer, argv, engine, events=Event.SYSCALL_ENTRY):
    out_r, out_w = os.pipe()
    try:
        process = tracer.launch(argv, stdout=out_w)
    finally:
        os.close(out_w)
    att = process.main_thread.attach(engine)
    att.set_events(events)
    process.start()
    with os.fdopen(out_r) as out:
        text = out.read()
    assert process.wait(timeout=60) is not None, "the tracee did not finish"
    return text


def test_registers_read_at_each_lane_stop_are_that_stops(tracer, tracee):
    engine = RegisterReader()
    run(tracer, [tracee("getppid")], engine)
    assert engine.stops > 20  # (the dynamic loader's calls, then the program's)
    assert engine.mismatches == []


def test_a_call_aborted_at_a_lane_entry_returns_what_the_engine_set(tracer, tracee):
    engine = RegisterReader(result_for="getppid", value=4242)
    text = run(tracer, [tracee("getppid")], engine)
    assert text.split() == ["4242", "0"], text  # the program's syscall(SYS_getppid)
    assert engine.mismatches == []
