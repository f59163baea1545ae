"""The minimal raw-ptrace driver: what ``--raw`` runs the scenarios with.

No multiplexer, no engines: one tracer (this thread), PTRACE_SEIZE, blocking
``waitpid(__WALL | __WNOTHREAD)``.  It exists to tell a kernel behaviour from
a bug of ours, so it stays as close to the bare system calls as it can.
"""

from __future__ import annotations

import os
import signal

from pydbg_utrace import kernel as k

from .util import Fail, log

SIGTRAP = signal.SIGTRAP
SYSCALL_TRAP = SIGTRAP | 0x80  # PTRACE_O_TRACESYSGOOD
STOP_SIGNALS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
EVENT_NAMES = {
    k.PTRACE_EVENT_FORK: "fork", k.PTRACE_EVENT_VFORK: "vfork",
    k.PTRACE_EVENT_CLONE: "clone", k.PTRACE_EVENT_EXEC: "exec",
    k.PTRACE_EVENT_VFORK_DONE: "vfork-done", k.PTRACE_EVENT_EXIT: "exit",
    k.PTRACE_EVENT_STOP: "stop",
}
BASE_OPTIONS = k.PTRACE_O_TRACESYSGOOD | k.PTRACE_O_EXITKILL


class Stop:
    """One ``waitpid`` report, decoded."""

    __slots__ = ("pid", "status")

    def __init__(self, pid: int, status: int):
        self.pid = pid
        self.status = status

    exited = property(lambda s: os.WIFEXITED(s.status))
    signaled = property(lambda s: os.WIFSIGNALED(s.status))
    stopped = property(lambda s: os.WIFSTOPPED(s.status))
    gone = property(lambda s: s.exited or s.signaled)
    code = property(lambda s: os.WEXITSTATUS(s.status) if s.exited else None)
    termsig = property(lambda s: os.WTERMSIG(s.status) if s.signaled else None)
    sig = property(lambda s: os.WSTOPSIG(s.status) if s.stopped else None)
    event = property(lambda s: k.event_of(s.status) if s.stopped else 0)

    @property
    def syscall(self) -> bool:
        return self.stopped and self.sig == SYSCALL_TRAP

    @property
    def group_stop(self) -> bool:
        return self.event == k.PTRACE_EVENT_STOP and self.sig in STOP_SIGNALS

    @property
    def signal_stop(self) -> bool:
        """A signal-delivery stop (no event, not a syscall stop)."""
        return self.stopped and self.event == 0 and self.sig != SYSCALL_TRAP

    def is_event(self, event: int) -> bool:
        return self.stopped and self.event == event

    def __str__(self) -> str:
        if self.exited:
            return f"{self.pid} exited {self.code}"
        if self.signaled:
            return f"{self.pid} killed by {signal.Signals(self.termsig).name}"
        if self.syscall:
            return f"{self.pid} syscall stop"
        name = signal.Signals(self.sig & 0x7F).name if self.sig & 0x7F else str(self.sig)
        if self.event:
            return f"{self.pid} event {EVENT_NAMES.get(self.event, self.event)} ({name})"
        return f"{self.pid} signal stop {name}"

    __repr__ = __str__


