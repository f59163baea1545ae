"""step-simple: single-stepping a loop never lets it run free.

From a SIGUSR1 stop, step to the end: every stop is a step trap and the loop
counter (read from the tracee's memory at each stop) never moves by more than
one per step, taking every value from 0 to the end.
"""

import signal

from ptlib import util
from ptlib.raw import Raw

from pydbg_utrace import kernel as k

NAME = "step-simple"
STEP_BUDGET = 50_000


def read_counter(pid: int, addr: int) -> int:
    return k.peek_data(pid, addr)


class CounterWatch:
    """Checks that a counter in the tracee advances by at most one per step."""

    def __init__(self, addr: int, count: int):
        self.addr, self.count = addr, count
        self.seen: set[int] = set()
        self.last = 0

    def step(self, pid: int) -> None:
        value = read_counter(pid, self.addr)
        if value - self.last not in (0, 1):
            raise util.Fail(f"counter jumped {self.last} -> {value} in one step (ran free)")
        self.last = value
        self.seen.add(value)

    def done(self) -> None:
        util.equal(self.seen, set(range(self.count + 1)), "counter values seen while stepping")


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    addr, count = io.expect("counter")
    watch = CounterWatch(int(addr, 16), int(count))
    k.singlestep(pid)
    for _ in range(STEP_BUDGET):
        st = r.wait(pid)
        if st.gone:
            break
        util.check(st.signal_stop and st.sig == signal.SIGTRAP, f"expected a step trap, got {st}")
        watch.step(pid)
        k.singlestep(pid)
    else:
        raise util.Fail("step budget exhausted")
    util.check(st.exited and st.code == 0, f"tracee {st}")
    watch.done()
