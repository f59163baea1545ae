"""Software breakpoints shared by engines, on real multithreaded tracees."""

from __future__ import annotations

import pytest
from commanded import attach, command, spawn

from pydbg_utrace import Engine, arch

pytestmark = pytest.mark.live
TIMEOUT = 60
# Every hit stops all threads (step-over): under qemu's emulation (the
# ppc64le/s390x guests) that is ~100x slower, so the guests run a tenth.
CALLS = 1000 if arch.host().name == "x86_64" else 100


class Counter(Engine):
    """Counts its breakpoint hits; follows new threads so it sees them all."""

    def __init__(self, remove_after: int | None = None):
        self.hits = 0
        self.remove_after = remove_after
        self.bp = None

    def report_clone(self, att, report):
        if report.clone_kind == "thread":
            report.child.attach(self).set_events(att.events)

    def report_breakpoint(self, att, report):
        self.hits += 1
        if self.hits == self.remove_after:
            att.remove_breakpoint(self.bp)


@pytest.fixture
def target(tracee, tracer):
    yield from spawn(tracee("bpthreads"), tracer)


def test_two_engines_hear_every_hit_of_eight_threads(tracer, target):
    child, address = target
    first, second = Counter(), Counter()
    process, (a, b) = attach(tracer, child, first, second)
    first.bp = a.insert_breakpoint(address)
    second.bp = b.insert_breakpoint(address)
    assert len(process.memory.traps) == 1  # one trap for both (the traps its memory hides)
    assert command(child, f"threads 8 {CALLS}") == f"total {8 * CALLS}"
    assert first.hits == second.hits == 8 * CALLS


def test_removing_one_engines_breakpoint_leaves_the_others(tracer, target):
    child, address = target
    quitter, stayer = Counter(remove_after=100), Counter()
    process, (a, b) = attach(tracer, child, quitter, stayer)
    quitter.bp = a.insert_breakpoint(address)
    stayer.bp = b.insert_breakpoint(address)
    assert command(child, f"threads 4 {CALLS // 2}") == f"total {2 * CALLS}"
    assert quitter.hits == 100 and stayer.hits == 2 * CALLS
    assert not quitter.bp.inserted and stayer.bp.inserted


def test_memory_reads_show_the_original_bytes(tracer, target):
    child, address = target
    process, (att,) = attach(tracer, child, Counter())
    before = process.memory.read(address, 16)
    att.insert_breakpoint(address)
    raw = process.memory.read_raw(address, 16)
    trap = process.arch.breakpoint_instruction
    assert raw[:len(trap)] == trap and raw[len(trap):] == before[len(trap):]
    assert process.memory.read(address - 4, 24)[4:20] == before


def test_detach_restores_every_original_byte(tracer, target):
    child, address = target
    process, (att,) = attach(tracer, child, Counter())
    with open(f"/proc/{child.pid}/mem", "rb") as mem:
        mem.seek(address)
        before = mem.read(32)
    att.insert_breakpoint(address)
    if process.arch.name == "x86_64":
        # Mid-instruction (int3 is one byte; elsewhere a trap there would
        # overlap the first one and wreck the code): still restored.
        att.insert_breakpoint(address + 1)
    assert command(child, "threads 2 10") == "total 20"
    process.detach()
    with open(f"/proc/{child.pid}/mem", "rb") as mem:
        mem.seek(address)
        assert mem.read(32) == before
    assert command(child, "threads 2 10") == "total 20"  # runs free, no SIGTRAP


def test_forked_child_runs_untraced_without_sigtrap(tracer, target):
    child, address = target
    counter = Counter()
    process, (att,) = attach(tracer, child, counter)
    counter.bp = att.insert_breakpoint(address)
    assert command(child, "fork 50") == "child 0"  # exited normally: no SIGTRAP
    assert counter.hits == 0  # the child's calls are not ours
    assert command(child, "threads 1 5") == "total 5"
    assert counter.hits == 5  # the parent's trap is still there


def test_one_shot_and_conditional_breakpoints(tracer, target):
    child, address = target
    once, odd = Counter(), Counter()
    process, (a, b) = attach(tracer, child, once, odd)
    bp = a.insert_breakpoint(address, oneshot=True)
    calls = []
    b.insert_breakpoint(address, condition=lambda report: calls.append(1) or len(calls) % 2)
    assert command(child, "threads 1 10") == "total 10"
    assert once.hits == 1 and not bp.inserted
    assert odd.hits == 5
