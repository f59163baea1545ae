"""The REPL's two threads: the tracer thread owns the engine's state, the REPL thread
reads what it publishes (docs/architecture.md, "Who owns what").

A seeded session on tests/tracees/threads.c: threads are born, hit a
breakpoint and exit while the REPL thread continues, steps (`stepi N`, `next`,
which lets every thread go to a momentary breakpoint) and looks (`info
threads`).  After every command that leaves the program stopped, the published
view must be all-stop: every thread we are attached to is held, none is still
asked to park.  A thread asked to park before its first (birth) stop counts
as parked only if the core reports that stop to our engine: the REPL no longer
looks at the core's own fields to guess it (the "Workaround for the core" in
repl/session.py is gone), so a lost report leaves the thread parking here
(after the REPL's bounded wait) and fails the test.  Every worker hits the
breakpoint exactly once; the program ends normally.
"""

from __future__ import annotations

import io
import random
import re
import threading

import pytest

from pydbg_utrace import arch
from pydbg_utrace.repl.debugger import Debugger

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(arch.host().name != "x86_64",
                                 reason="the REPL's breakpoints after the prologue are x86_64's")]
THREADS = 12
TIMEOUT = 60  # a bound for the whole session: a stop that never comes is a verdict
MOVES = 400  # commands at most: every worker's hit and the exit come long before


def all_stopped(dbg: Debugger) -> str | None:
    """What breaks all-stop in the published view now, or None."""
    view = dbg.session.view
    if view.parking:
        return f"threads {sorted(view.parking)} asked to park never stopped"
    running = sorted(set(view.attachments) - view.held)
    if running:
        states = {}
        for tid in running:
            try:
                with open(f"/proc/{tid}/stat") as f:
                    states[tid] = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                states[tid] = "gone"
        return f"threads {running} run while the user is at the prompt {states}"
    if dbg.session.current not in view.held:
        return f"the selected thread {dbg.session.current} is not held"
    return None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_threads_come_and_go_while_the_repl_steps_and_continues(tracee, seed):
    rng = random.Random(seed)
    out = io.StringIO()
    dbg = Debugger(out)
    dbg.session.program = [tracee("threads"), str(THREADS)]
    watchdog = threading.Timer(TIMEOUT, dbg.session.request_interrupt)
    watchdog.start()
    done = []
    try:
        for line in ["break worker", "run"]:
            dbg.execute(line)
        for _ in range(MOVES):
            if not dbg.session.alive:
                break
            problem = all_stopped(dbg)
            assert problem is None, f"seed {seed}, after {done[-1:]}: {problem}"
            line = rng.choice(["continue", "continue", "continue", f"stepi {rng.randint(1, 4)}",
                               "next", "info threads"])
            done.append(line)
            dbg.execute(line)
    finally:
        watchdog.cancel()
        dbg.session.close()
    text = out.getvalue()
    assert not dbg.session.alive, f"seed {seed}: still running after {MOVES} commands"
    assert "Interrupted" not in text, f"seed {seed}: the watchdog fired\n{text[-3000:]}"
    hits = re.findall(r"^(?:Thread \d+ \"[^\"]*\" hit )?Breakpoint 1, worker", text, re.M)
    assert len(hits) == THREADS, f"seed {seed}: {len(hits)} hits\n{text[-3000:]}"
    assert re.search(r"^\[Inferior 1 \(process \d+\) exited normally\]$", text, re.M), \
        f"seed {seed}\n{text[-3000:]}"
