"""When a step-over is owed (torture FOUND I, reopened): units, no process.

:class:`pydbg_utrace.tracer.traps.Traps` is the unit; the thread, its process,
the breakpoint service's tables and the resumer are stand-ins with just what it reads.
"""

from __future__ import annotations

from types import SimpleNamespace

from pydbg_utrace.tracer.traps import Traps

ADDRESS = 0x401000


def thread_on_trap(exited: bool) -> SimpleNamespace:
    """A thread whose step-over of the trap at ADDRESS was cut short (``at_trap`` kept)."""
    process = SimpleNamespace(memory_lent=lambda: False)
    return SimpleNamespace(at_trap=ADDRESS, process=process, exited=exited)


def traps_with_pc(pc: int) -> Traps:
    """Traps over a breakpoint service whose one trap is at ADDRESS, the PC at ``pc``."""
    trap_tables = SimpleNamespace(
        trap_at=lambda process, address: object() if address == ADDRESS else None)
    traps = Traps(None, trap_tables)
    traps.resumer = SimpleNamespace(registers=lambda thread: SimpleNamespace(pc=pc))
    return traps


def test_a_cut_short_step_over_is_still_owed_at_an_ordinary_stop():
    thread = thread_on_trap(exited=False)
    assert traps_with_pc(ADDRESS).still_on_trap(thread)
    assert thread.at_trap is None  # (asked once: the step-over now under way clears it)


def test_no_step_over_is_owed_at_the_exit_stop():
    """FOUND I: an execve's SIGKILL took the thread to its exit stop, its PC unmoved.

    A step-over from there held the others and waited for the thread in
    execve(), which waits until this very exit stop is let go: a deadlock.
    """
    thread = thread_on_trap(exited=True)
    assert not traps_with_pc(ADDRESS).still_on_trap(thread)
    assert thread.at_trap is None


class Holding:
    """The other threads' hold: what was held, and whether it was released."""

    def __init__(self):
        self.held = ["the other threads, with an exit stop collected"]
        self.released = None

    def hold_others(self, thread):
        return self.held

    def release(self, held):
        self.released = held

    def collect(self, threads):
        raise AssertionError("no step was made, so there is nothing to collect")


def test_a_thread_killed_under_its_step_over_still_releases_the_others():
    """FOUND I (seen again): execve()'s SIGKILL took the stepping thread out of its stop
    after the hold began, so writing its registers back failed (ESRCH).  The others
    must still be released with what the hold collected: one of them was an exit stop
    that the execve waited for."""
    from pydbg_utrace import kernel
    from pydbg_utrace.process import State

    def gone(thread, regs):
        raise kernel.NoSuchProcessError(3, "PTRACE_SETREGSET", thread.tid)

    lifted = []
    table = SimpleNamespace(lift=lifted.append, lower=lifted.remove)
    traps = Traps(None, SimpleNamespace(table_for=lambda process: table))
    traps.resumer = SimpleNamespace(registers=lambda thread: SimpleNamespace(pc=ADDRESS),
                                    write_registers=gone)
    traps.holding = Holding()
    regs = SimpleNamespace(changed=True, extra_changed=False)
    thread = SimpleNamespace(tid=7, state=State.STOPPED, stepping=False, process=None,
                             stop=SimpleNamespace(regs=regs, inject=0))
    traps.step_over(thread, report_step=False)
    assert traps.holding.released is traps.holding.held
    assert lifted == []  # the trap is back in place
    assert thread.state == State.RUNNING  # to its exit stop, which the loop gets
