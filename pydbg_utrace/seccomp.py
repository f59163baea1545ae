"""The seccomp-bpf fast path: stop a launched program only at the calls engines want.

Engines narrow their system calls to a set of numbers
(``att.set_syscall_filter``).  For a program launched with
``syscall_filter=NUMBERS`` the forked child installs, just before its
``execve``, a seccomp filter that returns ``SECCOMP_RET_TRACE`` for those
numbers and ``ALLOW`` for the rest.  The tracer sets
``PTRACE_O_TRACESECCOMP`` and, while the filter covers every engine of a
thread, resumes it with ``PTRACE_CONT``: the ``PTRACE_EVENT_SECCOMP`` stop is
reported as the system call's entry, and the exit stop is asked for (by
resuming with ``PTRACE_SYSCALL`` from there) only if an engine wants it.

When every engine of a thread that wants syscalls is narrowed to exactly
the filter's numbers (``trace --seccomp-bpf``) and none wants ``QUIESCE``,
both stops take the fast lane's plan (:mod:`pydbg_utrace.lane`) instead of
the general report: ~18 us of tracer CPU a stop instead of ~47 here
(bench/seccomp_stops.py, docs/bench.md).

A filter cannot be removed: a thread whose engines want more than it gives
goes back to the full ``PTRACE_SYSCALL`` path.  There the kernel (since 4.8)
stops at the syscall entry *first* and at the seccomp stop after it, for the
same call: that second stop is recognised and not reported again.

The filter is compiled by libseccomp (Debian's ``python3-seccomp``, or
``pyseccomp`` from PyPI, which has the same API) in the caller's thread; the
forked child of this threaded process only makes two ``prctl`` calls on bytes
made before the fork (no libseccomp, no allocation of its own there).
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import signal
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from . import kernel, lane
from .engine import Report
from .errors import NoSuchThreadError
from .events import Event, Resume, SyscallAction
from .process import State
from .stopkinds import SYSCALL_STOP
from .syscall_stop import SyscallReport

if TYPE_CHECKING:
    from .dispatch import Decision
    from .engine import Attachment
    from .process import Process, Thread
    from .tracer import ports

log = logging.getLogger("pydbg_utrace")

def _binding() -> tuple[Any, str]:
    """libseccomp's Python API, and '' -- or None and why not.

    Debian's binding first (libseccomp's own, a C extension), then the
    pure-Python one from PyPI.  (A ``seccomp`` module without
    ``SyscallFilter`` is someone's script of that name on ``sys.path``.)
    """
    try:
        import seccomp as binding
        if hasattr(binding, "SyscallFilter"):
            return binding, ""
    except ImportError:
        pass
    try:
        import pyseccomp as binding
    except (ImportError, OSError) as exc:  # OSError: no libseccomp.so.2 under pyseccomp
        return None, f"no libseccomp binding ({exc}): pip install pyseccomp, or python3-seccomp"
    return binding, ""


_binding_found: tuple[Any, str] | None = None  # (module or None, why not), once looked for


def _libseccomp() -> tuple[Any, str]:
    """The binding, imported on first use (pyseccomp runs ``ldconfig -p`` to find the library:
    not something ``import pydbg_utrace`` should do)."""
    global _binding_found
    if _binding_found is None:
        _binding_found = _binding()
    return _binding_found

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
_SYSCALL_BITS = int(Event.SYSCALL)
_EXIT_BIT = int(Event.SYSCALL_EXIT)
_ENTRY_OP = kernel.PTRACE_SYSCALL_INFO_ENTRY
_EXIT_OP = kernel.PTRACE_SYSCALL_INFO_EXIT
_RESUME = Resume.RESUME

_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl
_prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_prctl.restype = ctypes.c_int


class SeccompUnavailable(RuntimeError):
    """The fast path cannot be used here (no binding, a refusing kernel...)."""


def unavailable_reason() -> str:
    """Why no filter can be compiled in this Python ('' if one can)."""
    return _libseccomp()[1]


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


class FilterProgram:
    """A compiled filter: the numbers it traces and the cBPF bytes the child installs."""

    def __init__(self, numbers: frozenset[int], code: bytes):
        self.numbers = numbers
        self.code = code
        self._buffer = ctypes.create_string_buffer(code, len(code))
        self._fprog = _SockFprog(len(code) // 8, ctypes.addressof(self._buffer))
        self._fprog_address = ctypes.addressof(self._fprog)

    def install(self) -> int:
        """In the forked child, just before ``execve``: 0, or the errno it failed with.

        As strace does, ``PR_SET_NO_NEW_PRIVS`` is set only if the kernel asks
        for it (``EACCES``: no ``CAP_SYS_ADMIN``).  A privileged tracer thus keeps
        the setuid semantics the program would have on the full path; an
        unprivileged one makes the program and its children ignore setuid bits
        for good (under ptrace they did not take effect anyway).
        """
        if _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self._fprog_address, 0, 0) == 0:
            return 0
        err = ctypes.get_errno()
        if err != errno.EACCES:
            return err
        if _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return ctypes.get_errno()
        if _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self._fprog_address, 0, 0) == 0:
            return 0
        return ctypes.get_errno()


def compile_filter(numbers: Iterable[int]) -> FilterProgram:
    """libseccomp's program: TRACE for ``numbers`` (the host's ABI), ALLOW for the rest.

    A call of another ABI (a 32-bit program) is TRACEd too: nothing is hidden
    from the tracer that it would have seen on the full path.
    """
    lib, missing = _libseccomp()
    if lib is None:
        raise SeccompUnavailable(missing)
    wanted = frozenset(numbers)
    bad = [nr for nr in wanted if not isinstance(nr, int) or isinstance(nr, bool) or nr < 0]
    if bad:
        raise ValueError(f"syscall_filter: not system call numbers: {bad!r}")
    program = lib.SyscallFilter(lib.ALLOW)
    program.set_attr(lib.Attr.ACT_BADARCH, lib.TRACE(0))
    for nr in sorted(wanted):
        try:
            program.add_rule(lib.TRACE(0), nr)
        except (OSError, RuntimeError, ValueError) as exc:
            raise ValueError(f"syscall_filter: libseccomp refuses system call {nr}: {exc}") \
                from None
    with os.fdopen(os.memfd_create("pydbg-utrace-seccomp"), "w+b") as out:
        program.export_bpf(out)  # (it writes to a file descriptor only)
        out.seek(0)
        code = out.read()
    return FilterProgram(wanted, code)


def prepare(numbers: Iterable[int] | None) -> FilterProgram | None:
    """The program for ``launch(syscall_filter=...)``; None (the full path) if unavailable.

    As strace: a fast path that cannot be had is a warning, not a failure.
    """
    if numbers is None:
        return None
    if isinstance(numbers, str | bytes):
        raise TypeError("syscall_filter is a set of system call numbers, not a string")
    try:
        return compile_filter(numbers)
    except SeccompUnavailable as exc:
        log.warning("seccomp filter is requested but unavailable (%s): every system call "
                    "stops", exc)
        return None


# -- the kernel's order of stops (strace's check_seccomp_order) ----------------------
_order_lock = threading.Lock()
_order_verdict: str | None = None  # '' fine, else why not


def order_problem() -> str:
    """'' if the kernel stops as we expect (entry, then seccomp, then exit), else why not.

    Checked once per Python process, on a forked child that traces one call
    (``gettid``) under ``PTRACE_SYSCALL``: since Linux 4.8 its stops come as
    syscall entry, seccomp, syscall exit.  Must run on the tracer thread.
    """
    global _order_verdict
    with _order_lock:
        if _order_verdict is None:
            _order_verdict = _probe_order()
        return _order_verdict


def _probe_order() -> str:
    from pydbg_utrace import arch

    try:
        gettid = arch.host().syscall_number_of("gettid")
        program = compile_filter({gettid})
    except (KeyError, SeccompUnavailable, ValueError) as exc:
        return str(exc)
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: wait to be traced, install, one gettid, out
        try:
            os.close(go_w)
            os.read(go_r, 1)
            err = program.install()
            if err == 0:
                _libc.syscall(ctypes.c_long(gettid))
            os._exit(err)
        finally:
            os._exit(100)
    os.close(go_r)
    try:
        kernel.seize(pid, kernel.PTRACE_O_TRACESYSGOOD | kernel.PTRACE_O_TRACESECCOMP
                     | kernel.PTRACE_O_EXITKILL)
        kernel.interrupt(pid)
        kernel.wait_tracee(pid)
        kernel.cont_syscall(pid, 0)
        os.write(go_w, b"x")
        return _follow_probe(pid, gettid)
    except OSError as exc:
        return f"the probe failed: {exc}"
    finally:
        os.close(go_w)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap(pid)


def _reap(pid: int) -> None:
    """Wait for the killed probe to be gone (it may be reaped already)."""
    try:
        while os.WIFSTOPPED(kernel.wait_tracee(pid)[1]):
            pass
    except ChildProcessError:
        pass


def _follow_probe(pid: int, gettid: int) -> str:
    """Walk the probe's stops: its seccomp stop must come between gettid's entry and exit.

    (Python makes calls of its own, gettid among them, before the filter is
    in: only the stops around the seccomp stop count.)
    """
    previous = ""
    seccomp_seen = False
    while True:
        _, status = kernel.wait_tracee(pid)
        if not os.WIFSTOPPED(status):
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
            if 0 < code < 100:
                return f"the kernel refused the filter: {os.strerror(code)}"
            return "the probe ended before its seccomp stop was seen"
        event, sig = kernel.event_of(status), os.WSTOPSIG(status)
        if event == kernel.PTRACE_EVENT_SECCOMP:
            if previous != "entry":
                return f"the seccomp stop came after a {previous or 'no'} stop, not the " \
                       "entry's (Linux before 4.8?)"
            seccomp_seen = True
        elif sig == SYSCALL_STOP:
            info = kernel.get_syscall_info(pid)
            if seccomp_seen:
                if info.op == kernel.PTRACE_SYSCALL_INFO_EXIT:
                    return ""
                return "after the seccomp stop came another entry stop, not the exit"
            entry = info.op == kernel.PTRACE_SYSCALL_INFO_ENTRY and info.nr == gettid
            previous = "entry" if entry else "syscall"
        else:
            previous = "signal"
        kernel.cont_syscall(pid, sig if event == 0 and sig != SYSCALL_STOP else 0)


# -- after the exec: is the filter really there? ------------------------------------
def filter_count(path: str) -> int | None:
    """``Seccomp_filters`` of a /proc status file (Linux 5.9); None if unreadable."""
    try:
        with open(path) as status:
            for line in status:
                if line.startswith("Seccomp_filters:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def installed_filter(pid: int, program: FilterProgram) -> frozenset[int] | None:
    """The numbers the launched child's filter traces, if it installed it (else None).

    Installed means one filter more than the tracer thread has (the child
    inherited ours).  Unknown (a kernel without ``Seccomp_filters``) counts as
    not installed: the full path is right either way, the fast one only with
    a filter.
    """
    ours = filter_count("/proc/thread-self/status")
    theirs = filter_count(f"/proc/{pid}/status")
    if ours is not None and theirs == ours + 1:
        return program.numbers
    log.warning("seccomp filter is requested but was not installed in process %d: every "
                "system call stops", pid)
    return None


# -- per thread: which path, who hears which call ------------------------------------
class SyscallScope:
    """How a thread's system calls are seen, recomputed when its engines change.

    ``fast``: its process has a filter that covers every engine of the thread
    wanting syscalls, so it runs with ``PTRACE_CONT`` between traced calls.
    ``narrowed``: some engine narrowed its calls, so each call's audience is
    picked by number.  ``uniform``: fast, and every engine wanting syscalls
    narrowed to exactly the filter's numbers (``trace --seccomp-bpf``), so
    every traced call is told to all of them: the fast lane's plan serves its
    seccomp and exit stops (:meth:`SeccompStops._on_filtered_exit_fast`).
    ``exit_pending``: a reported entry's exit is wanted.
    ``entry_nr``: the number of a call whose entry stop was reported and whose
    seccomp stop (the same call, next) must not be reported again.
    """

    __slots__ = ("filtered", "fast", "narrowed", "uniform", "exit_pending", "entry_nr")

    def __init__(self, filtered: frozenset[int] | None, fast: bool, narrowed: bool,
                 uniform: bool = False):
        self.filtered = filtered
        self.fast = fast
        self.narrowed = narrowed
        self.uniform = uniform
        self.exit_pending = False
        self.entry_nr: int | None = None

    def wants_stops(self, watchers: int) -> bool:
        """Resume with PTRACE_SYSCALL?"""
        return self.exit_pending or (watchers > 0 and not self.fast)

    def audience(self, attachments: Sequence[Attachment], nr: int) -> Sequence[Attachment]:
        if not self.narrowed:
            return attachments
        return [att for att in attachments
                if att.syscall_filter is None or nr in att.syscall_filter]

    def entry_audience(self, attachments: Sequence[Attachment], nr: int,
                       at_entry_stop: bool) -> Sequence[Attachment]:
        """Who hears this entry; notes whether its exit stop is wanted."""
        atts = self.audience(attachments, nr)
        self.exit_pending = any(int(att.events) & _EXIT_BIT for att in atts)
        if at_entry_stop and self.filtered is not None and nr in self.filtered:
            self.entry_nr = nr  # its seccomp stop comes next: the same call
        return atts

    def exit_audience(self, attachments: Sequence[Attachment], nr: int
                      ) -> Sequence[Attachment]:
        self.exit_pending = False
        self.entry_nr = None
        return self.audience(attachments, nr)

    def repeated_entry(self, nr: int) -> bool:
        """Is this seccomp stop that of a call whose entry stop was reported?"""
        if self.entry_nr is None:
            return False
        same = self.entry_nr == nr
        self.entry_nr = None
        return same


def launch_scope(filtered: frozenset[int] | None, exec_traced: bool) -> SyscallScope | None:
    """A launched program's first scope: its execve's exit stop owed, if its filter traced it.

    The child's own ``execve`` makes the filter's seccomp stop before the
    launch has any engine (the tracer resumes it on to the exec stop).  As
    strace does there, the exit stop is still asked for: the first resume is
    ``PTRACE_SYSCALL``, so the launch's ``execve`` is reported at its exit,
    as on the full path.  (The engines' scope, made when they attach, keeps
    the promise: :func:`scope_of`.)
    """
    if filtered is None or not exec_traced:
        return None
    scope = SyscallScope(filtered, fast=True, narrowed=False)
    scope.exit_pending = True
    return scope


def scope_of(thread: Thread) -> SyscallScope | None:
    """The thread's scope; None when no filter and no narrowing (the plain, cheapest case)."""
    process = thread.process
    filtered = process.syscall_filter if process is not None else None
    atts = thread.attachments
    narrowed = any(att.syscall_filter is not None for att in atts)
    old = thread.syscall_scope
    if filtered is None and not narrowed:
        if old is not None and old.exit_pending:
            return old  # keep the exit stop promised to a reported entry
        return None
    watching = [att.syscall_filter for att in atts if int(att.events) & _SYSCALL_BITS]
    fast = filtered is not None and all(
        numbers is not None and numbers <= filtered for numbers in watching)
    uniform = fast and all(numbers == filtered for numbers in watching)
    scope = SyscallScope(filtered, fast, narrowed, uniform)
    if old is not None:
        scope.exit_pending, scope.entry_nr = old.exit_pending, old.entry_nr
    return scope


