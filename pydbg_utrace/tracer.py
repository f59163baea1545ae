"""The tracer: the one thread that owns ptrace and fans every stop out to engines.

The kernel ties a tracee to the *thread* that attached it, so one Python
thread makes every ptrace request.  It blocks in ``waitpid(__WALL |
__WNOTHREAD)`` -- only its own tracees and children, never the host
program's -- maps each ptrace stop to a utrace event, lets :mod:`dispatch`
run the engines, and carries out their decision.

Other Python threads (a REPL, a gdb socket, a script) reach it through
:meth:`Tracer._call`: the request is queued and the tracer woken by a signal
to a *waker*, a sleeping child process that the tracer itself traces, so
the signal becomes a ptrace stop that ends the ``waitpid``.  No polling, no
signal handler in the host program.
"""

from __future__ import annotations

import atexit
import collections
import errno
import logging
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any

from . import dispatch, kernel, lane, procfs, seccomp, signals, watchpoints
from .engine import Attachment, Engine, Report
from .errors import (
    AlreadyError,
    ExistsError,
    InProgressError,
    InvalidError,
    NoSuchThreadError,
    NotFoundError,
    NotStoppedError,
    NotSupportedError,
)
from .events import AttachFlags, Event, JobControl, Resume, SignalAction, SyscallAction
from .lifecycle import Lifecycle, prepare_launch
from .process import Process, State, Thread
from .stopkinds import (
    CLONE_EVENTS,
    CLONE_HOLD,
    GROUP_STOP_SIGNALS,
    LANE_STATUS,
    LAUNCH_HOLD,
    SYSCALL_STOP,
    WAKE_SIGNAL,
)
from .syscall_stop import NEXT_OP, SyscallReport
from .traps import TrapHandling, _same_memory

log = logging.getLogger("pydbg_utrace")

# The fast lane's constants, loaded once (a module global is one dict lookup;
# an enum member through its class is two, plus a descriptor).
_RESUME = Resume.RESUME
_STOPPED, _RUNNING = State.STOPPED, State.RUNNING
_SYSCALL_ENTRY, _SYSCALL_EXIT = Event.SYSCALL_ENTRY, Event.SYSCALL_EXIT
_RUN, _ABORT = SyscallAction.RUN, SyscallAction.ABORT
_INFO_ENTRY, _INFO_EXIT = kernel.PTRACE_SYSCALL_INFO_ENTRY, kernel.PTRACE_SYSCALL_INFO_EXIT
_NEXT_OP = NEXT_OP
_getrefcount = sys.getrefcount



