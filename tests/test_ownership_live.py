"""Other Python threads read the tracer's tables only through the tracer thread.

docs/architecture.md, "Who owns what": the tracer thread owns what a stop
changes (threads, processes, trap tables, the /proc/PID/mem file); a REPL
or gdb thread gets snapshots (Tracer.processes, Tracer.thread) or has its
read carried out by the tracer thread (AddressSpace.read/write).  Before,
AddressSpace.read walked the trap table from the caller's thread: a read
racing a removal could see the raw trap byte with no table entry left to
hide it.
"""

from __future__ import annotations

import threading

import pytest
from commanded import attach, spawn

from pydbg_utrace import Engine

pytestmark = pytest.mark.live
TOGGLES = 1500  # insert + remove pairs; no randomness, so a failure reproduces as is


@pytest.fixture
def target(tracee, tracer):
    yield from spawn(tracee("bpthreads"), tracer)


def test_reads_from_another_thread_never_see_a_trap_while_traps_come_and_go(tracer, target):
    child, address = target
    process, (att,) = attach(tracer, child, Engine())
    original = process.memory.read(address, 16)
    done = threading.Event()
    failures: list[BaseException] = []

    def toggle():
        try:
            for _ in range(TOGGLES):
                att.remove_breakpoint(att.insert_breakpoint(address))
        except BaseException as exc:  # seen by the test, below
            failures.append(exc)
        finally:
            done.set()

    toggler = threading.Thread(target=toggle)
    toggler.start()
    seen = set()
    reads = 0
    while not done.is_set() or reads == 0:
        seen.add(process.memory.read(address, 16))
        reads += 1
    toggler.join(timeout=60)
    assert not toggler.is_alive() and failures == []
    assert seen == {original}, f"{reads} reads saw {len(seen)} different contents"


def test_snapshots_of_the_tables_from_another_thread(tracer, target):
    child, _ = target
    process, _ = attach(tracer, child, Engine())
    assert [p.pid for p in tracer.processes] == [process.pid]
    thread = tracer.thread(process.pid)
    assert thread is process.main_thread
    with pytest.raises(KeyError):
        tracer.thread(1)  # init is not ours


def test_after_close_the_snapshots_are_empty_and_memory_says_why(tracer, target):
    child, address = target
    process, _ = attach(tracer, child, Engine())
    tracer.close()
    assert tracer.processes == []
    with pytest.raises(RuntimeError, match="closed"):
        process.memory.read(address, 4)
