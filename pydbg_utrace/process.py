"""Threads and processes as the tracer sees them.

A :class:`Thread` knows its ptrace state and who is attached to it, nothing
more: registers, memory, breakpoints and stepping are services that take a
thread (STYLE.md: no all-knowing process object).
"""

from __future__ import annotations

import enum
import os
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import procfs
from .errors import NoSuchThreadError
from .events import AttachFlags, Resume
from .memory import AddressSpace
from .state import StopState

if TYPE_CHECKING:
    from pydbg_utrace.arch.base import Arch

    from .kernel import Siginfo, SyscallInfo
    from .lane import LaneState
    from .seams import AttachmentSide as Attachment
    from .seams import EngineSide as Engine
    from .seams import ProcessHandle
    from .seams import SyscallScopeSide as SyscallScope


class State(enum.Enum):
    RUNNING = "running"  # resumed by us; may be blocked in the kernel
    STOPPED = "stopped"  # in a ptrace stop we have not resumed yet
    LISTENING = "listening"  # group-stopped, parked with PTRACE_LISTEN
    HELD = "held"  # stopped while another thread steps over a breakpoint
    DEAD = "dead"  # its death is being reported
    GONE = "gone"  # reaped, or detached from ptrace


class Thread:
    """One traced thread (a kernel task)."""

    def __init__(self, handle: ProcessHandle, tid: int, process: Process | None):
        self._handle = handle  # what attach() asks of the tracer (not the tracer)
        self.tid = tid
        self.process = process
        self.state = State.RUNNING
        self.attachments: list[Attachment] = []
        self.syscall_watchers = 0  # attachments wanting syscall stops (kept by the tracer)
        self.syscall_scope: SyscallScope | None = None  # seccomp/narrowed calls (seccomp.py)
        # Engines holding the thread stopped (STOP is sticky), plus internal
        # holds (a launch not yet started, a clone child awaiting its report).
        self.holds: set[object] = set()
        # Engines told "in progress" by control(STOP): each is owed a report at the
        # stop it lands on, an event's callbacks or else a quiesce pass of its own.
        self.quiesce_owed: set[object] = set()
        self.steppers: list[Attachment] = []  # asked for a step, await report_step
        self.pending = Resume.RESUME  # minimum non-STOP action asked since the last resume
        self.stop = StopState()  # what its current stop made known: reset at every stop
        self.at_trap: int | None = None  # stopped on our trap here (PC rewound)
        self.syscall: SyscallInfo | None = None
        self.lane: LaneState | None = None  # the tracer's fast-lane memory (lane.py)
        self.abort_result: tuple[int, int | None] | None = None  # set at the exit stop
        self.group_stopped = False
        self.stepping = False  # last resume was a single step
        self.interrupt_report = False  # that trap reports report_signal(REPORT)
        self.born = False  # its first (creation) stop was seen
        self.exited = False  # resumed past its exit stop: it runs no more user code
        self.detach_when_stopped = False  # an unwanted fork child: detach at its first stop
        self.death_reported = False
        self.report_at_vfork_done = False  # a REPORT asked at a vfork waits for its end
        # Between its VFORK event and VFORK_DONE: blocked in the kernel until its
        # child (this pid) execs or exits, running no user code, unable to stop.
        self.vfork_child: int | None = None
        # The leader of a host's child: detach at its exit stop, reporting this
        # wait status, so that the host's own wait() gets the real one.
        self.release_at_exit: int | None = None
        # An artificial signal chosen at a REPORT/INTERRUPT report, sent with
        # tgkill: at its delivery stop it gets this siginfo and goes on unreported.
        self.artificial: Siginfo | None = None

    def attach(self, engine: Engine | None = None, flags: AttachFlags = AttachFlags.CREATE,
               data: Any = None) -> Attachment:
        """Attach ``engine`` to this thread (see :meth:`Tracer.attach`)."""
        return self._handle.attach(self, engine, flags, data)

    @property
    def arch(self) -> Arch:
        assert self.process is not None
        return self.process.arch

    @property
    def alive(self) -> bool:
        return self.state not in (State.DEAD, State.GONE)

    def __repr__(self) -> str:
        return f"<Thread {self.tid} {self.state.value}>"


def _values(threads: dict[int, Thread]) -> list[Thread]:
    return list(threads.values())