class Tracer(TrapHandling, Lifecycle, seccomp.SeccompStops):
    """The multiplexer: owns ptrace for every traced thread, shared by many engines."""

    def __init__(self) -> None:
        self._requests: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._let_go_children: dict[int, Process] = {}  # detached, still our children
        # Stops collected while holding threads for a step-over, handled next
        # by the main loop (never recursively: one step-over can cause another).
        self._deferred: collections.deque[tuple[int, int]] = collections.deque()
        # Statuses of threads not known (or not waited for) when they came in
        # such a wait: handled by the loop as if it had just waited for them.
        self._strays: collections.deque[tuple[int, int]] = collections.deque()
        self._threads: dict[int, Thread] = {}
        self._processes: dict[int, Process] = {}
        self._running = lane.Running()  # whose callback is running (.current)
        # Counts what may change a thread's state outside the fast lane: a stop
        # taken the general way, a request drained, a call from a callback.  A
        # thread the lane resumed plainly at this count has nothing to check at
        # its next syscall stop if the count has not moved (docs/architecture.md).
        self._epoch = 0
        # The thread whose report is being dispatched: a control() from one of
        # its callbacks is combined with the report, not carried out in the
        # middle of it (its resume waits for the report's end; see _resume).
        self._reporting: Thread | None = None
        self._closed = False
        self._stopped = False  # the tracer thread left its loop (closed or died)
        self._failure: BaseException | None = None  # what killed the tracer thread
        self._waker = 0
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="pydbg-utrace tracer",
                                        daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error
        atexit.register(self.close)

    # -- public API (any thread) -------------------------------------------------
    def launch(self, argv: Sequence[str], env: dict[str, str] | None = None,
               cwd: str | None = None, kill_on_exit: bool = False,
               stdin: int | None = None, stdout: int | None = None,
               stderr: int | None = None,
               syscall_filter: Iterable[int] | None = None,
               disable_randomization: bool = False) -> Process:
        """Start ``argv`` traced, held before the first instruction of the new program.

        Attach engines, then call :meth:`Process.start`.  ``kill_on_exit`` kills it
        if the debugger dies (``PTRACE_O_EXITKILL``); otherwise it is detached.
        ``stdin``/``stdout``/``stderr`` are file descriptors for the program's
        0/1/2 (default: ours).  The program starts with every signal at its
        default disposition and none blocked (as ``posix_spawn`` with
        ``POSIX_SPAWN_SETSIGDEF``).  ``disable_randomization`` starts it without
        ASLR (``personality(ADDR_NO_RANDOMIZE)``, gdb's default for its programs).

        The arguments are checked here, before anything is forked: TypeError or
        ValueError for a malformed one (``argv`` must be a list, not a string;
        ``env`` str to str; descriptors ints), FileNotFoundError /
        NotADirectoryError for a missing program or ``cwd``.  A failure in the
        child is an OSError that says which step failed (``cannot change
        directory to ...``, ``cannot execute ...``).

        ``syscall_filter``: the system call numbers engines will want, for the
        seccomp-bpf fast path (docs/engine-api.md): the program stops only at
        those.  ``process.syscall_filter`` says what was installed (None when
        the fast path is unavailable: a warning is logged and every call stops).
        """
        plan = prepare_launch(argv, env, cwd, (stdin, stdout, stderr),
                              seccomp.prepare(syscall_filter), disable_randomization)
        return self._call(self._launch, plan, kill_on_exit)

    def attach_process(self, pid: int) -> Process:
        """Trace every thread of a running process; it goes on running."""
        return self._call(self._attach_noting_parent, pid)

    def _attach_noting_parent(self, pid: int) -> Process:
        process = self._attach_process(pid)
        # The host program's own child: its wait() will want the exit status.
        process.host_child = not process.is_child and procfs.parent_of(pid) == os.getpid()
        return process

    def attach(self, thread: Thread, engine: Engine | None = None,
               flags: AttachFlags = AttachFlags.CREATE, data: Any = None) -> Attachment:
        """utrace_attach_task: find or create ``engine``'s attachment to ``thread``.

        With CREATE a new attachment is made (EXCLUSIVE: fails with ExistsError
        if one matches); without it, the first match is returned (NotFoundError
        if none).  MATCH_OPS matches the same engine object, MATCH_DATA the same
        data; with neither, any attachment matches.  A new attachment has no
        events and first hears of the event after the one in progress.
        """
        return self._call(self._attach, thread, engine, AttachFlags(flags), data)

    @property
    def processes(self) -> list[Process]:
        """The traced processes now: a snapshot taken by the tracer thread ([] once closed)."""
        try:
            return self._call(self._process_list)
        except RuntimeError:  # closed or dead: it traces nothing any more
            return []

    def thread(self, tid: int) -> Thread:
        """The traced thread ``tid`` (KeyError if we do not trace it)."""
        return self._call(self._threads.__getitem__, tid)

    def call(self, fn: Callable, *args: Any) -> Any:
        """Run ``fn(*args)`` on the tracer thread and return (or raise) what it does.

        At once when called from the tracer thread (a callback); otherwise
        queued, the tracer woken, and the caller blocked until it ran,
        between two callbacks.  The tracer thread owns every table that a
        stop changes (threads, processes, trap tables, the /proc/PID/mem
        file): other threads read them through this, never directly
        (docs/architecture.md, "Who owns what").  RuntimeError once the
        tracer is closed.
        """
        return self._call(fn, *args)

    @property
    def in_tracer_thread(self) -> bool:
        """Is the caller the tracer thread (a callback, or code it runs)?"""
        return threading.current_thread() is self._thread

    def _process_list(self) -> list[Process]:
        return list(self._processes.values())

    def close(self, kill: bool = False) -> None:
        """Detach from (or, with ``kill``, kill) every tracee and stop the tracer thread."""
        # Registered at start so that interpreter exit cleans up; once closed,
        # nothing is left to clean and the tracer need not live until exit.
        atexit.unregister(self.close)
        if self._closed or not self._thread.is_alive():
            return
        self._call(self._close, kill)
        if threading.current_thread() is not self._thread:
            self._thread.join()
            self._wait_thread_exit()  # lifecycle hook: a zombie leader is let go then

    def __enter__(self) -> Tracer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- marshalling to the tracer thread ------------------------------------------
    def _call(self, fn: Callable, *args: Any) -> Any:
        if threading.current_thread() is self._thread:  # (an ident may be reused once it died)
            self._epoch += 1  # (a callback asked something: the lane checks again)
            return fn(*args)
        future: Future = Future()
        with self._lock:
            if self._closed or self._stopped:
                raise self._gone_error()
            self._requests.append((fn, args, future))
        self._wake()
        return future.result()

    def _gone_error(self) -> RuntimeError:
        """Why no request can be carried out any more."""
        if self._failure is not None:
            return RuntimeError(f"the tracer thread died: {self._failure!r}")
        return RuntimeError("the tracer is closed")

    def _wake(self) -> None:
        try:
            os.kill(self._waker, WAKE_SIGNAL)
        except ProcessLookupError:
            pass  # the tracer is replacing it; it drains the queue anyway

    def _drain(self) -> None:
        self._epoch += 1
        while self._requests:
            fn, args, future = self._requests.popleft()
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller, who raises it
                future.set_exception(exc)

    # -- the loop --------------------------------------------------------------------
    def _main(self) -> None:
        self._native_id = threading.get_native_id()
        try:
            self._start_waker()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop()
        except BaseException as exc:  # a bug of ours: say so, and fail every caller at once
            self._failure = exc
            log.critical("the tracer thread died; every traced thread is let go by the kernel",
                         exc_info=exc)
        finally:
            self._stop()

    def _stop(self) -> None:
        """The tracer thread is leaving: no request is taken or left waiting after this."""
        with self._lock:
            self._stopped = True
            requests = list(self._requests)
            self._requests.clear()
        for _fn, _args, future in requests:
            future.set_exception(self._gone_error())
        for process in [*self._processes.values(), *self._let_go_children.values()]:
            process._tracer_gone()  # wake whoever waits for it: wait() raises now

    def _loop(self) -> None:
        threads_get = self._threads.get  # (the one table, never replaced: one lookup less a stop)
        while not self._closed:
            if self._requests:
                self._drain()
            if self._closed:
                break
            if self._deferred:
                tid, status = self._deferred.popleft()
                thread = self._threads.get(tid)
                if thread is None or thread.state != State.HELD:
                    continue  # detached or reaped meanwhile
                thread.state = State.RUNNING
            elif self._strays:
                tid, status = self._strays.popleft()
            else:
                try:
                    tid, status = kernel.wait_tracees()
                except ChildProcessError:
                    self._start_waker()
                    continue
            try:
                # A syscall stop: the fast lane, if it may.  (Before the waker's
                # test: the waker, never resumed with PTRACE_SYSCALL, makes none.)
                if status == LANE_STATUS:
                    thread = threads_get(tid)
                    if thread is not None and self._on_syscall_fast(thread):
                        continue
            except BaseException:  # a bug of ours must not stop every tracee
                log.exception("while handling status %#x of thread %d", status, tid)
                continue
            if tid == self._waker:
                self._on_waker(status)
                continue
            try:
                self._epoch += 1
                self._on_status(tid, status)
            except BaseException:  # a bug of ours must not stop every tracee
                log.exception("while handling status %#x of thread %d", status, tid)

    def _start_waker(self) -> None:
        sleep = shutil.which("sleep") or "/bin/sleep"
        self._waker = os.posix_spawn(
            sleep, ["sleep", "2147483647"], os.environ,
            file_actions=[(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)],
            setpgroup=0,
        )
        kernel.seize(self._waker, kernel.PTRACE_O_EXITKILL)

    def _on_waker(self, status: int) -> None:
        if os.WIFSTOPPED(status):
            kernel.cont(self._waker, 0)  # swallow the wake-up signal
        else:
            self._start_waker()  # someone killed it

    def _on_status(self, tid: int, status: int) -> None:
        thread = self._threads.get(tid)
        if thread is None and tid in self._let_go_children and not os.WIFSTOPPED(status):
            # A program we launched and then detached from: we are still its
            # parent, so its exit status is ours to pass on to process.wait().
            self._let_go_children.pop(tid)._finish(status)
            return
        if thread is None:
            # An auto-attached child reporting before its creator's clone event:
            # hold it until the creator's report_clone has run.
            thread = Thread(self, tid, None)
            thread.holds.add(CLONE_HOLD)
            self._threads[tid] = thread
        if os.WIFSTOPPED(status):
            self._on_stop(thread, status)
        else:
            self._on_death(thread, status)

    def _adopt(self, thread: Thread) -> None:
        """A thread of a traced process we learn of without its clone event."""
        process = self._processes.get(procfs.tgid(thread.tid))
        if process is not None:
            thread.process = process
            process.threads[thread.tid] = thread

    def _on_stop(self, thread: Thread, status: int) -> None:
        thread.state = State.STOPPED
        thread.regs = None
        thread.inject = 0
        if thread.lane is not None:  # any stop but a known syscall stop forgets the parity
            thread.lane.next_op = thread.lane.op = 0
        sig = os.WSTOPSIG(status)
        event = kernel.event_of(status)
        thread.jobctl_stop = event == kernel.PTRACE_EVENT_STOP
        if not thread.jobctl_stop and not (event == 0 and sig == signal.SIGTRAP) \
                and thread.process is not None:
            # Proof that it owes no late trap hit (a SIGTRAP may be one: it is
            # looked at first, in _on_signal_stop).
            thread.process.settled(thread.tid)
        if not thread.born:
            thread.born = True
            if event == kernel.PTRACE_EVENT_STOP and sig not in GROUP_STOP_SIGNALS:
                self._on_birth(thread)
                return
            # A first stop carrying a stop signal: born into a stopped group,
            # it is a group-stop (reported, parked with LISTEN), not a birth.
        if sig == SYSCALL_STOP:
            self._on_syscall(thread)
        elif event == 0:
            self._on_signal_stop(thread, sig)
        elif event == kernel.PTRACE_EVENT_STOP:
            self._on_event_stop(thread, sig)
        elif event in CLONE_EVENTS:
            self._on_clone(thread, event)
        elif event == kernel.PTRACE_EVENT_EXEC:
            self._on_exec(thread)
        elif event == kernel.PTRACE_EVENT_EXIT:
            self._on_exit(thread)
        elif event == kernel.PTRACE_EVENT_VFORK_DONE:
            self._on_vfork_done(thread)
        elif event == kernel.PTRACE_EVENT_SECCOMP:
            self._on_seccomp(thread)
        else:
            self._resume(thread)

    # -- reporting ---------------------------------------------------------------------
    def _report(self, thread: Thread, report: Report, event: Event,
                wanted: Event | None = None,
                attachments: Sequence[Attachment] | None = None) -> dispatch.Decision:
        """Run dispatch for ``event`` and record who holds the thread stopped."""
        thread.stop_event = event
        atts = thread.attachments if attachments is None else attachments
        held = any(hold in atts for hold in thread.holds)
        outer, self._reporting = self._reporting, thread
        try:
            decision = dispatch.report(atts, event, report, wanted, self._running.set, held)
        finally:
            self._reporting = outer
        self._record(thread, decision)
        return decision

    def _record(self, thread: Thread, decision: dispatch.Decision) -> None:
        """Carry the engines' decision into the thread: holds, detaches, steps, pending."""
        for att, exc in decision.failed:
            log.error("engine %s raised in a callback on thread %d and was detached: %r",
                      att.engine.display_name(), thread.tid, exc, exc_info=exc)
        for att in decision.detached:
            self._detach_attachment(att)
        for att in decision.stopped:
            thread.holds.add(att)
        for att in decision.released:
            thread.holds.discard(att)
        if thread.quiesce_owed:  # a callback at this stop is the report STOP promised
            thread.quiesce_owed.difference_update(decision.stopped, decision.released)
        if decision.resume in (Resume.SINGLESTEP, Resume.BLOCKSTEP):
            for att in decision.released:
                if att not in thread.steppers:
                    thread.steppers.append(att)
        thread.pending = min(thread.pending, decision.resume)

    def _quiesce_pass(self, thread: Thread, interrupt: bool) -> None:
        """The report a REPORT/INTERRUPT asked for: quiesce, or report_signal(REPORT)."""
        report = Report(self, thread, Event.NONE)
        if interrupt:
            report.signal_action = SignalAction.REPORT
            report.event = Event.SIGNAL
            report.siginfo = kernel.Siginfo.fresh()  # for an artificial signal
            self._report(thread, report, Event.SIGNAL, Event.SIGNAL_ALL)
            self._send_artificial(thread, report.signal_action, report.siginfo)
        else:
            self._report(thread, report, Event.NONE)

    def _send_artificial(self, thread: Thread, action: SignalAction, info: kernel.Siginfo
                         ) -> None:
        """Carry out a signal disposition answered to a report with no signal.

        utrace lets that report "stop or deliver an artificial signal".  We
        can only inject a signal at a signal-delivery stop, and this is not
        one: so the signal is sent with tgkill, and at its delivery stop it
        gets the engine's siginfo and goes on without being reported again.
        TERM/CORE/STOP/TSTP without a signal number use SIGTERM/SIGQUIT/
        SIGSTOP/SIGTSTP; DELIVER/HANDLER deliver ``info.signo`` (if any) to
        the program's own disposition; REPORT/IGN do nothing.
        """
        if action in (SignalAction.REPORT, SignalAction.IGN):
            return
        signo = info.signo or signals.ARTIFICIAL_DEFAULT.get(action, 0)
        if not 0 < signo < signal.NSIG:
            return
        natural = signals.disposition(signo, *signals.read_masks(thread.tid))
        wanted = SignalAction.DELIVER if action == SignalAction.HANDLER else action
        sig = signals.signal_to_inject(wanted, signo, natural)
        if sig == 0:
            return
        if sig != signal.SIGKILL:
            info.signo = sig
            thread.artificial = info
        try:
            kernel.tgkill(thread.process.pid, thread.tid, sig)
        except kernel.NoSuchProcessError:
            thread.artificial = None

    # -- stops -----------------------------------------------------------------------
    def _on_birth(self, thread: Thread) -> None:
        """The first stop of an auto-attached child."""
        if thread.detach_when_stopped:
            self._let_go(thread)
        else:
            self._arm_watchpoints(thread)  # watchpoint hook: a new thread gets the slots
            self._resume(thread)

    def _on_syscall(self, thread: Thread) -> None:
        try:
            info = kernel.get_syscall_info(thread.tid)
        except kernel.NoSuchProcessError:
            return  # killed (a group exit) since it stopped: its exit stop follows
        entry, thread.syscall = thread.syscall, info
        if thread.lane is not None:
            thread.lane.op = info.op  # a plain resume from here lets the lane know the next
        report = Report(self, thread, Event.NONE)
        report.syscall = info
        if info.op == kernel.PTRACE_SYSCALL_INFO_EXIT:
            # The kernel gives an exit stop no number: the entry's, carried over
            # (when we never saw the entry -- attached meanwhile, or the launch's
            # execve -- from the registers where they still hold it, else -1).
            if entry is not None and entry.op != kernel.PTRACE_SYSCALL_INFO_EXIT:
                info.nr, info.args = entry.nr, entry.args
            else:
                nr = thread.arch.syscall_number_at_exit(self._registers(thread))
                info.nr = -1 if nr is None else nr
                if thread.lane is not None:  # (maybe the lane's unread entry: read the next)
                    thread.lane.fetch_entry = True
            if thread.abort_result is not None:
                value, err = thread.abort_result
                thread.abort_result = None
                self._registers(thread)
                thread.arch.set_syscall_result(thread.regs, value, err)
            report.event = Event.SYSCALL_EXIT
            scope = thread.syscall_scope
            self._report(thread, report, Event.SYSCALL_EXIT, attachments=None if scope is None
                         else scope.exit_audience(thread.attachments, info.nr))
        else:
            self._report_syscall_entry(thread, report, at_entry_stop=True)
        self._resume(thread)

    def _report_syscall_entry(self, thread: Thread, report: Report,
                              at_entry_stop: bool = False) -> None:
        report.event = Event.SYSCALL_ENTRY
        report.syscall_action = SyscallAction.RUN
        scope = thread.syscall_scope  # seccomp hook: who hears this call, is its exit wanted
        self._report(thread, report, Event.SYSCALL_ENTRY, attachments=None if scope is None
                     else scope.entry_audience(thread.attachments, report.syscall.nr,
                                               at_entry_stop))
        self._after_entry_report(thread, report)

    def _after_entry_report(self, thread: Thread, report: Report) -> None:
        if report.syscall_action == SyscallAction.ABORT:
            thread.arch.abort_syscall(self._registers(thread))
            if thread.abort_result is None:
                thread.abort_result = (0, errno.ENOSYS)

    # -- the fast lane (docs/architecture.md; the rules: lane.py, the data: syscall_stop.py) --
    def _on_syscall_fast(self, thread: Thread) -> bool:
        """A syscall stop in the common case, in as few steps as Python allows.

        False (nothing done) when the lane cannot serve this stop: then
        _on_status takes it the general way.  The lane serves a born thread
        of a known process that nobody holds, owes no quiesce, has nothing
        pending (no step, no REPORT, no abort result, no trap to step over,
        no group stop, no seccomp scope) and whose engines do not want QUIESCE.
        """
        lane_state = thread.lane
        epoch = self._epoch
        if lane_state is None or lane_state.epoch != epoch:
            # Something ran in the tracer since the lane resumed this thread
            # plainly (or it never did): check everything.
            lane_state = self._lane_serves(thread)
            if lane_state is None:
                return False
            if thread.syscall_scope is not None:  # seccomp: who hears a call depends on it
                return self._on_filtered_exit_fast(thread, lane_state.plan)
        # (Else nothing ran since: every condition checked then still holds.
        # Every way out below but the plain resume sets lane_state.epoch to -1.)
        plan = lane_state.plan
        op, lane_state.next_op = lane_state.next_op, 0
        tid = thread.tid
        thread.state = _STOPPED
        info = None
        try:
            if not op:
                info = kernel.SyscallInfo.from_raw(kernel.fetch_syscall_info(tid))
                op = info.op
            if op == _INFO_ENTRY:
                event = _SYSCALL_ENTRY
                if info is None and lane_state.fetch_entry and plan.wants_exit:
                    info = kernel.SyscallInfo.from_raw(kernel.fetch_syscall_info(tid))
                entry = thread.syscall = info  # None: fetched only if an engine reads it
            elif op == _INFO_EXIT and (info is None or thread.syscall is not None
                                       and thread.syscall.op != _INFO_EXIT):
                # (info None: the op is known from the entry we resumed; that
                # entry's info may be unread, and then the exit's registers have it)
                event = _SYSCALL_EXIT
                entry = thread.syscall
                if info is not None:
                    info.nr, info.args = entry.nr, entry.args
                lane_state.fetch_entry = lane_state.fetch_always  # until an exit reads it
            else:  # an exit whose entry we did not see, a seccomp stop: the general way
                lane_state.op = 0
                lane_state.epoch = -1
                self._on_syscall(thread)
                return True
        except kernel.NoSuchProcessError:
            lane_state.epoch = -1
            return True  # killed (a group exit) since it stopped: its exit stop follows
        report = lane_state.report
        if report is None:
            report = lane_state.report = SyscallReport(self, thread, event, info, entry)
        else:  # nobody kept the last one (see below), nobody wrote its odd fields
            report.renew(event, info, entry)
        if event is _SYSCALL_ENTRY:
            report.syscall_action = _RUN
            calls = plan.entry
        else:
            calls = plan.exit
        thread.stop_event = event
        self._reporting = thread
        try:
            decision = lane.run(plan, calls, event, report, self._running)
        finally:
            self._reporting = None
        if decision is not None or report.syscall_action is _ABORT \
                or _getrefcount(report) > 3:
            # Left the lane (or an engine kept the report): from here on the
            # general path, with the syscall info read while still at this stop.
            if _getrefcount(report) > 3:
                lane_state.report = None  # kept: the next stop gets a new one
            lane_state.op = op  # (for _continue: a plain resume from here knows the next)
            lane_state.epoch = -1
            try:
                info = report.syscall
            except kernel.NoSuchProcessError:
                return True
            if event is _SYSCALL_EXIT:
                thread.syscall = info
            if decision is not None:
                self._record(thread, decision)
            if event is _SYSCALL_ENTRY:
                self._after_entry_report(thread, report)
            self._resume(thread)
            return True
        if event is _SYSCALL_EXIT:
            thread.syscall = None  # (an exit is never the entry of the next stop)
        if self._epoch != epoch and (  # a callback called into the tracer: what did it ask?
                thread.holds or thread.pending is not _RESUME or thread.regs is not None
                or thread.steppers or thread.abort_result is not None
                or thread.quiesce_owed or not thread.syscall_watchers):
            # A callback asked for more than a plain resume: the general way,
            # which wants an entry's info in thread.syscall.
            lane_state.op = op
            lane_state.epoch = -1
            if event is _SYSCALL_ENTRY and thread.syscall is None:
                try:
                    report.syscall  # noqa: B018 (read: sets thread.syscall)
                except kernel.NoSuchProcessError:
                    return True
            self._resume(thread)
            return True
        try:
            kernel.resume_syscall(tid)
            lane_state.next_op = _NEXT_OP[op]
            # (If a callback called into the tracer, the count has moved on
            # since ``epoch``: the next stop checks everything.)
            lane_state.epoch = epoch
        except kernel.NoSuchProcessError:
            lane_state.epoch = -1  # killed while stopped: its death report follows
        thread.state = _RUNNING
        return True

    def _lane_serves(self, thread: Thread) -> lane.LaneState | None:
        """Can the lane take this syscall stop?  Its LaneState if so, after the
        bookkeeping of any stop; None (nothing done) if not."""
        lane_state = thread.lane
        if lane_state is None:
            if thread.process is None:
                return None
            lane_state = thread.lane = lane.LaneState(thread.arch.keeps_syscall_at_exit)
        plan = lane_state.plan
        if plan is None:
            plan = lane_state.plan = lane.Plan(thread.attachments)
        if not plan.usable or thread.holds or thread.quiesce_owed or thread.steppers \
                or thread.pending is not _RESUME or thread.abort_result is not None \
                or thread.at_trap is not None or thread.group_stopped or not thread.born \
                or thread.release_at_exit is not None or thread.process is None:
            return None
        thread.regs = None
        thread.inject = 0
        thread.jobctl_stop = False
        thread.process.settled(thread.tid)
        return lane_state

    def _on_signal_stop(self, thread: Thread, sig: int) -> None:
        try:
            info = kernel.get_siginfo(thread.tid)
        except kernel.NoSuchProcessError:
            return  # killed meanwhile: its death follows
        artificial = thread.artificial
        if artificial is not None and sig == artificial.signo \
                and info.code == kernel.SI_TKILL and info.pid == os.getpid():
            thread.artificial = None  # ours, already decided: deliver it as the engine set it
            if bytes(artificial.raw) != bytes(info.raw):
                kernel.set_siginfo(thread.tid, artificial)
            thread.inject = sig
            self._resume(thread)
            return
        if sig == signal.SIGTRAP and self._on_late_trap_hit(thread, info):
            return  # a hit of a trap removed since: rewound, resumed, nobody told
        if (sig == signal.SIGTRAP and info.code in (watchpoints.TRAP_HWBKPT, watchpoints.TRAP_TRACE)
                and self._report_watchpoints(thread) and not thread.stepping):
            self._resume(thread)  # watchpoint hook: a debug-register hit, reported
            return
        if sig == signal.SIGTRAP and thread.stepping and kernel.sent_by_kernel(info.code) \
                and not self._stepped_into_trap(thread, info):  # a hit, not a step: below
            thread.stepping = False
            self._on_step(thread)
            return
        thread.stepping = False
        if sig == signal.SIGTRAP and info.code == thread.arch.breakpoint_si_code \
                and thread.process.has_traps():  # (a step's TRAP_TRACE is never a hit)
            address = self._registers(thread).pc - thread.arch.breakpoint_pc_offset
            trap = thread.process.breakpoints.trap_at(address)
            if trap is not None:
                self._on_trap(thread, address, trap)
                return
        natural = signals.disposition(sig, *signals.read_masks(thread.tid))
        event = signals.EVENT_OF_ACTION.get(natural, Event.SIGNAL)
        report = Report(self, thread, event)
        report.siginfo = info
        report.signal_action = natural
        original = bytes(info.raw)
        decision = self._report(thread, report, event)
        signo = report.siginfo.signo
        if bytes(report.siginfo.raw) != original:
            kernel.set_siginfo(thread.tid, report.siginfo)
        if decision.hold:
            thread.inject = 0
            self._resume(thread)
            if thread.state == State.RUNNING:
                kernel.tgkill(thread.process.pid, thread.tid, signo)
            return
        thread.inject = signals.signal_to_inject(report.signal_action, signo, natural)
        self._resume(thread)

    def _on_step(self, thread: Thread) -> None:
        if thread.process.has_traps():
            pc = self._registers(thread).pc
            if thread.process.breakpoints.trap_at(pc) is not None:
                # Stepped onto a trap it has not executed: resuming must step over
                # it (else the next single step runs int3 and "ends" one byte on).
                thread.at_trap = pc
        steppers = [att for att in thread.steppers if not att.detached]
        thread.steppers = []
        report = Report(self, thread, Event.STEP)
        self._report(thread, report, Event.STEP, attachments=steppers)
        self._resume(thread)

    def _on_event_stop(self, thread: Thread, sig: int) -> None:
        if sig in GROUP_STOP_SIGNALS:
            # Under PTRACE_SEIZE a group-stop is an EVENT_STOP carrying the
            # stopping signal; traps (interrupt, listen notify) carry SIGTRAP.
            self._on_group_stop(thread)
            return
        if thread.group_stopped:
            # A PTRACE_LISTEN tracee trapped: the group continued (SIGCONT).
            thread.group_stopped = False
            report = Report(self, thread, Event.JCTL)
            report.jctl = JobControl.CONTINUED
            self._report(thread, report, Event.JCTL)
        interrupt = thread.interrupt_report
        thread.interrupt_report = False
        if interrupt:
            self._quiesce_pass(thread, interrupt=True)
        elif thread.holds or thread.pending <= Resume.REPORT:
            self._quiesce_pass(thread, interrupt=False)
        self._resume(thread)

    def _on_group_stop(self, thread: Thread) -> None:
        first = not thread.group_stopped
        thread.group_stopped = True
        interrupt = thread.interrupt_report
        thread.interrupt_report = False
        if first:
            report = Report(self, thread, Event.JCTL)
            report.jctl = JobControl.STOPPED
            self._report(thread, report, Event.JCTL)
        if interrupt or thread.holds:  # an interrupt or STOP asked while it was stopping
            self._quiesce_pass(thread, interrupt)
        self._resume(thread)

    def _on_clone(self, parent: Thread, event: int) -> None:
        child_tid = kernel.get_event_msg(parent.tid)
        kind = CLONE_EVENTS[event]
        child = self._threads.get(child_tid)
        if child is None:
            child = Thread(self, child_tid, None)
            self._threads[child_tid] = child
        child.holds.add(CLONE_HOLD)
        if kind == "clone" and procfs.tgid(child_tid) == parent.process.pid:
            kind = "thread"
        if kind == "thread":
            child.process = parent.process
        else:
            child.process = Process(self, child_tid, is_child=False)
            child.process.syscall_filter = parent.process.syscall_filter  # fork keeps a filter
            self._processes[child_tid] = child.process
        child.process.threads[child_tid] = child
        if kind == "vfork":
            self._on_vfork(parent, child_tid)  # trap hook: the child borrows the memory
        report = Report(self, parent, Event.CLONE)
        report.child = child
        report.clone_kind = kind
        self._report(parent, report, Event.CLONE)
        if kind == "vfork" and parent.pending == Resume.REPORT:
            # utrace reports a REPORT asked at a vfork once the parent leaves
            # its vfork wait: here, at PTRACE_EVENT_VFORK_DONE.
            parent.pending = Resume.RESUME
            parent.report_at_vfork_done = True
        child.holds.discard(CLONE_HOLD)
        if kind in ("fork", "clone") and parent.process.has_traps_to_inherit() \
                and not _same_memory(parent.tid, child_tid):
            # (A clone(CLONE_VM) child shares the traps: writing the originals
            # into it would take them from the parent too.)
            self._inherit_traps(parent.process, child)
        if kind != "thread" and not child.attachments and child.process.syscall_filter is None:
            # (A child with a seccomp filter stays traced, cheaply: untraced, its
            # filtered calls would fail with ENOSYS.)
            self._forget_process(child.process)
        elif child.born and child.state == State.STOPPED:
            self._arm_watchpoints(child)  # watchpoint hook: born before this report
            self._resume(child)
        self._resume(parent)

    def _forget_process(self, process: Process) -> None:
        """No engine wants this new process: let it run untraced."""
        self._processes.pop(process.pid, None)
        for thread in list(process.threads.values()):
            if thread.born and thread.state == State.STOPPED:
                self._let_go(thread)
            else:
                thread.detach_when_stopped = True

    def _on_exec(self, thread: Thread) -> None:
        old_tid = kernel.get_event_msg(thread.tid)
        process = thread.process
        if old_tid != thread.tid and old_tid in self._threads:
            # A non-leader thread called execve and took over the leader's tid:
            # the old leader is gone now (the kernel reports no death for it).
            execer = self._threads.pop(old_tid)
            if not thread.death_reported:
                self._report_death(thread, 0, superseded_by=old_tid)
            self._reap_silently(thread)
            execer.tid = thread.tid
            execer.state, execer.born = State.STOPPED, True
            self._threads[thread.tid] = execer
            process.threads.pop(old_tid, None)
            process.threads[thread.tid] = execer
            thread = execer
        process.exec_happened()  # the old address space, and our traps in it, are gone
        watchpoints.exec_happened(process)  # watchpoint hook: exec cleared the registers
        report = Report(self, thread, Event.EXEC)
        report.old_tid = old_tid
        self._report(thread, report, Event.EXEC)
        self._resume(thread)

    def _on_exit(self, thread: Thread) -> None:
        if CLONE_HOLD in thread.holds:
            # Killed (a group exit) before its creator reported the clone: the
            # creator, killed too, may never report it.  Nothing to hold it for.
            thread.holds.discard(CLONE_HOLD)
            self._adopt(thread)
        report = Report(self, thread, Event.EXIT)
        try:
            report.exit_code = kernel.get_event_msg(thread.tid)
        except kernel.NoSuchProcessError:
            return
        self._report(thread, report, Event.EXIT)
        code = report.exit_code
        if os.WIFSIGNALED(code) and os.WTERMSIG(code) == signal.SIGKILL:
            thread.holds.clear()  # SIGKILL always wins: no engine may hold it here
        process = thread.process
        if process is not None and process.host_child and thread.tid == process.pid:
            # The host program's own child: our wait4 would reap its zombie (we
            # are in the real parent's thread group).  Let it go here instead,
            # so that the host's wait() gets its status.
            thread.release_at_exit = code
        thread.exited = True  # from here on a leader may be a zombie (never wait for it)
        self._resume(thread)

    def _release_at_exit(self, thread: Thread) -> None:
        """Detach a host child's leader from its exit stop; it is dead to us from here."""
        process = thread.process
        try:
            kernel.detach(thread.tid, 0)
        except kernel.NoSuchProcessError:
            pass
        others_live = any(t.alive for t in process.threads.values() if t is not thread)
        self._report_death(thread, thread.release_at_exit, group_dead=not others_live)
        self._reap_silently(thread)
        process.leader_released = True
        if not process.threads:
            self._processes.pop(process.pid, None)
            process._finish(thread.release_at_exit)

    def _on_death(self, thread: Thread, status: int) -> None:
        process = thread.process
        self._report_death(thread, status)
        self._reap_silently(thread)
        if process is not None and (thread.tid == process.pid
                                    or (process.leader_released and not process.threads)):
            self._processes.pop(process.pid, None)
            process._finish(status)

    def _report_death(self, thread: Thread, status: int, superseded_by: int | None = None,
                      group_dead: bool | None = None) -> None:
        """DEATH then REAP, once per thread; ``superseded_by``: the tid whose execve ended it."""
        process = thread.process
        thread.state = State.DEAD
        thread.death_reported = True
        thread.holds.clear()
        if process is None:
            return
        if group_dead is None:
            group_dead = superseded_by is None and (thread.tid == process.pid or all(
                not t.alive for t in process.threads.values()))
        report = Report(self, thread, Event.DEATH)
        report.exit_code = status
        report.group_dead = group_dead
        report.old_tid = superseded_by
        self._report(thread, report, Event.DEATH)
        self._report(thread, Report(self, thread, Event.REAP), Event.REAP)

    def _reap_silently(self, thread: Thread) -> None:
        for att in list(thread.attachments):
            self._detach_attachment(att)
        thread.state = State.GONE
        if thread.process is not None:
            thread.process.settled(thread.tid)  # gone: it owes no late trap hit
        if self._threads.get(thread.tid) is thread:
            del self._threads[thread.tid]
        if thread.process is not None and thread.process.threads.get(thread.tid) is thread:
            del thread.process.threads[thread.tid]

    # -- resuming --------------------------------------------------------------------
    def _resume(self, thread: Thread) -> None:
        """Let the thread go on if nobody holds it, in the cheapest way that serves all."""
        if thread.state != State.STOPPED or thread is self._reporting:
            # (Asked by control() from a callback of this thread's report: the
            # report's own end resumes it, with every engine's answer combined.)
            return
        if thread.quiesce_owed:
            self._quiesce_owed(thread)
        if thread.holds:
            return
        if thread.pending <= Resume.REPORT:
            interrupt = thread.pending == Resume.INTERRUPT
            thread.pending = Resume.RESUME
            if thread.stop_event == Event.SYSCALL_ENTRY and thread.syscall is not None:
                report = Report(self, thread, Event.SYSCALL_ENTRY)
                report.syscall = thread.syscall
                report.resumed = True
                self._report_syscall_entry(thread, report)
            else:
                self._quiesce_pass(thread, interrupt)
            if thread.holds:
                return
            if thread.pending <= Resume.REPORT:  # asked again: report once it has run
                thread.interrupt_report = thread.pending == Resume.INTERRUPT
                thread.pending = Resume.RESUME
                self._continue(thread)
                self._interrupt(thread)
                return
        self._continue(thread)

    def _quiesce_owed(self, thread: Thread) -> None:
        """The report_quiesce that control(STOP)'s InProgressError promised.

        Most stops report an event, and its callbacks pay the debt (see _report).
        The stops that report nothing (a new thread's first stop, VFORK_DONE, a
        thread released after another's step-over) pay it here, to exactly the
        engines still owed: the others are not told of a stop twice.
        """
        owed = [att for att in thread.attachments if att in thread.quiesce_owed]
        thread.quiesce_owed.clear()
        if owed:
            self._report(thread, Report(self, thread, Event.NONE), Event.NONE,
                         attachments=owed)

    def _continue(self, thread: Thread) -> None:
        if thread.release_at_exit is not None:
            self._release_at_exit(thread)
            return
        action = thread.pending
        thread.pending = Resume.RESUME
        try:
            step = bool(thread.steppers) or action in (Resume.SINGLESTEP, Resume.BLOCKSTEP)
            if thread.group_stopped and thread.jobctl_stop:
                # Parked in the group stop, even on a trap: a step-over is no
                # way out of a group stop (and its stop is not one).  The
                # step-over (at_trap is kept) comes when the group continues.
                # Only from a PTRACE_EVENT_STOP: the kernel refuses LISTEN (EIO)
                # at any other stop (its exit stop: it is out of the group stop).
                self._flush_registers(thread)
                try:
                    kernel.listen(thread.tid)
                except kernel.InvalidRequestError:
                    # EIO: it left that stop meanwhile -- killed (a group exit) while
                    # held: its exit stop waits for us, and decides.
                    thread.state = State.RUNNING
                    return
                thread.state = State.LISTENING
                return
            if thread.at_trap is not None and self._still_on_trap(thread):
                self._step_over(thread, step)
                return
            soft = step and self._plant_software_step(thread)
            self._flush_registers(thread)
            sig, thread.inject = thread.inject, 0
            if step and not soft:
                thread.stepping = True
                kernel.singlestep(thread.tid, sig)
            elif thread.abort_result is not None or self._wants_syscalls(thread):
                kernel.cont_syscall(thread.tid, sig)
                lane_state = thread.lane
                if lane_state is not None and not sig:
                    lane_state.next_op = NEXT_OP.get(lane_state.op, 0)
            else:
                kernel.cont(thread.tid, sig)
        except kernel.NoSuchProcessError:
            pass  # killed while stopped: its death report follows
        thread.state = State.RUNNING

    def _flush_registers(self, thread: Thread) -> None:
        """Write back what engines (or a rewind) changed; the next stop reads afresh."""
        regs = thread.regs
        if regs is not None and (regs.changed or regs.extra_changed):
            self._write_registers(thread, regs)
        thread.regs = None

    def _write_registers(self, thread: Thread, regs: Any) -> None:
        """Write back what engines changed; a value the kernel refuses is dropped.

        The kernel vets register writes (x86_64 refuses a bogus CS with EIO).
        The engine that wrote it has returned long ago, so the refusal is logged
        and the thread goes on with its registers as they were.
        """
        try:
            if regs.changed:
                kernel.set_regset(thread.tid, kernel.NT_PRSTATUS, regs.raw)
            for note in regs.extra_changed:
                kernel.set_regset(thread.tid, note, regs.extra[note])
        except kernel.InvalidRequestError as exc:
            log.error("thread %d: the kernel refused the registers engines wrote (%s); "
                      "they are dropped", thread.tid, exc.strerror)

    @staticmethod
    def _wants_syscalls(thread: Thread) -> bool:
        scope = thread.syscall_scope  # seccomp hook: a filter may spare the stops
        if scope is None:
            return thread.syscall_watchers > 0
        return scope.wants_stops(thread.syscall_watchers)

    @staticmethod
    def _count_syscall_watchers(thread: Thread) -> None:
        """Recount who wants syscall stops; replan the lane (set_events, detach: not per stop)."""
        bits = int(Event.SYSCALL)
        thread.syscall_watchers = sum(1 for att in thread.attachments
                                      if int(att.events) & bits)
        thread.syscall_scope = seccomp.scope_of(thread)
        if thread.lane is not None:
            thread.lane.replan()

    def _interrupt(self, thread: Thread) -> None:
        # Sent even if one is pending: the kernel keeps one trap flag, so a
        # second request costs nothing (and nothing here waits for the trap:
        # whatever stop comes next is handled as it comes).
        if thread.state not in (State.RUNNING, State.LISTENING):
            return
        try:
            kernel.interrupt(thread.tid)
        except kernel.NoSuchProcessError:
            pass

    def _registers(self, thread: Thread) -> Any:
        if thread.state != State.STOPPED:
            raise NotStoppedError(f"thread {thread.tid} is not stopped")
        if thread.regs is None:
            arch = thread.arch
            tid = thread.tid
            raw = kernel.get_regset(tid, kernel.NT_PRSTATUS, arch.regset_size)
            thread.regs = arch.registers(
                raw, lambda note, size: kernel.get_regset(tid, note, size))
        return thread.regs

    # -- control (tracer thread) --------------------------------------------------------
    def _attach(self, thread: Thread, engine: Engine | None, flags: AttachFlags,
                data: Any) -> Attachment:
        matches = [
            att for att in thread.attachments
            if not att.detached
            and (not flags & AttachFlags.MATCH_OPS or att.engine is engine)
            and (not flags & AttachFlags.MATCH_DATA or att.data == data)
        ]
        if not flags & AttachFlags.CREATE:
            if not matches:
                raise NotFoundError(f"no matching engine on thread {thread.tid}")
            return matches[0]
        if flags & AttachFlags.EXCLUSIVE and matches:
            raise ExistsError(f"a matching engine is already attached to thread {thread.tid}")
        if not thread.alive:
            raise NoSuchThreadError(f"thread {thread.tid} is dead")
        if engine is None:
            raise InvalidError("attach with CREATE needs an engine")
        att = Attachment(self, thread, engine, data)
        thread.attachments.append(att)
        if thread.lane is not None:
            thread.lane.replan()
        return att

    def _set_events(self, att: Attachment, events: Event) -> None:
        thread = att.thread
        if att.detached:
            raise NoSuchThreadError(f"engine is detached from thread {thread.tid}")
        lifecycle = Event.DEATH | Event.QUIESCE
        if thread.death_reported and (events ^ att.events) & lifecycle:
            raise AlreadyError(f"thread {thread.tid} is already dying")
        if self._running.current is att and att.events & ~events:
            raise InProgressError("cannot clear events while this engine's callback runs")
        had_syscalls = self._wants_syscalls(thread)
        att.events = events
        self._count_syscall_watchers(thread)
        if thread.state == State.RUNNING and had_syscalls != self._wants_syscalls(thread):
            self._interrupt(thread)  # re-resume it with or without syscall stops

    def _control(self, att: Attachment, action: Resume) -> None:
        thread = att.thread
        if att.detached:
            raise NoSuchThreadError(f"engine is detached from thread {thread.tid}")
        if not thread.alive:
            if action == Resume.DETACH:
                if thread.death_reported:
                    raise AlreadyError(f"thread {thread.tid}: death report began")
                self._detach_attachment(att)
                return
            raise NoSuchThreadError(f"thread {thread.tid} is dead")
        if action == Resume.DETACH:
            self._detach_attachment(att)
            self._resume(thread)
            return
        if thread.exited and thread.state == State.RUNNING:  # utrace: -ESRCH for exit_state
            raise NoSuchThreadError(f"thread {thread.tid} has exited (a zombie until reaped)")
        if action in (Resume.REPORT, Resume.SINGLESTEP, Resume.BLOCKSTEP) \
                and not att.events & Event.QUIESCE:
            raise InvalidError(f"{action.name} needs Event.QUIESCE in the engine's events")
        if action in (Resume.SINGLESTEP, Resume.BLOCKSTEP) and not thread.arch.has_singlestep:
            raise NotSupportedError(f"{thread.arch.name} has no single-step")
        if action == Resume.STOP:
            thread.holds.add(att)
            if thread.state != State.STOPPED:
                thread.quiesce_owed.add(att)
                self._interrupt(thread)
                raise InProgressError(f"thread {thread.tid} stops at its next safe point")
            return
        if action == Resume.INTERRUPT and thread.state != State.STOPPED:
            thread.interrupt_report = True
            self._interrupt(thread)
            return
        thread.holds.discard(att)
        if action in (Resume.SINGLESTEP, Resume.BLOCKSTEP) and att not in thread.steppers:
            thread.steppers.append(att)
        thread.pending = min(thread.pending, action)
        if action == Resume.REPORT and thread.state != State.STOPPED:
            self._interrupt(thread)
            return
        self._resume(thread)

    def _set_syscall_result(self, thread: Thread, value: int, err: int | None) -> None:
        if thread.stop_event == Event.SYSCALL_EXIT:
            thread.arch.set_syscall_result(self._registers(thread), value, err)
        else:
            thread.abort_result = (value, err)

    def _barrier(self, att: Attachment) -> None:
        # Requests run between callbacks, so none of att's is running now.
        if att.detached and att not in att.thread.attachments:
            raise NoSuchThreadError(f"engine is detached from thread {att.thread.tid}")

    def _examine(self, att: Attachment) -> Any:
        thread = att.thread
        if att.detached or not thread.alive:
            raise NoSuchThreadError(f"thread {thread.tid} is gone or the engine detached")
        if self._running.current is not att and att not in thread.holds:
            raise NotStoppedError(
                f"thread {thread.tid} is not held stopped by {att.engine.display_name()}")
        return self._registers(thread)

    def _detach_attachment(self, att: Attachment) -> None:
        att.detached = True
        thread = att.thread
        if att in thread.attachments:
            thread.attachments.remove(att)
            self._count_syscall_watchers(thread)
        thread.holds.discard(att)
        thread.quiesce_owed.discard(att)
        if att in thread.steppers:
            thread.steppers.remove(att)
        self._drop_engine_traps(att)  # breakpoint/watchpoint hook: its traps go with it

    def _start(self, process: Process) -> None:
        thread = process.main_thread
        thread.holds.discard(LAUNCH_HOLD)
        self._resume(thread)
