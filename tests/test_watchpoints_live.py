"""Hardware watchpoints (x86_64 debug registers) on real tracees."""

from __future__ import annotations

import pytest
from commanded import attach, command, spawn

from pydbg_utrace import Engine, Event, Resume, arch
from pydbg_utrace.symbols import Symbols
from pydbg_utrace.watchpoints import NoFreeSlotError

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(arch.host().name != "x86_64", reason="debug registers: x86_64 only"),
]


class Watcher(Engine):
    """Records (tid, address, value now in memory) for every watchpoint hit."""

    def __init__(self) -> None:
        self.hits: list[tuple[int, int, int]] = []

    def report_clone(self, att, report):
        if report.clone_kind == "thread":
            report.child.attach(self).set_events(att.events)

    def report_breakpoint(self, att, report):
        assert report.watchpoint is not None and report.watchpoint.address == report.address
        memory = report.thread.process.memory
        value = int.from_bytes(memory.read(report.address, 8), "little", signed=True)
        self.hits.append((report.thread.tid, report.address, value))


@pytest.fixture
def target(tracee, tracer):
    yield from spawn(tracee("watch_target"), tracer)


def test_fires_on_the_write_with_the_new_value_in_memory(tracer, target):
    child, address = target
    watcher = Watcher()
    process, (att,) = attach(tracer, child, watcher)
    wp = att.insert_watchpoint(address, size=8, access="w")
    assert command(child, "write 42") == "wrote"
    assert watcher.hits == [(child.pid, address, 42)]
    assert command(child, "write -7") == "wrote"
    assert watcher.hits[-1] == (child.pid, address, -7) and wp.hits == 2


def test_write_watch_does_not_fire_on_reads(tracer, target):
    child, address = target
    watcher = Watcher()
    process, (att,) = attach(tracer, child, watcher)
    att.insert_watchpoint(address, size=8, access="w")
    assert command(child, "read") == "read 0"
    assert command(child, "read") == "read 0"
    assert watcher.hits == []
    assert command(child, "write 1") == "wrote"
    assert len(watcher.hits) == 1


def test_read_write_watch_fires_on_reads(tracer, target):
    child, address = target
    watcher = Watcher()
    process, (att,) = attach(tracer, child, watcher)
    att.insert_watchpoint(address, size=4, access="rw")
    assert command(child, "read") == "read 0"
    assert len(watcher.hits) >= 1  # the load of `watched` (the compiler may load it twice)


def test_threads_made_later_are_watched_too(tracer, target):
    child, address = target
    watcher = Watcher()
    process, (att,) = attach(tracer, child, watcher)
    att.insert_watchpoint(address)
    assert command(child, "threads 3") == "joined 3"
    assert sorted(value for _, _, value in watcher.hits) == [1, 2, 3]
    tids = {tid for tid, _, _ in watcher.hits}
    assert len(tids) == 3 and child.pid not in tids  # each new thread, none by main


def test_two_engines_share_one_register_and_removal_leaves_the_other(tracer, target):
    child, address = target
    first, second = Watcher(), Watcher()
    process, (a, b) = attach(tracer, child, first, second)
    wa = a.insert_watchpoint(address)
    b.insert_watchpoint(address)
    assert command(child, "write 3") == "wrote"
    assert len(first.hits) == len(second.hits) == 1
    a.remove_watchpoint(wa)
    assert not wa.inserted
    assert command(child, "write 4") == "wrote"
    assert len(first.hits) == 1 and second.hits[-1][2] == 4


def test_removed_watchpoint_is_cleared_in_the_thread(tracer, target):
    child, address = target
    watcher = Watcher()
    process, (att,) = attach(tracer, child, watcher)
    wp = att.insert_watchpoint(address)
    att.remove_watchpoint(wp)
    assert command(child, "write 9") == "wrote"
    assert watcher.hits == []


def test_forked_child_and_detached_process_run_without_sigtrap(tracer, target):
    child, address = target
    watcher = Watcher()
    process, (att,) = attach(tracer, child, watcher)
    att.insert_watchpoint(address)
    assert command(child, "fork") == "child 0"  # the child's write: no SIGTRAP
    assert watcher.hits == []
    process.detach()
    # A DR7 left enabled would kill it with SIGTRAP on this write.
    assert command(child, "write 5") == "wrote"
    assert command(child, "read") == "read 5"


def test_bad_watches_get_clear_errors(tracer, target):
    child, address = target
    process, (att,) = attach(tracer, child, Watcher())
    with pytest.raises(ValueError, match="not aligned"):
        att.insert_watchpoint(address + 1, size=8)
    with pytest.raises(ValueError, match="cannot watch reads alone"):
        att.insert_watchpoint(address, access="r")
    for i in range(4):
        att.insert_watchpoint(address + 8 * i if i else address, size=8 if i else 4)
    with pytest.raises(NoFreeSlotError):
        att.insert_watchpoint(address, size=2)
    assert command(child, "read") == "read 0"  # still running fine


def test_store_under_a_breakpoint_is_reported_after_the_step_over(tracer, target):
    """The store runs during the step over a trap: DR6 is read after that step too."""
    child, address = target
    process, (att,) = attach(tracer, child, Watcher())
    watcher = att.engine
    start = Symbols(child.pid).resolve("set_watched")
    code = process.memory.read(start, 64)
    store = next(insn for insn in process.arch.disassemble(code, start)
                 if insn.op_str.startswith("qword ptr [rip"))
    breaks = Breaks()
    bp_att = process.main_thread.attach(breaks)
    bp_att.insert_breakpoint(store.address)
    att.insert_watchpoint(address)
    assert command(child, "write 11") == "wrote"
    assert breaks.hits == [store.address]  # the trap, before the store
    assert watcher.hits == [(child.pid, address, 11)]  # the store, during the step-over


class Breaks(Engine):
    def __init__(self) -> None:
        self.hits: list[int] = []

    def report_breakpoint(self, att, report):
        assert report.watchpoint is None
        self.hits.append(report.address)


class StepThrough(Engine):
    """Breaks before the store, then single-steps twice; logs events in order."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def report_breakpoint(self, att, report):
        self.log.append("watch" if report.watchpoint is not None else "break")
        return Resume.SINGLESTEP if report.watchpoint is None else None

    def report_step(self, att, report):
        self.log.append("step")
        return Resume.SINGLESTEP if self.log.count("step") < 2 else None


def test_store_hit_by_a_hardware_step_is_reported_before_the_step(tracer, target):
    child, address = target
    process = tracer.attach_process(child.pid)
    engine = StepThrough()
    att = process.main_thread.attach(engine)
    att.set_events(Event.QUIESCE | Event.STEP)
    start = Symbols(child.pid).resolve("set_watched")
    insns = process.arch.disassemble(process.memory.read(start, 64), start)
    store = next(i for i, insn in enumerate(insns) if insn.op_str.startswith("qword ptr [rip"))
    att.insert_breakpoint(insns[store - 1].address)  # step 1 is the step-over, 2 the store
    att.insert_watchpoint(address)
    assert command(child, "write 12") == "wrote"
    assert engine.log == ["break", "step", "watch", "step"]
