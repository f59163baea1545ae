"""event-exit-proc-maps: at PTRACE_EVENT_EXIT the address space is still there.

Stopped at its exit event (exit(3)), the program's /proc/PID/maps still
lists its executable and stack, its memory still reads back (a marker
variable), and the event message is the exit status; resumed, it exits 3.
"""

import os

from ptlib import ut, util
from ptlib.raw import Raw
from ptlib.ut import Observer

from pydbg_utrace import Event
from pydbg_utrace import kernel as k

NAME = "event-exit-proc-maps"


def check_alive_mm(pid: int, binary: str, addr: int, value: int) -> None:
    with open(f"/proc/{pid}/maps") as f:
        maps = f.read()
    util.check(os.path.realpath(binary) in maps, "the executable is no longer in maps")
    util.check("[stack]" in maps, "the stack is no longer in maps")
    got = int.from_bytes(k.read_memory(pid, addr, 8), "little" if os.sys.byteorder == "little"
                         else "big")
    util.equal(hex(got), hex(value), "marker read at the exit event")


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary, options=k.PTRACE_O_TRACEEXIT | k.PTRACE_O_EXITKILL)
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.is_event(k.PTRACE_EVENT_EXIT), f"expected the exit event, got {st}")
    util.equal(k.get_event_msg(pid), 3 << 8, "exit event message (wait status)")
    words = io.expect("marker")
    check_alive_mm(pid, binary, int(words[0], 16), int(words[1], 16))
    k.cont(pid)
    st = r.wait(pid)
    util.check(st.exited and st.code == 3, f"tracee {st}")


class AtExit(Observer):
    def __init__(self, io, binary):
        super().__init__()
        self.io, self.binary = io, binary

    def report_exit(self, att, r):
        words = self.io.expect("marker")
        try:
            check_alive_mm(att.thread.tid, self.binary, int(words[0], 16), int(words[1], 16))
        except util.Fail as e:
            self.out.problem(str(e))
        self.out.post("exit", r.exit_code)


def run_utrace(binary: str) -> None:
    with ut.tracer() as t:
        proc, io = ut.launch(t, binary)
        eng = AtExit(io, binary)
        eng.watch(proc.main_thread, Event.EXIT)
        proc.start()
        util.equal(eng.out.take("exit")[1], 3 << 8, "report_exit's exit code (wait status)")
        ut.expect_exit(proc, 3)
