"""Breakpoints and detach while a thread waits in vfork() (torture FOUND A).

tests/tracees/vfork_stepover.c: two threads call target() in a loop while the
main thread vforks 20 children that sleep 20 ms before they exec.  A thread
inside vfork() runs no user code and cannot stop until its child has exec'd
or exited; the tracer must never wait for it then.  Every wait is bounded.
"""

from __future__ import annotations

import os
import threading

import pytest

from pydbg_utrace import Engine, Event, Resume, Tracer
from pydbg_utrace.symbols import Symbols

pytestmark = pytest.mark.live
TIMEOUT = 30 * float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))


class Follow(Engine):
    """Follows the threads; with ``hold_child``, holds the first vfork child at a syscall."""

    def __init__(self, hold_child: bool = False):
        self.hits = 0
        self.hold_child = hold_child
        self.child_held = threading.Event()

    def report_clone(self, att, report):
        if report.clone_kind == "thread":
            report.child.attach(self).set_events(att.events)
        elif report.clone_kind == "vfork" and self.hold_child and not self.child_held.is_set():
            report.child.attach(self).set_events(Event.SYSCALL_ENTRY)

    def report_syscall_entry(self, att, report):
        self.child_held.set()
        return Resume.STOP  # the vfork parent now waits for a child we hold

    def report_breakpoint(self, att, report):
        self.hits += 1


def launch(tracer: Tracer, path: str, engine: Engine):
    read_end, write_end = os.pipe()
    process = tracer.launch([path], stdout=write_end)
    os.close(write_end)
    att = process.main_thread.attach(engine)
    att.set_events(Event.CLONE)
    att.insert_breakpoint(Symbols(process.pid).address_of("target"))
    process.start()
    return process, os.fdopen(read_end)


def bounded_close(tracer: Tracer) -> None:
    closer = threading.Thread(target=tracer.close, daemon=True)
    closer.start()
    closer.join(TIMEOUT)
    assert not closer.is_alive(), f"close() hung for {TIMEOUT}s"


def test_breakpoint_step_overs_while_the_main_thread_vforks_do_not_deadlock(tracee):
    tracer = Tracer()
    engine = Follow()
    process, output = launch(tracer, tracee("vfork_stepover"), engine)
    status = process.wait(TIMEOUT)
    if status is None:
        os.kill(process.pid, 9)
    assert status is not None, f"deadlock: not finished in {TIMEOUT}s ({engine.hits} hits)"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, hex(status)
    assert output.read() == "done\n"
    assert engine.hits > 0
    bounded_close(tracer)


def test_close_while_a_thread_waits_in_vfork_for_a_held_child(tracee):
    tracer = Tracer()
    engine = Follow(hold_child=True)
    process, output = launch(tracer, tracee("vfork_stepover"), engine)
    assert engine.child_held.wait(TIMEOUT), "the vfork child never made a system call"
    bounded_close(tracer)  # the parent can stop only once its child has gone on
    with open(f"/proc/{process.pid}/status") as status:
        assert "TracerPid:\t0\n" in status.read()
    assert output.read() == "done\n"  # it ran on, without our traps, to its end
