"""Stepping real code with the multiplexer, atomic sequences included.

On ppc64 a hardware single-step clears the reservation a load-reserve took,
so its store-conditional always fails and the loop never ends (seed 000);
the stepper runs through such sequences with temporary traps instead.  On
x86_64 the same tests step with the hardware.
"""

from __future__ import annotations

import os

import pytest

from pydbg_utrace import Engine, Event, Resume, arch

pytestmark = pytest.mark.live
TIMEOUT = 300  # emulated guests step slowly


class StepEverything(Engine):
    """From the marker syscall on, asks for a single step at every stop.

    At each stop it also asks the arch's software-step rule what it would
    plant there, so the test can check the next stop landed on one of those.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.pcs: list[int] = []
        self.planted: list[list[int] | None] = []

    def _record(self, att, report):
        pc = report.regs.pc
        self.pcs.append(pc)
        self.planted.append(att.thread.arch.software_step(pc, att.thread.process.memory.read))

    def report_syscall_entry(self, att, report):
        if report.syscall.nr == att.thread.arch.syscall_number_of("getppid") and not self.pcs:
            self._record(att, report)
            return Resume.SINGLESTEP
        return None

    def report_step(self, att, report):
        self._record(att, report)
        return Resume.SINGLESTEP if len(self.pcs) < self.limit else Resume.RESUME


@pytest.mark.parametrize("mode", ["loop", "fork"])
def test_stepping_runs_through_atomic_sequences(tracer, tracee, mode):
    process = tracer.launch([tracee("atomic"), "3", mode])
    stepper = StepEverything(limit=200_000)
    att = process.main_thread.attach(stepper)
    att.set_events(Event.SYSCALL_ENTRY | Event.STEP | Event.QUIESCE)
    process.start()
    status = process.wait(TIMEOUT)
    assert status is not None, f"not finished after {len(stepper.pcs)} steps"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert len(stepper.pcs) < stepper.limit, "ran out of steps: a livelock"
    used = 0
    for planted, there in zip(stepper.planted, stepper.pcs[1:], strict=False):
        if planted:
            used += 1
            assert there in planted, (hex(there), [hex(a) for a in planted])
    if arch.host().name.startswith("ppc64"):
        assert used >= 3, "the lwarx loop ran 3 times: each needs a software step"
