"""clone-ptrace: a CLONE_PTRACE child starts traced, with no clone event in the parent.

No PTRACE_O_TRACE* option is set; ``clone(CLONE_PTRACE | SIGCHLD)`` alone must
make the child our tracee: it reports its first stop (PTRACE_EVENT_STOP under
PTRACE_SEIZE), runs to exit 7 when resumed, and its real parent still reaps
it with status 7.
"""

from ptlib import util
from ptlib.raw import Raw

from pydbg_utrace import kernel as k

NAME = "clone-ptrace"


def run_raw(binary: str) -> None:
    r = Raw()
    pid, io = r.launch(binary)
    k.cont(pid)
    st = r.wait()
    util.check(st.pid != pid, f"parent reported {st} before the child's first stop")
    util.check(st.is_event(k.PTRACE_EVENT_STOP), f"child's first report: {st}")
    child = st.pid
    util.equal(io.expect_int("child"), child, "the tid clone() returned")
    k.cont(child)
    st = r.wait(child)
    util.check(st.exited and st.code == 7, f"child: {st}, expected exit 7")
    st = r.wait_passing(pid)
    util.check(st.exited, f"parent: {st}")
    util.equal(io.expect("child")[1], "0x700", "status the real parent reaped")
    util.equal(st.code, 0, "parent exit code")
