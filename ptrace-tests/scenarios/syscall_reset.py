"""syscall-reset: what a return value set at an invalid syscall's entry becomes (recorded).

The program calls syscall(-1) and syscall(100000); at each entry the debugger
sets the return-value register to 42.  Recorded: the value at the exit stop
and what the program got.  Checked everywhere: the program sees exactly what
the exit stop showed.  Checked on x86_64 (arch/x86/entry/common.c,
do_syscall_64): number -1 is left alone, so 42 reaches the program; any
other invalid number gets -ENOSYS.
"""

import errno

from ptlib import ut, util
from ptlib.raw import Raw, regs, set_regs, syscall_stop
from ptlib.ut import Observer

from pydbg_utrace import Event, arch
from pydbg_utrace import kernel as k

NAME = "syscall-reset"
INVALID = (-1, 100000)
MARK = 42


def which_invalid(nr: int) -> int | None:
    """The INVALID number a tracer-visible ``nr`` stands for.

    s390x reports the number from the 16-bit interruption code: 100000 shows
    as 34464 and -1 as 65535 (seen in the guest); others show it whole.
    """
    for n in INVALID:
        if nr in (n, n & 0xFFFF, n & 0xFFFFFFFF, n & 0xFFFFFFFFFFFFFFFF):
            return n
    return None

# x86_64 expectations: (value at the exit stop, what syscall() returns, errno)
X86_64 = {-1: (MARK, MARK, 0), 100000: (-errno.ENOSYS, -1, errno.ENOSYS)}


def program_view(rval: int) -> tuple[int, int]:
    """What glibc's syscall() returns for kernel value ``rval``: (result, errno)."""
    return (-1, -rval) if -4095 <= rval < 0 else (rval, 0)


def judge(machine: str, seen: dict[int, int], said: dict[int, tuple[int, int]]) -> None:
    for nr in INVALID:
        util.log(f"nr {nr}: exit stop {seen[nr]}, program got {said[nr]}")
        util.equal(said[nr], program_view(seen[nr]), f"syscall({nr}): program vs exit stop")
        if machine == "x86_64":
            util.equal((seen[nr], *said[nr]), X86_64[nr], f"syscall({nr}) on x86_64")


def parse(io) -> dict[int, tuple[int, int]]:
    io.expect("start")
    a = io.expect("minus1")
    b = io.expect("big")
    return {-1: (int(a[0]), int(a[2])), 100000: (int(b[0]), int(b[2]))}


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    a = arch.for_pid(pid)
    seen = {}
    entries: list[tuple[int, int]] = []  # (number by the arch, by PTRACE_GET_SYSCALL_INFO)
    while len(seen) < len(INVALID):
        try:
            info = syscall_stop(r, pid)
        except util.Fail as e:
            raise util.Fail(f"{e}; invalid calls seen {sorted(seen)}; last entries "
                            f"(arch nr, info nr): {entries[-4:]}") from None
        nr = a.syscall_number(regs(pid)) if info.op == k.PTRACE_SYSCALL_INFO_ENTRY else None
        if nr is not None:
            entries.append((nr, info.nr))
            nr = which_invalid(nr)
        if nr is not None:
            rg = regs(pid)
            a.set_syscall_result(rg, MARK)
            set_regs(pid, rg)
            info = syscall_stop(r, pid)
            util.equal(info.op, k.PTRACE_SYSCALL_INFO_EXIT, "stop after the entry")
            seen[nr] = info.rval
    st = r.wait_exit(pid, resume=True)
    util.equal(st.code, 0, "exit code")
    judge(a.name, seen, parse(io))


class SetResultAtEntry(Observer):
    def __init__(self):
        super().__init__()
        self.pending: int | None = None
        self.seen: dict[int, int] = {}

    def report_syscall_entry(self, att, r):
        a = att.thread.arch
        nr = which_invalid(a.syscall_number(r.regs))
        if nr is not None:
            a.set_syscall_result(r.regs, MARK)
            self.pending = nr
        else:
            self.pending = None

    def report_syscall_exit(self, att, r):
        if self.pending is not None:
            self.seen[self.pending] = r.syscall.rval
            self.pending = None


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = SetResultAtEntry()
        eng.watch(proc.main_thread, Event.SYSCALL)
        proc.start()
        ut.expect_exit(proc, 0)
        util.equal(sorted(eng.seen), sorted(INVALID), "invalid syscalls seen")
        judge(proc.arch.name, eng.seen, parse(io))  # arch cached while it ran