class Process:
    """A traced thread group.  ``pid`` is its leader's tid."""

    def __init__(self, handle: ProcessHandle, pid: int, is_child: bool):
        self._handle = handle  # what start/wait/detach/kill ask of the tracer (not the tracer)
        self.pid = pid
        self.is_child = is_child  # we are its real parent (we launched it)
        self.host_child = False  # the host's own child when we attached: the host reaps it
        self.leader_released = False  # its leader was let go at its exit stop
        # The numbers its seccomp filter traces (seccomp.py); None: no filter.
        self.syscall_filter: frozenset[int] | None = None
        self.threads: dict[int, Thread] = {}
        # Children (threads or processes) created while it is being detached: let go
        # only once the originals are back (they run on, or copied, its memory).
        self.born_while_detaching: list[tuple[int, int]] = []  # (child tid, parent tid)
        self.status: int | None = None  # wait status once it is gone
        self._arch: Arch | None = None
        self._memory: AddressSpace | None = None
        # A service's ear for settled(tid) while it needs it (None: nobody listens).
        self.settle: Callable[[int], None] | None = None
        self._done = threading.Event()

    @property
    def arch(self) -> Arch:
        """The tracee's architecture (from its executable, not the host's)."""
        if self._arch is None:
            from pydbg_utrace import arch

            try:
                self._arch = arch.for_pid(self.pid)
            except ProcessLookupError:
                # Gone (or exiting: its executable is let go) before anyone asked:
                # control() or a breakpoint call on it is utrace's "no such thread".
                raise NoSuchThreadError(f"process {self.pid} has exited") from None
        return self._arch

    @property
    def memory(self) -> AddressSpace:
        """The program's memory; our breakpoints are invisible in it."""
        if self._memory is None:
            self._memory = AddressSpace(self.pid, self._handle.call)  # its owner: Tracer.call
        return self._memory

    def unsettled(self) -> list[int]:
        """The threads that may have run since a stop that settles them (see settled).

        Every thread that has run, except those sitting in a stop that is not
        a job-control stop: such a stop comes only once nothing is owed (a
        trap executed reports its SIGTRAP before any other stop but those).
        """
        return [tid for tid, t in self.threads.items()
                if t.born and t.alive and not (t.state == State.STOPPED and not t.stop.jobctl)]

    def memory_lent(self) -> bool:
        """Is a vfork child running on our memory?  Then no trap of ours is in it."""
        return any(t.vfork_child is not None and t.alive for t in self.threads.values())

    def leader_cannot_report(self) -> bool:
        """Is the leader a zombie while other threads live?  Then it reports nothing.

        A leader that has exited stays a zombie, unable to report any stop,
        until every other thread of the group is gone: never wait for it
        alone.  Known from its exit stop (``exited``), or from ``State: Z`` in
        /proc (a group killed by SIGKILL skips the exit stops).
        """
        leader = self.threads.get(self.pid)
        if leader is None or not any(t.alive for t in self.threads.values() if t is not leader):
            return False
        return leader.exited or procfs.state(self.pid) == "Z"

    def gone_in_kernel(self) -> bool:
        """Has every thread exited, as /proc shows it (whether or not we heard yet)?"""
        try:
            tids = os.listdir(f"/proc/{self.pid}/task")
        except OSError:
            return True
        return all(procfs.state(int(tid)) in ("Z", "X", "?") for tid in tids)

    def settled(self, tid: int) -> None:
        """``tid`` proved it owes no late trap hit (a non-job-control stop, or death).

        Called at every such stop; costs one test unless a service waits to hear
        it (``settle``: the breakpoint service, while a removed trap may be owed).
        """
        if self.settle is not None:
            self.settle(tid)

    def exec_happened(self) -> None:
        """A new program: new architecture maybe, new memory (the services forget the
        rest on their exec hook)."""
        self._arch = None
        if self._memory is not None:
            self._memory.close()
        self._memory = None

    @property
    def main_thread(self) -> Thread:
        """The leader, or (once it is gone) any live thread of the process.

        NoSuchThreadError once every thread is gone.  From any thread (the
        leader is one lookup; the others are looked at in :meth:`thread_list`).
        """
        thread = self.threads.get(self.pid)
        if thread is not None:
            return thread
        for thread in self.thread_list():
            return thread
        raise NoSuchThreadError(f"process {self.pid} has no threads left")

    def thread_list(self) -> list[Thread]:
        """The process's threads now: a snapshot taken by the tracer thread.

        For any other Python thread (a REPL, a gdb socket): ``threads`` is the
        tracer thread's own table, changed at every clone and death, and
        iterating it from another thread can see it change size midway.  At
        once on the tracer thread (a callback); once the tracer is gone the
        table changes no more and is read as it is.
        """
        try:
            return self._handle.call(_values, self.threads)
        except RuntimeError:  # the tracer is closed or dead: nothing changes it now
            return list(self.threads.values())

    def start(self) -> None:
        """Let a launched program run (it waits before its first instruction)."""
        self._handle.start(self)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until the process is gone; its wait status (None on timeout).

        RuntimeError if the tracer thread is gone (closed or died) before it.
        """
        self._done.wait(timeout)
        if self.status is None:
            error = self._handle.gone_error()
            if error is not None:
                raise error
        return self.status

    @property
    def returncode(self) -> int | None:
        """Exit code, or -signal if killed (as ``subprocess``); None while alive."""
        if self.status is None:
            return None
        if os.WIFSIGNALED(self.status):
            return -os.WTERMSIG(self.status)
        return os.WEXITSTATUS(self.status)

    def detach(self) -> None:
        """Stop tracing: every thread goes on with its pending signals, unchanged."""
        self._handle.detach_process(self)

    def kill(self) -> None:
        """Kill it (SIGKILL); its death is reported as any other."""
        self._handle.kill_process(self, signal.SIGKILL)

    # -- the tracer's side: the end of the process, as wait() learns it --------------------
    def record_exit(self, status: int) -> None:
        """It is gone with wait status ``status``: wake whoever waits for it."""
        self.status = status
        self._done.set()

    def record_tracer_gone(self) -> None:
        """The tracer thread ended first: wake whoever waits (status stays None: wait raises)."""
        self._done.set()

    def __repr__(self) -> str:
        return f"<Process {self.pid} threads={sorted(self.threads)}>"
