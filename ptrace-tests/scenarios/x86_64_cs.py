"""x86_64-cs: a bogus CS written by the debugger, then a single-step, must not harm the kernel.

At a stop of a 64-bit tracee: CS = 0 (a ring-0 selector) must be refused
(EIO); CS = 0x23 (the 32-bit user code segment) is accepted, and a single
step in that mode must end in some stop or death of the tracee -- not a
hang, not an oops (we are still here to see it).  Then the tracee is killed
and reaped normally.  Through the multiplexer an engine writes CS into
``report.regs``: with 0x23 the same; with 0 the refused write must not leave
the thread stuck, and the step runs with the old CS (0x33).
"""

import errno
import os
import signal

from ptlib import ut, util
from ptlib.raw import Raw, regs, set_regs
from ptlib.ut import Observer

from pydbg_utrace import Event, Resume, SignalAction
from pydbg_utrace import kernel as k

NAME = "x86_64-cs"
ARCHES = {"x86_64"}
I386_REGSET_SIZE = 17 * 4


def run_raw(binary: str) -> None:
    r = Raw()
    pid, _ = r.launch(binary)
    k.cont(pid)
    r.expect(pid, "the SIGUSR1 stop", lambda s: s.signal_stop and s.sig == signal.SIGUSR1)
    rg = regs(pid)
    util.equal(rg["cs"], 0x33, "64-bit user CS")
    rg["cs"] = 0
    try:
        set_regs(pid, rg)
        raise util.Fail("CS = 0 was accepted")
    except k.InvalidRequestError as e:
        util.equal(e.errno, errno.EIO, "error for CS = 0")
    rg = regs(pid)
    rg["cs"] = 0x23
    set_regs(pid, rg)
    # With a 32-bit CS the kernel shows the task through the i386 regset
    # view (task_user_regset_view): 17 ints, xcs at index 13.
    raw = k.get_regset(pid, k.NT_PRSTATUS, 27 * 8)
    util.equal(len(raw), I386_REGSET_SIZE, "regset size with CS = 0x23")
    util.equal(int.from_bytes(raw[52:56], "little"), 0x23, "CS read back (i386 view)")
    k.singlestep(pid)
    st = r.wait(pid)
    util.log(f"after the step with CS = 0x23: {st}")
    if not st.gone:
        os.kill(pid, signal.SIGKILL)
        st = r.wait(pid)
    util.check(st.signaled, f"tracee {st}")


class BogusCS(Observer):
    def __init__(self, cs: int):
        super().__init__()
        self.cs = cs

    def report_signal(self, att, r):
        if r.signo == signal.SIGUSR1:
            r.regs["cs"] = self.cs
            self.out.post("set")
            return (Resume.SINGLESTEP, SignalAction.IGN)
        self.out.post("signal", r.signo)
        return (Resume.RESUME, SignalAction.DELIVER)  # a SIGSEGV: let it die of it

    def report_step(self, att, r):
        # With CS = 0x23 the regset is the i386 view and the core cannot
        # decode it as x86_64: only the size is looked at then.
        raw = k.get_regset(att.thread.tid, k.NT_PRSTATUS, 27 * 8)
        cs = int.from_bytes(raw[17 * 8:18 * 8], "little") if len(raw) == 27 * 8 else None
        self.out.post("step", cs)
        return Resume.RESUME

    def report_death(self, att, r):
        self.out.post("death", r.exit_code)


def one_utrace(t, binary: str, cs: int) -> str:
    proc, _ = ut.launch(t, binary)
    eng = BogusCS(cs)
    eng.watch(proc.main_thread, Event.SIGNAL_ALL | Event.STEP | Event.DEATH)
    proc.start()
    eng.out.take("set")
    try:
        item = eng.out.take("step", "signal", "death", within=3.0,
                            why=f" after writing CS = {cs:#x} and stepping")
    except util.Fail as e:
        proc.kill()
        if proc.wait(3.0) is None:
            raise util.Fail(f"{e}; and SIGKILL did not finish it within 3s") from None
        raise
    proc.kill()
    if proc.wait(3.0) is None:
        raise util.Fail(f"CS = {cs:#x}: after {item}, SIGKILL did not finish it within 3s")
    return item


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        util.log(f"CS = 0x23 then a step: {one_utrace(t, binary, 0x23)}")
        # CS = 0 is refused by the kernel (EIO, see run_raw): the thread must
        # not be left stuck, and the step must have run with the old CS.
        try:
            got = one_utrace(t, binary, 0)
        except util.Fail as e:
            raise util.Fail(f"CS = 0, refused by the kernel (EIO from SETREGSET, see --raw), "
                            f"left the thread stuck: {e}") from None
        util.equal(got, ("step", 0x33), "after writing CS = 0 and a step: report and CS")
        util.log("the refused write was dropped; the engine was not told (tracer log only)")
