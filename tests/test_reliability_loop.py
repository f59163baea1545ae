"""The tracer loop's order of the statuses put aside for it (torture FOUND I, reopened).

A unit test of :class:`pydbg_utrace.tracer.loop.Loop` with its stop handlers
replaced (no process): the loop is the unit, the handlers under it are the mock.
"""

from __future__ import annotations

from pydbg_utrace.process import State, Thread
from pydbg_utrace.tracer.loop import Loop
from pydbg_utrace.tracer.tables import Tables

WORKER, NEWBORN = 101, 105
HIT = 0x57F  # a SIGTRAP stop: a breakpoint hit
BIRTH = 0x80057F  # PTRACE_EVENT_STOP: a new thread's first stop
BOUND = 1000  # stops handled before the test gives up (the bug: for ever)


class Churn:
    """Stop handlers where every hit held the others again (step-overs back to back).

    Handling a worker's deferred hit steps it over its trap with the others
    held, and one of them has hit the trap meanwhile: its hit is deferred in
    turn, so ``deferred`` never empties.  A new thread's first stop, met in
    such a hold before its creator's clone event, is a stray.
    """

    def __init__(self, loop: Loop, tables: Tables):
        self.loop = loop
        self.tables = tables
        self.handled: list[tuple[int, int]] = []

    def on_status(self, tid: int, status: int) -> None:
        self.handled.append((tid, status))
        if tid == NEWBORN or len(self.handled) >= BOUND:
            self.loop.closed = True
        else:
            self.tables.defer(self.tables.threads[tid], HIT)

    def on_syscall(self, thread: Thread) -> bool:
        return False

    def something_ran(self) -> None:
        pass


def test_a_stray_first_stop_is_handled_while_step_overs_keep_deferring_hits():
    """FOUND I: the execer's birth stop waited behind deferred hits that never ran out."""
    tables = Tables()
    loop = Loop(tables)
    churn = Churn(loop, tables)
    loop.connect(churn, churn)
    worker = Thread(None, WORKER, None)
    tables.threads[WORKER] = worker
    tables.defer(worker, HIT)
    tables.strays.append((NEWBORN, BIRTH))
    loop.run()
    assert (NEWBORN, BIRTH) in churn.handled, \
        f"the new thread's first stop was never handled ({len(churn.handled)} hits were)"
    assert worker.state == State.HELD  # (its next hit is still deferred: nothing lost)
