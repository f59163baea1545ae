"""The tracer's facade: ``Tracer``, the public API on top of the tracer's parts.

The tracer is the one thread that owns ptrace for every traced thread.  It
is built of parts, each in its own module of this package and each
knowing the others only through :mod:`.ports`:

* :mod:`.loop` -- the thread's loop, its request queue and its waker;
* :mod:`.fastlane` -- a plain syscall stop in the common case;
* :mod:`.stops` -- one handler per kind of stop, deaths and reaping;
* :mod:`.report` -- dispatch run for a stop, its decision recorded;
* :mod:`.resume` -- the one resumer (and register I/O);
* :mod:`.holding` -- holding a process's other threads, waiting for some;
* :mod:`.traps` -- our software traps: hits, step-overs, software steps;
* :mod:`.lifecycle` -- launch, attach, detach, close;
* :mod:`.control` -- the engine API's requests;
* :mod:`.tables` -- the thread and process tables;
* :class:`pydbg_utrace.seccomp.SeccompStops` -- seccomp stops and the lane for
  filtered calls (in seccomp.py, beside the filter it serves).

The services (breakpoints, watchpoints) are built here too and handed to
the parts as :class:`pydbg_utrace.hooks.Hooks` -- and the breakpoint
service, to the parts that lift and step over our traps, as
:class:`.ports.TrapTables` -- so that no part names one.
Every public method may be called from any thread; what the tracer thread
owns is reached through :meth:`Tracer.call` (docs/architecture.md).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .. import seccomp
from ..breakpoints import Breakpoint, BreakpointService
from ..engine import Attachment, Engine, Report
from ..events import AttachFlags, Event, Resume
from ..hooks import Hooks
from ..lifecycle import LaunchPlan, prepare_launch
from ..process import Process, State, Thread
from ..watchpoints import Watchpoint, WatchpointService
from .control import Control
from .fastlane import FastLane
from .holding import Holding
from .lifecycle import Lifecycle
from .loop import Loop
from .report import Reporter
from .resume import Resumer
from .stops import Stops
from .tables import Tables
from .traps import Traps


class Tracer:
    """The multiplexer: owns ptrace for every traced thread, shared by many engines."""

    def __init__(self) -> None:
        tables = self._tables = Tables()
        self._loop = loop = Loop(tables)
        # What the API objects (Thread, Process, Attachment, Report) hold instead of us.
        self._api = api = Requests(loop)
        reporter = Reporter(api)
        port = _ServiceSide(tables, reporter, api)
        breakpoints = BreakpointService(port)
        watchpoints = WatchpointService(port)
        hooks = Hooks([breakpoints, watchpoints])
        resumer = Resumer(api, reporter.reporting)
        holding = Holding(tables)
        stops = Stops(api, tables, hooks, breakpoints)
        fast = FastLane(api, reporter.running, reporter.reporting)
        seccomp_stops = seccomp.SeccompStops(api, reporter.running, reporter.reporting)
        traps = Traps(hooks, breakpoints)
        self._lifecycle = lifecycle = Lifecycle(api, tables, hooks, breakpoints)
        self._controller = control = Control(api, tables, hooks, reporter.running)
        loop.connect(stops, fast)
        reporter.connect(control)
        resumer.connect(reporter, stops, traps)
        holding.connect(resumer, loop)
        stops.connect(reporter, resumer, traps, lifecycle, control, seccomp_stops)
        fast.connect(reporter, resumer, stops, seccomp_stops)
        seccomp_stops.connect(reporter, resumer, stops)
        traps.connect(resumer, holding, stops, tables)
        lifecycle.connect(loop, holding, resumer, stops, seccomp_stops)
        control.connect(resumer)
        port.connect(holding, resumer)
        api.connect(fast, resumer, control, seccomp_stops, lifecycle, breakpoints, watchpoints)
        loop.start(self._main)
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
        return self._api.call(self._lifecycle.launch, plan, kill_on_exit)

    def attach_process(self, pid: int) -> Process:
        """Trace every thread of a running process; it goes on running."""
        return self._api.call(self._lifecycle.attach_noting_parent, pid)

    def attach(self, thread: Thread, engine: Engine | None = None,
               flags: AttachFlags = AttachFlags.CREATE, data: Any = None) -> Attachment:
        """utrace_attach_task: find or create ``engine``'s attachment to ``thread``.

        With CREATE a new attachment is made (EXCLUSIVE: fails with ExistsError
        if one matches); without it, the first match is returned (NotFoundError
        if none).  MATCH_OPS matches the same engine object, MATCH_DATA the same
        data; with neither, any attachment matches.  A new attachment has no
        events and first hears of the event after the one in progress.
        """
        return self._api.attach(thread, engine, flags, data)

    @property
    def processes(self) -> list[Process]:
        """The traced processes now: a snapshot taken by the tracer thread ([] once closed)."""
        try:
            return self._api.call(self._tables.process_list)
        except RuntimeError:  # closed or dead: it traces nothing any more
            return []

    def thread(self, tid: int) -> Thread:
        """The traced thread ``tid`` (KeyError if we do not trace it)."""
        return self._api.call(self._tables.threads.__getitem__, tid)

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
        return self._api.call(fn, *args)

    @property
    def in_tracer_thread(self) -> bool:
        """Is the caller the tracer thread (a callback, or code it runs)?"""
        return threading.current_thread() is self._loop.thread

    def close(self, kill: bool = False) -> None:
        """Detach from (or, with ``kill``, kill) every tracee and stop the tracer thread."""
        # Registered at start so that interpreter exit cleans up; once closed,
        # nothing is left to clean and the tracer need not live until exit.
        atexit.unregister(self.close)
        thread = self._loop.thread
        if not (self._loop.closed or self._loop.stopped) and thread.is_alive():
            self._api.call(self._lifecycle.close, kill)
        if threading.current_thread() is not thread:  # (else it ends as the callback returns)
            thread.join()
            self._loop.wait_exited()  # a dead tracer thread's tracees too, when it has ended

    def __enter__(self) -> Tracer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the tracer thread's body (bench/engines.py profiles it by wrapping this) --------
    def _main(self) -> None:
        self._loop.main()

    # -- for tests and bench tools ---------------------------------------------------------
    def _call(self, fn: Callable, *args: Any) -> Any:
        return self._api.call(fn, *args)

    def _launch(self, plan: LaunchPlan, kill_on_exit: bool) -> Process:
        return self._lifecycle.launch(plan, kill_on_exit)

    @property
    def _waker(self) -> int:
        return self._loop.waker

    @property
    def _thread(self) -> threading.Thread:
        return self._loop.thread

    @staticmethod
    def _wants_syscalls(thread: Thread) -> bool:
        return Resumer.wants_syscalls(thread)


class Requests:
    """The handles the API objects hold instead of the tracer (seams.TracerSide for
    Attachment and Report, seams.ProcessHandle for Thread and Process).

    Each request goes to the part that carries it out, on the tracer thread:
    :meth:`call` marshals it there from any other thread.
    """

    def __init__(self, loop: Loop) -> None:
        self.loop = loop

    def connect(self, fast: FastLane, resumer: Resumer, control: Control,
                seccomp_stops: seccomp.SeccompStops, lifecycle: Lifecycle,
                breakpoints: BreakpointService, watchpoints: WatchpointService) -> None:
        self.fast = fast
        self.resumer = resumer
        self.control_part = control
        self.seccomp = seccomp_stops
        self.lifecycle = lifecycle
        self.breakpoints = breakpoints
        self.watchpoints = watchpoints

    def call(self, fn: Callable, *args: Any) -> Any:
        """``fn(*args)`` on the tracer thread (see :meth:`Tracer.call`)."""
        # (The thread object, not its ident: an ident may be reused once it died.)
        if threading.current_thread() is self.loop.thread:
            self.fast.something_ran()  # (a callback asked something: the lane checks again)
            return fn(*args)
        future = self.loop.submit(fn, args)
        self.loop.wake()
        return future.result()

    def gone_error(self) -> RuntimeError | None:
        return self.loop.gone_error() if self.loop.stopped else None

    # -- Report's (from its callback, on the tracer thread) --------------------------------
    def registers(self, thread: Thread) -> Any:
        # (Report.regs, from a callback: the thread's registers are read -- and
        # maybe written -- outside the lane's knowledge; like any call into the
        # tracer, the lane must look again: write them back, read afresh.)
        self.fast.something_ran()
        return self.resumer.registers(thread)

    def set_syscall_result(self, thread: Thread, value: int, err: int | None) -> None:
        self.fast.something_ran()  # (an abort's result, or registers: see registers)
        self.control_part.set_syscall_result(thread, value, err)

    # -- Attachment's -------------------------------------------------------------------
    def set_events(self, att: Attachment, events: Event) -> None:
        self.call(self.control_part.set_events, att, events)

    def set_syscall_filter(self, att: Attachment, numbers: frozenset[int] | None) -> None:
        self.call(self.seccomp.set_syscall_filter, att, numbers)

    def control(self, att: Attachment, action: Resume) -> None:
        self.call(self.control_part.control, att, action)

    def barrier(self, att: Attachment) -> None:
        self.call(self.control_part.barrier, att)

    def examine(self, att: Attachment) -> Any:
        return self.call(self.control_part.examine, att)

    def insert_breakpoint(self, att: Attachment, address: int, condition: Any,
                          oneshot: bool) -> Breakpoint:
        return self.call(self.breakpoints.insert, att, address, condition, oneshot)

    def remove_breakpoint(self, bp: Breakpoint) -> None:
        self.call(self.breakpoints.remove, bp)

    def insert_watchpoint(self, att: Attachment, address: int, size: int,
                          access: str) -> Watchpoint:
        return self.call(self.watchpoints.insert, att, address, size, access)

    def remove_watchpoint(self, wp: Watchpoint) -> None:
        self.call(self.watchpoints.remove, wp)

    # -- Thread's and Process's ---------------------------------------------------------
    def attach(self, thread: Thread, engine: Engine | None, flags: AttachFlags,
               data: Any) -> Attachment:
        return self.call(self.control_part.attach, thread, engine, AttachFlags(flags), data)

    def start(self, process: Process) -> None:
        self.call(self.control_part.start, process)

    def detach_process(self, process: Process) -> None:
        self.call(self.lifecycle.detach_process, process)

    def kill_process(self, process: Process, sig: int) -> None:
        self.call(self.lifecycle.kill_process, process, sig)


class _ServiceSide:
    """What the services may ask of the tracer (hooks.ServicePort)."""

    def __init__(self, tables: Tables, reporter: Reporter, api: Requests) -> None:
        self.tables = tables
        self.reporter = reporter
        self.api = api

    def connect(self, holding: Holding, resumer: Resumer) -> None:
        self.holding = holding
        self.resumer = resumer

    def process_of(self, pid: int) -> Process | None:
        return self.tables.processes.get(pid)

    def with_threads_stopped(self, process: Process, fn: Callable[[int], None]) -> None:
        held = self.holding.hold_running(process)
        try:
            for thread in list(process.threads.values()):
                if thread.born and thread.state in (State.STOPPED, State.HELD):
                    fn(thread.tid)
        finally:
            self.holding.release(held)

    def report_hit(self, thread: Thread, owners: Sequence[Attachment], address: int,
                   watchpoint: Any = None) -> None:
        report = Report(self.api, thread, Event.BREAKPOINT)
        report.address = address
        report.watchpoint = watchpoint
        self.reporter.report(thread, report, Event.BREAKPOINT, attachments=owners)

    def condition_report(self, thread: Thread, address: int) -> Report:
        report = Report(self.api, thread, Event.BREAKPOINT)
        report.address = address
        return report

    def registers(self, thread: Thread) -> Any:
        return self.resumer.registers(thread)

    def owe_step_over(self, thread: Thread, address: int) -> None:
        thread.at_trap = address  # (the resumer's still_on_trap / step_over take it)