class Pipes:
    """A tracee's stdin (to say "go") and stdout (what it says), line by line."""

    def __init__(self, to_fd: int | None, from_fd: int):
        self.to_fd = to_fd
        self.from_fd = from_fd
        self._buf = b""

    def go(self, data: bytes = b"g") -> None:
        os.write(self.to_fd, data)

    def readline(self) -> str:
        while b"\n" not in self._buf:
            chunk = os.read(self.from_fd, 4096)
            if not chunk:
                raise Fail(f"tracee output ended; last bytes {self._buf!r}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        log(f"tracee says: {line.decode(errors='replace')}")
        return line.decode()

    def expect(self, key: str) -> list[str]:
        """Read a line ``key v1 v2...``; anything else is a failure."""
        line = self.readline()
        words = line.split()
        if not words or words[0] != key:
            raise Fail(f"tracee said {line!r}, expected {key!r}")
        return words[1:]

    def expect_int(self, key: str) -> int:
        return int(self.expect(key)[0], 0)

    def rest(self) -> str:
        """Everything else the tracee wrote, up to EOF."""
        out = self._buf
        while True:
            chunk = os.read(self.from_fd, 4096)
            if not chunk:
                break
            out += chunk
        self._buf = b""
        return out.decode(errors="replace")

    def close(self) -> None:
        for fd in (self.to_fd, self.from_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.to_fd = None


def fork_exec(binary: str, args: list[str], gate: bool) -> tuple[int, Pipes, int | None]:
    """Fork ``binary args`` with piped stdin/stdout.

    With ``gate`` the child waits for one byte on a private pipe before
    exec'ing, so that the caller can seize it first; the gate's write end is
    returned.  (Only from a single-threaded process: the child runs Python.)
    """
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    r_gate, w_gate = os.pipe() if gate else (None, None)
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(r_in, 0)
            os.dup2(w_out, 1)
            if r_gate is not None:
                os.read(r_gate, 1)
            os.execv(binary, [binary, *args])
        finally:
            os._exit(127)
    os.close(r_in)
    os.close(w_out)
    if r_gate is not None:
        os.close(r_gate)
    return pid, Pipes(w_in, r_out), w_gate


class Raw:
    """The raw driver: a handful of ptrace calls with checks around them."""

    def __init__(self):
        self.pids: set[int] = set()

    # -- starting tracees ------------------------------------------------------
    def launch(self, binary: str, *args: str, options: int = BASE_OPTIONS) -> tuple[int, Pipes]:
        """Start ``binary`` seized, stopped at its exec event (first instruction)."""
        pid, pipes, gate = fork_exec(binary, list(args), gate=True)
        self.pids.add(pid)
        k.seize(pid, options | k.PTRACE_O_TRACEEXEC)
        os.write(gate, b"x")
        os.close(gate)
        st = self.wait(pid)
        if not st.is_event(k.PTRACE_EVENT_EXEC):
            raise Fail(f"launch: expected the exec event, got {st}")
        if not options & k.PTRACE_O_TRACEEXEC:
            k.set_options(pid, options)
        return pid, pipes

    def spawn(self, binary: str, *args: str) -> tuple[int, Pipes]:
        """Start ``binary`` untraced, as our child (for the attach scenarios)."""
        pid, pipes, _ = fork_exec(binary, list(args), gate=False)
        self.pids.add(pid)
        return pid, pipes

    # -- waiting -------------------------------------------------------------------
    def wait(self, pid: int = -1) -> Stop:
        wpid, status = k.wait_tracee(pid)
        st = Stop(wpid, status)
        log(f"wait -> {st}")
        return st

    def wait_passing(self, pid: int, sigs=(signal.SIGCHLD,), resume=k.cont) -> Stop:
        """Wait for ``pid``, passing signal-delivery stops of ``sigs`` on to it."""
        while True:
            st = self.wait(pid)
            if not (st.signal_stop and st.sig in sigs):
                return st
            resume(pid, st.sig)

    def wait_nohang(self, pid: int = -1) -> Stop | None:
        """A pending report, or None (also when there is nobody left to wait for)."""
        try:
            wpid, status = k.wait_tracee(pid, nohang=True)
        except ChildProcessError:
            return None
        return Stop(wpid, status) if wpid else None

    def expect(self, pid: int, what: str, pred) -> Stop:
        st = self.wait(pid)
        if not pred(st):
            raise Fail(f"expected {what}, got {st}")
        return st

    def wait_exit(self, pid: int, skip=None, resume: bool = False) -> Stop:
        """Resume ``pid`` with PTRACE_CONT past every stop until it is gone.

        With ``resume`` it is stopped now and resumed first.  ``skip`` may veto
        stops (return a Fail message) as they pass.
        """
        if resume:
            k.cont(pid)
        while True:
            st = self.wait(pid)
            if st.gone:
                return st
            if skip is not None:
                why = skip(st)
                if why:
                    raise Fail(why)
            sig = st.sig if st.signal_stop else 0
            if st.group_stop:
                k.listen(pid)
            else:
                k.cont(pid, sig)

    # -- registers -----------------------------------------------------------------
    @staticmethod
    def pc(pid: int) -> int:
        """The PC of a stopped tracee, arch-neutral (PTRACE_GET_SYSCALL_INFO)."""
        return k.get_syscall_info(pid).instruction_pointer

    @staticmethod
    def sp(pid: int) -> int:
        return k.get_syscall_info(pid).stack_pointer

    def close(self) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# offsetof(struct user, u_debugreg) on x86_64 (arch/x86/include/asm/user_64.h)
X86_64_DEBUGREG_OFFSET = 848


# -- attaching to a stopped process ----------------------------------------------
def attach_group_stopped(r: Raw, tids: list[int]) -> None:
    """PTRACE_SEIZE every thread of a group-stopped process; each must report the stop.

    No PTRACE_INTERRUPT: seizing a task in group stop makes it trap into
    PTRACE_EVENT_STOP by itself (kernel/ptrace.c: ptrace_attach, JOBCTL_TRAP_STOP).
    """
    for tid in tids:
        k.seize(tid, BASE_OPTIONS)
        r.pids.discard(tid)
    for tid in tids:
        st = r.wait(tid)
        if not st.group_stop:
            raise Fail(f"thread {tid} after attach: {st}, expected the group stop")


def await_continue_traps(r: Raw, tids: list[int]) -> None:
    """After SIGCONT to a listening group: every thread traps (PTRACE_EVENT_STOP, SIGTRAP).

    The thread that dequeues SIGCONT may first report its delivery; it is
    passed on, after which that thread traps too.
    """
    for tid in tids:
        while True:
            st = r.wait(tid)
            if st.signal_stop and st.sig == signal.SIGCONT:
                k.cont(tid, signal.SIGCONT)
                continue
            if not (st.is_event(k.PTRACE_EVENT_STOP) and st.sig == SIGTRAP):
                raise Fail(f"thread {tid} after SIGCONT: {st}, expected a PTRACE_EVENT_STOP trap")
            break


def detach_all(r: Raw, tids: list[int], listening: bool = False) -> None:
    """Detach every thread; a listening one is trapped again first (else DETACH gets ESRCH)."""
    if listening:
        for tid in tids:
            k.interrupt(tid)
        for tid in tids:
            st = r.wait(tid)
            if not st.is_event(k.PTRACE_EVENT_STOP):
                raise Fail(f"thread {tid} after PTRACE_INTERRUPT: {st}")
    for tid in tids:
        k.detach(tid)


# -- registers through the arch package (any architecture) ------------------------
def regs(pid: int):
    """The named registers of a stopped tracee (``pydbg_utrace.arch``)."""
    from pydbg_utrace import arch

    a = arch.for_pid(pid)
    return a.registers(k.get_regset(pid, k.NT_PRSTATUS, a.regset_size),
                       lambda note, size: k.get_regset(pid, note, size))


def set_regs(pid: int, r) -> None:
    if r.changed:
        k.set_regset(pid, k.NT_PRSTATUS, bytes(r.raw))
    for note in r.extra_changed:
        k.set_regset(pid, note, bytes(r.extra[note]))


def syscall_stop(r: Raw, pid: int, sig: int = 0):
    """PTRACE_SYSCALL on, passing other signals, until the next syscall stop."""
    k.cont_syscall(pid, sig)
    while True:
        st = r.wait(pid)
        if st.syscall:
            return k.get_syscall_info(pid)
        if st.gone:
            raise Fail(f"tracee {st} while waiting for a syscall stop")
        k.cont_syscall(pid, st.sig if st.signal_stop else 0)


def run_to_syscall(r: Raw, pid: int, nr: int, op: int = k.PTRACE_SYSCALL_INFO_ENTRY,
                   arg0: int | None = None):
    """Syscall-step until the entry (or exit) of syscall ``nr`` (with first argument ``arg0``)."""
    last = None
    while True:
        info = syscall_stop(r, pid)
        if info.op == k.PTRACE_SYSCALL_INFO_ENTRY:
            last = info
        if (info.op == op and last is not None and last.nr == nr
                and (arg0 is None or last.args[0] == arg0)):
            return info


def nr_of(pid: int, name: str) -> int:
    """The tracee's number for system call ``name`` (by its arch, not the host's)."""
    from pydbg_utrace import arch

    return arch.for_pid(pid).syscall_number_of(name)