def warn_if_filtered(process: Process) -> None:
    """Detaching from a filtered process: its traced calls fail from now on."""
    if process.syscall_filter:
        log.warning("process %d keeps its seccomp filter after detach: untraced, its calls "
                    "of %s fail with ENOSYS", process.pid, sorted(process.syscall_filter))


class SeccompStops:
    """The tracer's seccomp part: its stops, and the lane for filtered calls.

    One of the tracer's parts (:mod:`pydbg_utrace.tracer.facade` builds it
    and connects it; :mod:`pydbg_utrace.tracer.ports` names what it uses of
    the others).  Runs on the tracer thread only.
    """

    def __init__(self, tracer: Any, running: lane.Running, reporting: Any) -> None:
        self.tracer = tracer
        self.running = running  # whose callback runs (lane.Running)
        self.reporting = reporting  # whose report is being dispatched (tables.Reporting)

    def connect(self, reporter: ports.Reporting, resumer: ports.Resuming,
                stops: ports.StopHandling) -> None:
        self.reporter = reporter
        self.resumer = resumer
        self.stops = stops

    def on_seccomp(self, thread: Thread) -> None:
        """A ``PTRACE_EVENT_SECCOMP`` stop: the entry of a traced call, or a repeat."""
        try:
            info = kernel.get_syscall_info(thread.tid)
        except kernel.NoSuchProcessError:
            return  # killed meanwhile: its exit stop follows
        scope = thread.syscall_scope
        if scope is None and thread.process is not None:
            scope = thread.syscall_scope = scope_of(thread)
        if scope is None or scope.repeated_entry(info.nr) \
                or info.op != kernel.PTRACE_SYSCALL_INFO_SECCOMP:
            # Reported at its entry stop already (the full path), or a filter
            # not ours: nothing new to tell.
            self.resumer.resume(thread)
            return
        info.op = _ENTRY_OP  # the same report as an entry stop's
        thread.syscall = info
        plan = self._filtered_lane(thread, scope, info.nr)
        if plan is not None:
            self._seccomp_entry_fast(thread, scope, plan, info)
            return
        report = Report(self.tracer, thread, Event.NONE)
        report.syscall = info
        self.stops.report_syscall_entry(thread, report)
        self.resumer.resume(thread)

    # -- the fast lane for filtered calls (lane.py's plan; the tracer's lane for the rest) --
    def _filtered_lane(self, thread: Thread, scope: SyscallScope, nr: int) -> lane.Plan | None:
        """The lane's plan if it may serve this filtered call's stops, else None.

        The lane's own conditions (tracer.fastlane.FastLane.on_syscall: nobody holds
        the thread, nothing pending, no QUIESCE engine...), plus a uniform scope
        and a call of our filter (another filter's RET_TRACE goes the general way).
        """
        if not scope.uniform or nr not in scope.filtered or thread.holds \
                or thread.quiesce_owed or thread.steppers or thread.pending is not _RESUME \
                or thread.abort_result is not None or thread.at_trap is not None \
                or thread.group_stopped or not thread.born or thread.process is None \
                or thread.release_at_exit is not None:
            return None
        lane_state = thread.lane
        if lane_state is None:
            lane_state = thread.lane = lane.LaneState(thread.arch.keeps_syscall_at_exit)
        plan = lane_state.plan
        if plan is None:
            plan = lane_state.plan = lane.Plan(thread.attachments)
        return plan if plan.usable else None

    def _seccomp_entry_fast(self, thread: Thread, scope: SyscallScope, plan: lane.Plan,
                            info: kernel.SyscallInfo) -> None:
        """Report a seccomp stop as the call's entry through the plan, and resume.

        ``PTRACE_SYSCALL`` if an engine wants the exit (its stop comes next:
        the kernel's order, checked at start-up), else ``PTRACE_CONT``.
        Anything but a plain answer goes on the general way from here.
        """
        report = SyscallReport(self.tracer, thread, Event.SYSCALL_ENTRY, info, None)
        report.syscall_action = SyscallAction.RUN
        scope.exit_pending = plan.wants_exit  # (uniform: every engine hears the call)
        decision = self._report_on_lane(thread, plan, plan.entry, Event.SYSCALL_ENTRY, report)
        if decision is not None or report.syscall_action is SyscallAction.ABORT:
            if decision is not None:
                self.reporter.record(thread, decision)
            self.stops.after_entry_report(thread, report)
            self.resumer.resume(thread)
            return
        if self._asks_more(thread, scope):
            self.resumer.resume(thread)
            return
        try:
            if scope.exit_pending:
                kernel.resume_syscall(thread.tid)
                thread.lane.op, thread.lane.next_op = _ENTRY_OP, _EXIT_OP
            else:
                kernel.cont(thread.tid, 0)
        except kernel.NoSuchProcessError:
            pass  # killed while stopped: its death report follows
        thread.state = State.RUNNING

    def _report_on_lane(self, thread: Thread, plan: lane.Plan, calls: tuple, event: Event,
                        report: SyscallReport) -> Decision | None:
        """``event`` told through the plan's ``calls``, as the tracer's lane tells it (its
        copy stays inline there, on the hot path)."""
        thread.stop.event = event
        self.reporting.thread = thread
        try:
            return lane.run(plan, calls, event, report, self.running)
        finally:
            self.reporting.thread = None

    def on_filtered_exit_fast(self, thread: Thread, plan: lane.Plan) -> bool:
        """The tracer's lane hands over a syscall stop of a thread with a scope.

        Served here: the exit stop of a call reported at its seccomp stop by
        :meth:`_seccomp_entry_fast`, on a thread still uniform; resumed with
        ``PTRACE_CONT``.  False (nothing done) for any other: the general way.
        """
        scope = thread.syscall_scope
        lane_state = thread.lane
        entry = thread.syscall
        if not scope.uniform or not scope.exit_pending or lane_state.next_op != _EXIT_OP \
                or entry is None or entry.op != _ENTRY_OP:
            return False
        tid = thread.tid
        lane_state.next_op = 0
        lane_state.op = _EXIT_OP
        thread.state = State.STOPPED
        stop = thread.stop  # a new stop: StopState.reset(False), inlined (the hot path)
        stop.regs = None
        stop.inject = 0
        stop.event = 0
        stop.jobctl = False
        thread.process.settled(tid)
        scope.exit_pending = False
        scope.entry_nr = None
        try:
            # Decoded now, not lazily: an exit report is there to be read (its result),
            # and a lazy decode costs ~40 us here (an AttributeError per field).
            info = kernel.get_syscall_info(tid)
        except kernel.NoSuchProcessError:
            return True  # killed (a group exit) since it stopped: its exit stop follows
        info.nr, info.args = entry.nr, entry.args
        report = SyscallReport(self.tracer, thread, Event.SYSCALL_EXIT, info, entry)
        decision = self._report_on_lane(thread, plan, plan.exit, Event.SYSCALL_EXIT, report)
        if decision is not None:
            thread.syscall = info
            self.reporter.record(thread, decision)
            self.resumer.resume(thread)
            return True
        thread.syscall = None  # (an exit is never the entry of the next stop)
        if self._asks_more(thread, scope) or scope.wants_stops(thread.syscall_watchers):
            self.resumer.resume(thread)
            return True
        try:
            kernel.cont(tid, 0)
        except kernel.NoSuchProcessError:
            pass  # killed while stopped: its death report follows
        thread.state = State.RUNNING
        return True

    @staticmethod
    def _asks_more(thread: Thread, scope: SyscallScope) -> bool:
        """Did a callback ask for more than the plain resume (or change the thread's engines)?"""
        return bool(thread.holds or thread.pending is not _RESUME or thread.stop.regs is not None
                    or thread.steppers or thread.abort_result is not None
                    or thread.quiesce_owed or thread.syscall_scope is not scope)

    def set_syscall_filter(self, att: Attachment, numbers: frozenset[int] | None) -> None:
        thread = att.thread
        if att.detached:
            raise NoSuchThreadError(f"engine is detached from thread {thread.tid}")
        had_stops = self.resumer.wants_syscalls(thread)
        att.syscall_filter = numbers
        self.resumer.count_syscall_watchers(thread)
        if thread.state == State.RUNNING and had_stops != self.resumer.wants_syscalls(thread):
            self.resumer.interrupt(thread)  # re-resume it on the other path

    def checked_filter(self, program: FilterProgram | None) -> FilterProgram | None:
        """The program to install, once the kernel's order of stops is known to be right."""
        if program is None:
            return None
        problem = order_problem()
        if problem:
            log.warning("seccomp filter is requested but unavailable (%s): every system "
                        "call stops", problem)
            return None
        return program
