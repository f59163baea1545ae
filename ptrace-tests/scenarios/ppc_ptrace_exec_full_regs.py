"""ppc-ptrace-exec-full-regs: the registers a tracer reads at the exec event are the real ones.

At the exec stop (before the new program's first instruction) the PC lies in
the program interpreter or executable and the SP in the stack.  The
callee-saved registers -- the ones a syscall path may leave unsaved, the
powerpc bug this test was named for -- read the same after one single-step
as before it (the first instruction of the dynamic loader does not touch
them).  On x86_64 the ABI's start state is also checked: every
general-purpose register but rip/rsp is zero (ELF_PLAT_INIT).
"""

import signal

from ptlib import ut, util
from ptlib.raw import Raw, regs
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, arch
from pydbg_utrace import kernel as k

NAME = "ppc-ptrace-exec-full-regs"
CALLEE_SAVED = {
    "x86_64": "rbx rbp r12 r13 r14 r15".split(),
    "ppc64le": [f"r{i}" for i in range(14, 32)],
    "ppc64": [f"r{i}" for i in range(14, 32)],
    "s390x": [f"r{i}" for i in range(6, 15)],
}
# rax is not among them: at the exec event execve has not returned yet and
# rax still holds -ENOSYS (the entry code's default); it is 0 once it returns.
X86_64_ZERO = "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rcx rdx rsi rdi".split()


def mapping_of(pid: int, addr: int) -> str:
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if lo <= addr < hi:
                return f"{parts[1]} {parts[5] if len(parts) > 5 else ''}"
    return ""


def check_exec_regs(pid: int, before, after) -> None:
    a = arch.for_pid(pid)
    where = mapping_of(pid, before.pc)
    util.check("x" in where.split()[0] if where else False, f"pc {before.pc:#x} not in code")
    util.check("[stack]" in mapping_of(pid, before.sp), f"sp {before.sp:#x} not in the stack")
    if a.name == "x86_64":
        nonzero = {n: hex(before[n]) for n in X86_64_ZERO if before[n]}
        util.check(not nonzero, f"non-zero registers at exec: {nonzero}")
    names = CALLEE_SAVED.get(a.name)
    if not names:
        raise util.Skip(f"no callee-saved register list for {a.name}")
    changed = {n: (hex(before[n]), hex(after[n])) for n in names if before[n] != after[n]}
    util.check(not changed, f"callee-saved registers changed by one step: {changed}")


def run_raw(binary: str) -> None:
    r = Raw()
    pid, _ = r.launch(binary)
    before = regs(pid)
    k.singlestep(pid)
    r.expect(pid, "a step trap", lambda s: s.signal_stop and s.sig == signal.SIGTRAP)
    after = regs(pid)
    check_exec_regs(pid, before, after)
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.exited and st.code == 0, f"tracee {st}")


class OneStep(Observer):
    def report_step(self, att, r):
        self.out.post("step", r.regs.arch.registers(bytes(r.regs.raw)))
        return Resume.STOP  # held while the scenario reads /proc/PID/maps


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, _ = ut.launch(t, binary)
        eng = OneStep()
        att = eng.watch(proc.main_thread, Event.QUIESCE | Event.STEP)
        att.control(Resume.STOP)  # held at launch: stopped already
        with att.examine() as regs:
            before = regs.arch.registers(bytes(regs.raw))
        att.control(Resume.SINGLESTEP)
        proc.start()
        after = eng.out.take("step")[1]
        check_exec_regs(proc.pid, before, after)
        att.control(Resume.RESUME)
        ut.expect_exit(proc, 0)
