"""watchpoint: an x86 debug-register write watch (set with PTRACE_POKEUSER) fires once, right.

DR0 = &var, DR7 = local enable, break on write, 4 bytes -- written through
PTRACE_POKEUSER at offsetof(struct user, u_debugreg) (848 on x86_64).  The
write of a neighbour must not trigger; the write of var must, as a SIGTRAP
after the store (var already 1) with DR6 saying "DR0 hit"; with the watch
cleared the program runs to exit 0.
"""

import signal

from ptlib import ut, util
from ptlib.raw import X86_64_DEBUGREG_OFFSET, Raw
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "watchpoint"
ARCHES = {"x86_64"}
DR7_WATCH_DR0 = 0x1 | (0b01 << 16) | (0b11 << 18)  # L0, RW0=write, LEN0=4 bytes


def dr(n: int) -> int:
    return X86_64_DEBUGREG_OFFSET + 8 * n


def arm(pid: int, addr: int) -> None:
    k.poke_user(pid, dr(0), addr)
    k.poke_user(pid, dr(7), DR7_WATCH_DR0)
    util.equal(hex(k.peek_user(pid, dr(0))), hex(addr), "DR0 read back")


def check_hit(pid: int, addr: int) -> None:
    util.check(k.peek_user(pid, dr(6)) & 1, f"DR6 = {k.peek_user(pid, dr(6)):#x}: no DR0 hit")
    util.equal(k.peek_data(pid, addr) & 0xFFFFFFFF, 1, "var when the watch fired")
    k.poke_user(pid, dr(7), 0)
    k.poke_user(pid, dr(6), 0)


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    addr = int(io.expect("var")[0], 16)
    arm(pid, addr)
    k.cont(pid)
    r.expect(pid, "the watchpoint trap", lambda s: s.signal_stop and s.sig == signal.SIGTRAP)
    check_hit(pid, addr)
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.exited and st.code == 0, f"tracee {st}")


class Watch(Observer):
    def __init__(self, io):
        super().__init__()
        self.io = io
        self.addr: int | None = None
        self.hits = 0

    def report_signal(self, att, r):
        # No debug-register service in the core yet: the engine makes the
        # PTRACE_POKEUSER requests itself, on the tracer thread, while stopped.
        tid = att.thread.tid
        if r.signo == signal.SIGUSR1 and self.addr is None:
            self.addr = int(self.io.expect("var")[0], 16)
            arm(tid, self.addr)
            return (Resume.RESUME, SignalAction.IGN)
        if r.signo == signal.SIGTRAP and self.addr is not None:
            self.hits += 1
            try:
                check_hit(tid, self.addr)
            except util.Fail as e:
                self.out.problem(str(e))
            return (Resume.RESUME, SignalAction.IGN)
        self.out.problem(f"unexpected signal {r.signo}")


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = Watch(io)
        eng.watch(proc.main_thread, Event.SIGNAL_ALL)
        proc.start()
        ut.expect_exit(proc, 0)
        eng.out.check()
        util.equal(eng.hits, 1, "watchpoint hits")
