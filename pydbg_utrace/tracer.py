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
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from . import dispatch, kernel, signals, watchpoints
from .breakpoints import Breakpoint
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
from .process import Process, State, Thread

log = logging.getLogger("pydbg_utrace")

# Every tracee gets the same options: events the multiplexer itself needs to
# follow threads and hold new children.  They cost a stop only when they
# happen (clone, exec, exit), never per syscall.
TRACE_OPTIONS = (
    kernel.PTRACE_O_TRACESYSGOOD | kernel.PTRACE_O_TRACECLONE | kernel.PTRACE_O_TRACEFORK
    | kernel.PTRACE_O_TRACEVFORK | kernel.PTRACE_O_TRACEEXEC | kernel.PTRACE_O_TRACEEXIT
    | kernel.PTRACE_O_TRACEVFORKDONE
)
SYSCALL_STOP = signal.SIGTRAP | 0x80
GROUP_STOP_SIGNALS = {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
WAKE_SIGNAL = signal.SIGURG  # ignored by default: harmless if it ever escapes
LAUNCH_HOLD = "launch"  # an internal hold: launched, waiting for start()
CLONE_HOLD = "clone"  # an internal hold: child waiting for its parent's report_clone
_CLONE_EVENTS = {
    kernel.PTRACE_EVENT_FORK: "fork",
    kernel.PTRACE_EVENT_VFORK: "vfork",
    kernel.PTRACE_EVENT_CLONE: "clone",
}


class Tracer:
    """The multiplexer: owns ptrace for every traced thread, shared by many engines."""

    def __init__(self) -> None:
        self._requests: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._let_go_children: dict[int, Process] = {}  # detached, still our children
        # Stops collected while holding threads for a step-over, handled next
        # by the main loop (never recursively: one step-over can cause another).
        self._deferred: collections.deque[tuple[int, int]] = collections.deque()
        self._threads: dict[int, Thread] = {}
        self._processes: dict[int, Process] = {}
        self._current: Attachment | None = None  # whose callback is running
        self._closed = False
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
               stderr: int | None = None) -> Process:
        """Start ``argv`` traced, held before the first instruction of the new program.

        Attach engines, then call :meth:`Process.start`.  ``kill_on_exit`` kills it
        if the debugger dies (``PTRACE_O_EXITKILL``); otherwise it is detached.
        ``stdin``/``stdout``/``stderr`` are file descriptors for the program's
        0/1/2 (default: ours).
        """
        fds = (stdin, stdout, stderr)
        return self._call(self._launch, list(argv), env, cwd, kill_on_exit, fds)

    def attach_process(self, pid: int) -> Process:
        """Trace every thread of a running process; it goes on running."""
        return self._call(self._attach_process, pid)

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
        return list(self._processes.values())

    def thread(self, tid: int) -> Thread:
        """The traced thread ``tid`` (KeyError if we do not trace it)."""
        return self._threads[tid]

    def close(self, kill: bool = False) -> None:
        """Detach from (or, with ``kill``, kill) every tracee and stop the tracer thread."""
        if self._closed or not self._thread.is_alive():
            return
        self._call(self._close, kill)
        if threading.get_ident() != self._thread.ident:
            self._thread.join()

    def __enter__(self) -> Tracer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- marshalling to the tracer thread ------------------------------------------
    def _call(self, fn: Callable, *args: Any) -> Any:
        if threading.get_ident() == self._thread.ident:
            return fn(*args)
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the tracer is closed")
            self._requests.append((fn, args, future))
        self._wake()
        return future.result()

    def _wake(self) -> None:
        try:
            os.kill(self._waker, WAKE_SIGNAL)
        except ProcessLookupError:
            pass  # the tracer is replacing it; it drains the queue anyway

    def _drain(self) -> None:
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
        while not self._closed:
            self._drain()
            if self._closed:
                break
            if self._deferred:
                tid, status = self._deferred.popleft()
                thread = self._threads.get(tid)
                if thread is None or thread.state != State.HELD:
                    continue  # detached or reaped meanwhile
                thread.state = State.RUNNING
            else:
                try:
                    tid, status = kernel.wait_tracees()
                except ChildProcessError:
                    self._start_waker()
                    continue
            if tid == self._waker:
                self._on_waker(status)
                continue
            try:
                self._on_status(tid, status)
            except Exception:  # a bug of ours must not stop every tracee
                log.exception("while handling status %#x of thread %d", status, tid)
        with self._lock:
            for _fn, _args, future in self._requests:
                future.set_exception(RuntimeError("the tracer is closed"))
            self._requests.clear()

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

    def _on_stop(self, thread: Thread, status: int) -> None:
        thread.state = State.STOPPED
        thread.regs = None
        thread.inject = 0
        sig = os.WSTOPSIG(status)
        event = kernel.event_of(status)
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
        elif event in _CLONE_EVENTS:
            self._on_clone(thread, event)
        elif event == kernel.PTRACE_EVENT_EXEC:
            self._on_exec(thread)
        elif event == kernel.PTRACE_EVENT_EXIT:
            self._on_exit(thread)
        elif event == kernel.PTRACE_EVENT_VFORK_DONE:
            self._on_vfork_done(thread)
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
        decision = dispatch.report(atts, event, report, wanted, self._set_current, held)
        for att, exc in decision.failed:
            log.error("engine %s raised in a callback on thread %d and was detached: %r",
                      att.engine.display_name(), thread.tid, exc, exc_info=exc)
        for att in decision.detached:
            self._detach_attachment(att)
        for att in decision.stopped:
            thread.holds.add(att)
        for att in decision.released:
            thread.holds.discard(att)
        if decision.resume in (Resume.SINGLESTEP, Resume.BLOCKSTEP):
            for att in decision.released:
                if att not in thread.steppers:
                    thread.steppers.append(att)
        thread.pending = min(thread.pending, decision.resume)
        return decision

    def _set_current(self, att: Attachment | None) -> None:
        self._current = att

    def _quiesce_pass(self, thread: Thread, interrupt: bool) -> None:
        """The report a REPORT/INTERRUPT asked for: quiesce, or report_signal(REPORT)."""
        report = Report(self, thread, Event.NONE)
        if interrupt:
            report.signal_action = SignalAction.REPORT
            report.event = Event.SIGNAL
            self._report(thread, report, Event.SIGNAL, Event.SIGNAL_ALL)
        else:
            self._report(thread, report, Event.NONE)

    # -- stops -----------------------------------------------------------------------
    def _on_birth(self, thread: Thread) -> None:
        """The first stop of an auto-attached child."""
        if thread.detach_when_stopped:
            self._let_go(thread)
        else:
            self._arm_watchpoints(thread)  # watchpoint hook: a new thread gets the slots
            self._resume(thread)

    def _on_syscall(self, thread: Thread) -> None:
        info = kernel.get_syscall_info(thread.tid)
        thread.syscall = info
        report = Report(self, thread, Event.NONE)
        report.syscall = info
        if info.op == kernel.PTRACE_SYSCALL_INFO_EXIT:
            if thread.abort_result is not None:
                value, err = thread.abort_result
                thread.abort_result = None
                self._registers(thread)
                thread.arch.set_syscall_result(thread.regs, value, err)
            report.event = Event.SYSCALL_EXIT
            self._report(thread, report, Event.SYSCALL_EXIT)
        else:
            self._report_syscall_entry(thread, report)
        self._resume(thread)

    def _report_syscall_entry(self, thread: Thread, report: Report) -> None:
        report.event = Event.SYSCALL_ENTRY
        report.syscall_action = SyscallAction.RUN
        self._report(thread, report, Event.SYSCALL_ENTRY)
        if report.syscall_action == SyscallAction.ABORT:
            thread.arch.abort_syscall(self._registers(thread))
            if thread.abort_result is None:
                import errno

                thread.abort_result = (0, errno.ENOSYS)

    def _on_signal_stop(self, thread: Thread, sig: int) -> None:
        try:
            info = kernel.get_siginfo(thread.tid)
        except kernel.NoSuchProcessError:
            return  # killed meanwhile: its death follows
        if (sig == signal.SIGTRAP and info.code in (watchpoints.TRAP_HWBKPT, watchpoints.TRAP_TRACE)
                and self._report_watchpoints(thread) and not thread.stepping):
            self._resume(thread)  # watchpoint hook: a debug-register hit, reported
            return
        if sig == signal.SIGTRAP and thread.stepping and info.code > 0:
            thread.stepping = False
            self._on_step(thread)
            return
        thread.stepping = False
        if sig == signal.SIGTRAP and info.code > 0 and thread.process.has_traps():
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
        thread.interrupting = thread.interrupt_report = False
        if interrupt:
            self._quiesce_pass(thread, interrupt=True)
        elif thread.holds or thread.pending <= Resume.REPORT:
            self._quiesce_pass(thread, interrupt=False)
        self._resume(thread)

    def _on_group_stop(self, thread: Thread) -> None:
        first = not thread.group_stopped
        thread.group_stopped = True
        interrupt = thread.interrupt_report
        thread.interrupting = thread.interrupt_report = False
        if first:
            report = Report(self, thread, Event.JCTL)
            report.jctl = JobControl.STOPPED
            self._report(thread, report, Event.JCTL)
        if interrupt or thread.holds:  # an interrupt or STOP asked while it was stopping
            self._quiesce_pass(thread, interrupt)
        self._resume(thread)

    def _on_clone(self, parent: Thread, event: int) -> None:
        child_tid = kernel.get_event_msg(parent.tid)
        kind = _CLONE_EVENTS[event]
        child = self._threads.get(child_tid)
        if child is None:
            child = Thread(self, child_tid, None)
            self._threads[child_tid] = child
        child.holds.add(CLONE_HOLD)
        if kind == "clone" and _tgid(child_tid) == parent.process.pid:
            kind = "thread"
        if kind == "thread":
            child.process = parent.process
        else:
            child.process = Process(self, child_tid, is_child=False)
            self._processes[child_tid] = child.process
        child.process.threads[child_tid] = child
        if kind == "vfork" and parent.process.has_traps():
            # The child borrows the parent's memory, traps and all, until it
            # execs or exits: lift them meanwhile (put back at VFORK_DONE).
            parent.process.breakpoints.lift_all()
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
        if kind in ("fork", "clone") and parent.process.has_traps() \
                and not _same_memory(parent.tid, child_tid):
            # (A clone(CLONE_VM) child shares the traps: writing the originals
            # into it would take them from the parent too.)
            self._inherit_traps(parent.process, child)
        if kind != "thread" and not child.attachments:
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
            # A non-leader thread called execve and took over the leader's tid.
            execer = self._threads.pop(old_tid)
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
        report = Report(self, thread, Event.EXIT)
        try:
            report.exit_code = kernel.get_event_msg(thread.tid)
        except kernel.NoSuchProcessError:
            return
        self._report(thread, report, Event.EXIT)
        code = report.exit_code
        if os.WIFSIGNALED(code) and os.WTERMSIG(code) == signal.SIGKILL:
            thread.holds.clear()  # SIGKILL always wins: no engine may hold it here
        self._resume(thread)

    def _on_death(self, thread: Thread, status: int) -> None:
        process = thread.process
        thread.state = State.DEAD
        thread.death_reported = True
        thread.holds.clear()
        if process is not None:
            group_dead = thread.tid == process.pid or all(
                not t.alive for t in process.threads.values())
            report = Report(self, thread, Event.DEATH)
            report.exit_code = status
            report.group_dead = group_dead
            self._report(thread, report, Event.DEATH)
            self._report(thread, Report(self, thread, Event.REAP), Event.REAP)
        self._reap_silently(thread)
        if process is not None and thread.tid == process.pid:
            self._processes.pop(process.pid, None)
            process._finish(status)

    def _reap_silently(self, thread: Thread) -> None:
        for att in list(thread.attachments):
            self._detach_attachment(att)
        thread.state = State.GONE
        if self._threads.get(thread.tid) is thread:
            del self._threads[thread.tid]
        if thread.process is not None and thread.process.threads.get(thread.tid) is thread:
            del thread.process.threads[thread.tid]

    # -- breakpoints -------------------------------------------------------------------
    def _on_trap(self, thread: Thread, address: int, trap: Any) -> None:
        """The thread executed one of our traps: rewind it and tell whom it concerns."""
        regs = self._registers(thread)
        if regs.pc != address:
            regs.pc = address  # written back when it resumes
        thread.at_trap = address
        if thread in trap.steppers:  # a software step (atomic sequence) ended here
            thread.process.breakpoints.discard_steps(thread)
            self._on_step(thread)
            return
        owners = [att for att in thread.attachments if self._owns_hit(att, trap)]
        if owners:
            report = Report(self, thread, Event.BREAKPOINT)
            report.address = address
            self._report(thread, report, Event.BREAKPOINT, attachments=owners)
            for bp in [bp for bp in trap.breakpoints if bp.oneshot and bp.hits]:
                thread.process.breakpoints.discard(bp)
        self._resume(thread)

    def _owns_hit(self, att: Attachment, trap: Any) -> bool:
        report = None
        for bp in trap.breakpoints:
            if bp.engine is not att.engine or not bp.table:
                continue
            if bp.condition is not None:
                report = report or Report(self, att.thread, Event.BREAKPOINT)
                try:
                    if not bp.condition(report):
                        continue
                except Exception:
                    log.exception("breakpoint condition at %#x raised", bp.address)
                    continue
            bp.hits += 1
            return True
        return False

    def _still_on_trap(self, thread: Thread) -> bool:
        address = thread.at_trap
        thread.at_trap = None
        if not thread.process.has_traps() or thread.process.breakpoints.trap_at(address) is None:
            return False
        return self._registers(thread).pc == address

    def _step_over(self, thread: Thread, report_step: bool) -> None:
        """Run the instruction under a trap with the trap lifted, the other threads held.

        Every other running thread of the process is interrupted first, so none
        can run past the lifted trap unseen; their stops are handled afterwards.
        """
        address = self._registers(thread).pc
        held = self._hold_others(thread)
        table = thread.process.breakpoints
        regs = thread.regs
        if regs is not None and (regs.changed or regs.extra_changed):
            self._write_registers(thread, regs)
        thread.regs = None
        sig, thread.inject = thread.inject, 0
        table.lift(address)
        try:
            kernel.singlestep(thread.tid, sig)
            _, status = kernel.wait_tracee(thread.tid)
        finally:
            table.lower(address)
        self._release_others(held)
        if (os.WIFSTOPPED(status) and kernel.event_of(status) == 0
                and os.WSTOPSIG(status) == signal.SIGTRAP):
            thread.state = State.STOPPED
            self._report_watchpoints(thread)  # watchpoint hook: the stepped write hit one
            if report_step:
                self._on_step(thread)
            else:
                self._resume(thread)
        else:
            thread.at_trap = address  # not past it yet: step over again next time
            self._defer(thread, status)

    def _hold_others(self, thread: Thread) -> list[tuple[Thread, int]]:
        return self._hold(thread.process, thread, (State.RUNNING,))

    def _hold(self, process: Process, skip: Thread | None,
              states: tuple[State, ...]) -> list[tuple[Thread, int]]:
        """Interrupt the process's threads in ``states`` (but ``skip``) and wait for each."""
        others = [t for t in process.threads.values()
                  if t is not skip and t.born and t.state in states]
        for other in others:
            self._interrupt(other)
        held = []
        for other in others:
            try:
                _, status = kernel.wait_tracee(other.tid)
            except ChildProcessError:
                continue
            other.state = State.HELD  # its status waits in `held`: nobody else may wait for it
            held.append((other, status))
        return held

    def _release_others(self, held: list[tuple[Thread, int]]) -> None:
        for other, status in held:
            if (os.WIFSTOPPED(status) and kernel.event_of(status) == kernel.PTRACE_EVENT_STOP
                    and os.WSTOPSIG(status) == signal.SIGTRAP and not other.interrupt_report):
                # Only our interrupt stopped it: let it go on as it was.
                other.interrupting = False
                other.state = State.STOPPED
                other.regs = None
                self._resume(other)
            else:
                self._defer(other, status)

    def _defer(self, thread: Thread, status: int) -> None:
        """Handle this stop from the main loop (it stays HELD until then)."""
        thread.state = State.HELD
        self._deferred.append((thread.tid, status))

    def _plant_software_step(self, thread: Thread) -> bool:
        """Where the arch cannot hardware-step (ppc64 atomic sequences), plant traps."""
        arch = thread.arch
        if not _has_software_step(arch):
            return False
        space = thread.process.memory
        addresses = arch.software_step(self._registers(thread).pc, space.read)
        if not addresses:
            return False
        for address in addresses:
            thread.process.breakpoints.add_step(thread, address)
        return True

    def _inherit_traps(self, parent: Process, child: Thread) -> None:
        """A forked child has copies of our traps: keep those its own engines own."""
        kept_engines = {att.engine for att in child.attachments}
        child_table = child.process.breakpoints
        for address, trap in parent.breakpoints.traps.items():
            wanted = [bp for bp in trap.breakpoints if bp.engine in kept_engines]
            if not wanted:
                child_table.space.write_raw(address, trap.original)
                continue
            child_table.adopt(address, trap.original)
            for bp in wanted:
                child_table.add(Breakpoint(address, bp.engine, bp.condition, bp.oneshot))

    def _on_vfork_done(self, thread: Thread) -> None:
        if thread.process.has_traps():
            thread.process.breakpoints.lower_all()
        if thread.report_at_vfork_done:
            thread.report_at_vfork_done = False
            self._quiesce_pass(thread, interrupt=False)
        self._resume(thread)

    def _insert_breakpoint(self, att: Attachment, address: int, condition: Any,
                           oneshot: bool) -> Breakpoint:
        if att.detached or not att.thread.alive:
            raise NoSuchThreadError(f"thread {att.thread.tid} is gone or the engine detached")
        bp = Breakpoint(address, att.engine, condition, oneshot)
        att.thread.process.breakpoints.add(bp)
        att.events |= Event.BREAKPOINT
        return bp

    def _remove_breakpoint(self, bp: Breakpoint) -> None:
        if bp.table is not None:
            bp.table.discard(bp)

    # -- hardware watchpoints (watchpoints.py): the hooks ---------------------------
    def _insert_watchpoint(self, att: Attachment, address: int, size: int,
                           access: str) -> watchpoints.Watchpoint:
        thread = att.thread
        if att.detached or not thread.alive:
            raise NoSuchThreadError(f"thread {thread.tid} is gone or the engine detached")
        watchpoints.require_support(thread.arch.name)
        watchpoints.check(address, size, access)
        process = thread.process
        table = watchpoints.table_for(process)
        wp = watchpoints.Watchpoint(address, size, access, att.engine)
        if table.add(wp):
            try:
                self._program_watchpoints(process, table)
            except kernel.KernelError:
                table.discard(wp)
                self._program_watchpoints(process, table)
                raise
        att.events |= Event.BREAKPOINT
        return wp

    def _remove_watchpoint(self, wp: watchpoints.Watchpoint) -> None:
        for process in list(self._processes.values()):
            table = watchpoints.table_of(process)
            if table is not None and wp.slot in table.slots:
                if table.discard(wp):
                    self._program_watchpoints(process, table)
                return
        wp.slot = None

    def _program_watchpoints(self, process: Process, table: watchpoints.WatchpointTable) -> None:
        """Write the slots into every thread, holding the running ones meanwhile."""
        held = self._hold_running(process)
        try:
            for thread in list(process.threads.values()):
                if thread.born and thread.state in (State.STOPPED, State.HELD):
                    try:
                        table.program(thread.tid)
                    except kernel.NoSuchProcessError:
                        pass  # exiting: its death follows
        finally:
            self._release_others(held)

    def _hold_running(self, process: Process) -> list[tuple[Thread, int]]:
        """Interrupt every running or listening thread (to write their debug registers)."""
        return self._hold(process, None, (State.RUNNING, State.LISTENING))

    def _arm_watchpoints(self, thread: Thread) -> None:
        """A new thread (stopped at birth) gets the process's debug registers."""
        table = watchpoints.table_of(thread.process)
        if table is not None:
            try:
                table.program(thread.tid)
            except kernel.NoSuchProcessError:
                pass

    def _report_watchpoints(self, thread: Thread) -> bool:
        """Report the slots DR6 says fired to the engines owning them; any fired?"""
        table = watchpoints.table_of(thread.process)
        if table is None:
            return False
        try:
            fired = table.take_fired(thread.tid)
        except kernel.NoSuchProcessError:
            return False
        for slot in fired:
            owners = [att for att in thread.attachments if slot.owned_by(att.engine)]
            if owners:
                report = Report(self, thread, Event.BREAKPOINT)
                report.address = slot.address
                report.watchpoint = slot
                self._report(thread, report, Event.BREAKPOINT, attachments=owners)
        return bool(fired)

    # -- resuming --------------------------------------------------------------------
    def _resume(self, thread: Thread) -> None:
        """Let the thread go on if nobody holds it, in the cheapest way that serves all."""
        if thread.state != State.STOPPED or thread.holds:
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

    def _continue(self, thread: Thread) -> None:
        action = thread.pending
        thread.pending = Resume.RESUME
        try:
            step = bool(thread.steppers) or action in (Resume.SINGLESTEP, Resume.BLOCKSTEP)
            if thread.at_trap is not None and self._still_on_trap(thread):
                self._step_over(thread, step)
                return
            soft = step and self._plant_software_step(thread)
            regs = thread.regs
            if regs is not None and (regs.changed or regs.extra_changed):
                self._write_registers(thread, regs)
            thread.regs = None
            if thread.group_stopped:
                kernel.listen(thread.tid)
                thread.state = State.LISTENING
                return
            sig, thread.inject = thread.inject, 0
            if step and not soft:
                thread.stepping = True
                kernel.singlestep(thread.tid, sig)
            elif thread.abort_result is not None or self._wants_syscalls(thread):
                kernel.cont_syscall(thread.tid, sig)
            else:
                kernel.cont(thread.tid, sig)
        except kernel.NoSuchProcessError:
            pass  # killed while stopped: its death report follows
        thread.state = State.RUNNING

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
        return thread.syscall_watchers > 0

    @staticmethod
    def _count_syscall_watchers(thread: Thread) -> None:
        """Recount who wants syscall stops (on attach, set_events, detach: not per stop)."""
        bits = int(Event.SYSCALL)
        thread.syscall_watchers = sum(1 for att in thread.attachments
                                      if int(att.events) & bits)

    def _interrupt(self, thread: Thread) -> None:
        # Sent even if one is pending: the kernel keeps one trap flag, so a
        # second request costs nothing, and a stale ``interrupting`` can never
        # leave us waiting for a trap that was already taken.
        if thread.state not in (State.RUNNING, State.LISTENING):
            return
        try:
            kernel.interrupt(thread.tid)
            thread.interrupting = True
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
        return att

    def _set_events(self, att: Attachment, events: Event) -> None:
        thread = att.thread
        if att.detached:
            raise NoSuchThreadError(f"engine is detached from thread {thread.tid}")
        lifecycle = Event.DEATH | Event.QUIESCE
        if thread.death_reported and (events ^ att.events) & lifecycle:
            raise AlreadyError(f"thread {thread.tid} is already dying")
        if self._current is att and att.events & ~events:
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
        if action in (Resume.REPORT, Resume.SINGLESTEP, Resume.BLOCKSTEP) \
                and not att.events & Event.QUIESCE:
            raise InvalidError(f"{action.name} needs Event.QUIESCE in the engine's events")
        if action in (Resume.SINGLESTEP, Resume.BLOCKSTEP) and not thread.arch.has_singlestep:
            raise NotSupportedError(f"{thread.arch.name} has no single-step")
        if action == Resume.STOP:
            thread.holds.add(att)
            if thread.state != State.STOPPED:
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
        if self._current is not att and att not in thread.holds:
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
        if att in thread.steppers:
            thread.steppers.remove(att)

    def _start(self, process: Process) -> None:
        thread = process.main_thread
        thread.holds.discard(LAUNCH_HOLD)
        self._resume(thread)

    # -- launching and attaching -----------------------------------------------------
    def _launch(self, argv: list[str], env: dict[str, str] | None, cwd: str | None,
                kill_on_exit: bool, fds: tuple[int | None, ...]) -> Process:
        if not argv:
            raise ValueError("nothing to launch: empty command")
        path = argv[0] if "/" in argv[0] else shutil.which(argv[0])
        if path is None or not os.path.exists(path):
            raise FileNotFoundError(f"no such program: {argv[0]}")
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: wait until seized, then exec (no other Python runs here)
            try:
                os.close(go_w)
                os.read(go_r, 1)
                for target, fd in enumerate(fds):
                    if fd is not None:
                        os.dup2(fd, target)
                if cwd is not None:
                    os.chdir(cwd)
                os.execve(path, argv, os.environ if env is None else env)
            except OSError as exc:
                os.write(err_w, str(exc.errno).encode())
            finally:
                os._exit(127)
        os.close(go_r)
        os.close(err_w)
        options = TRACE_OPTIONS | (kernel.PTRACE_O_EXITKILL if kill_on_exit else 0)
        try:
            kernel.seize(pid, options)
        except BaseException:
            os.close(go_w)
            os.close(err_r)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        os.write(go_w, b"x")
        os.close(go_w)
        # One read: EOF means execve succeeded (CLOEXEC closed the pipe); digits
        # are its errno.  Never read to EOF: a failed child sits in its exit stop
        # with the pipe still open until we let it go.
        failure = os.read(err_r, 16)
        os.close(err_r)
        if failure:
            _reap_tracee(pid)
            err = int(failure)
            raise OSError(err, f"cannot execute {path}: {os.strerror(err)}")
        self._wait_for_exec(pid)
        process = Process(self, pid, is_child=True)
        thread = Thread(self, pid, process)
        thread.born = True
        thread.state = State.STOPPED
        thread.holds.add(LAUNCH_HOLD)
        process.threads[pid] = thread
        self._threads[pid] = thread
        self._processes[pid] = process
        return process

    @staticmethod
    def _wait_for_exec(pid: int) -> None:
        while True:
            _, status = kernel.wait_tracee(pid)
            if not os.WIFSTOPPED(status):
                raise ChildProcessError(f"process {pid} died before its exec completed")
            if kernel.event_of(status) == kernel.PTRACE_EVENT_EXEC:
                return
            sig = os.WSTOPSIG(status) if kernel.event_of(status) == 0 else 0
            kernel.cont(pid, sig)  # a signal before exec: pass it on

    def _attach_process(self, pid: int) -> Process:
        if pid in self._processes:
            return self._processes[pid]
        if pid in (os.getpid(), self._waker) or pid <= 0:
            raise kernel.NotPermittedError(1, "PTRACE_SEIZE", pid)
        if not os.path.exists(f"/proc/{pid}/task"):
            raise kernel.NoSuchProcessError(3, "attach", pid)
        if _tgid(pid) != pid:
            raise ValueError(f"{pid} is a thread of process {_tgid(pid)}: attach to that")
        process = Process(self, pid, is_child=False)
        seized: set[int] = set()
        try:
            while True:  # threads may be created while we attach: until no new one
                new = set(_task_ids(pid)) - seized
                if not new:
                    break
                for tid in sorted(new):
                    seized.add(tid)
                    self._seize_thread(process, tid)
        except BaseException:
            self._detach_process(process)  # leave nothing half-attached
            raise
        if not process.threads:
            raise kernel.NoSuchProcessError(3, "attach", pid)
        self._processes[pid] = process
        return process

    def _seize_thread(self, process: Process, tid: int) -> None:
        try:
            kernel.seize(tid, TRACE_OPTIONS)
        except kernel.NoSuchProcessError:
            return  # exited meanwhile
        except kernel.NotPermittedError as exc:
            tracer = _tracer_of(tid)
            if tracer == self._native_id:
                return  # auto-attached through a thread we seized: its clone event says so
            if tracer:
                raise kernel.NotPermittedError(
                    exc.errno, f"PTRACE_SEIZE (already traced by pid {tracer})", tid) from None
            raise
        thread = Thread(self, tid, process)
        thread.born = True
        process.threads[tid] = thread
        self._threads[tid] = thread

    # -- detaching ---------------------------------------------------------------------
    def _let_go(self, thread: Thread) -> None:
        """PTRACE_DETACH a stopped thread, passing on the signal it stopped for."""
        try:
            regs = thread.regs
            if regs is not None and (regs.changed or regs.extra_changed):
                self._write_registers(thread, regs)  # e.g. a PC rewound over a breakpoint
            if watchpoints.table_of(thread.process) is not None:
                watchpoints.WatchpointTable.clear(thread.tid)  # watchpoint hook
            kernel.detach(thread.tid, thread.inject)
        except kernel.NoSuchProcessError:
            pass
        self._reap_silently(thread)

    def _detach_process(self, process: Process) -> None:
        if process.has_traps():
            process.breakpoints.restore_all()  # leave the program its own code
        for thread in list(process.threads.values()):
            self._detach_thread(thread)
        self._processes.pop(process.pid, None)
        if process.is_child and process.status is None:
            self._let_go_children[process.pid] = process

    def _detach_thread(self, thread: Thread) -> None:
        if thread.state == State.HELD:
            status = self._take_deferred(thread)
            thread.state = State.STOPPED
            self._note_stop_for_detach(thread, status)
        if thread.state in (State.RUNNING, State.LISTENING):
            try:
                kernel.interrupt(thread.tid)
            except kernel.NoSuchProcessError:
                self._reap_silently(thread)
                return
            self._wait_stopped(thread)
        if thread.state == State.STOPPED:
            self._let_go(thread)
        else:
            self._reap_silently(thread)

    def _wait_stopped(self, thread: Thread) -> None:
        """Wait for the stop an interrupt causes; keep the signal it may stop for."""
        try:
            _, status = kernel.wait_tracee(thread.tid)
        except ChildProcessError:
            thread.state = State.GONE
            return
        self._note_stop_for_detach(thread, status)

    def _take_deferred(self, thread: Thread) -> int:
        for entry in self._deferred:
            if entry[0] == thread.tid:
                self._deferred.remove(entry)
                return entry[1]
        raise AssertionError(f"held thread {thread.tid} has no deferred stop")

    def _note_stop_for_detach(self, thread: Thread, status: int) -> None:
        if not os.WIFSTOPPED(status):
            self._on_death(thread, status)
            return
        thread.state = State.STOPPED
        event, sig = kernel.event_of(status), os.WSTOPSIG(status)
        if event == 0 and sig != SYSCALL_STOP and not (sig == signal.SIGTRAP and thread.stepping):
            thread.inject = sig  # a signal-delivery stop: the signal goes on at detach
        elif event in _CLONE_EVENTS:
            # Its new child is traced already: let that one go too.
            child = kernel.get_event_msg(thread.tid)
            if child not in self._threads:
                kernel.wait_tracee(child)
            try:
                kernel.detach(child, 0)
            except kernel.NoSuchProcessError:
                pass
            self._threads.pop(child, None)

    def _kill_process(self, process: Process, sig: int) -> None:
        try:
            os.kill(process.pid, sig)
        except ProcessLookupError:
            pass

    def _close(self, kill: bool) -> None:
        for process in list(self._processes.values()):
            if kill:
                self._kill_process(process, signal.SIGKILL)
                self._wait_gone(process)
            else:
                self._detach_process(process)
        try:
            os.kill(self._waker, signal.SIGKILL)
            kernel.wait_tracee(self._waker)
        except (ProcessLookupError, ChildProcessError):
            pass
        with self._lock:
            self._closed = True

    def _wait_gone(self, process: Process) -> None:
        while process.pid in self._processes and process.threads:
            try:
                tid, status = kernel.wait_tracees()
            except ChildProcessError:
                return
            if tid != self._waker:
                self._on_status(tid, status)


def _same_memory(pid1: int, pid2: int) -> bool:
    """Do two tasks share one address space?  ``kcmp(KCMP_VM)`` says."""
    from pydbg_utrace import arch

    try:
        return kernel.kcmp(pid1, pid2, kernel.KCMP_VM, arch.host().syscall_number_of("kcmp"))
    except (KeyError, OSError):
        return False  # cannot tell: treat as a fork (the common case)


def _has_software_step(arch: Any) -> bool:
    """Does this arch have software-step rules at all (ppc64: yes, x86_64: no)?"""
    from pydbg_utrace.arch.base import Arch

    return type(arch).software_step is not Arch.software_step


def _reap_tracee(pid: int) -> None:
    """Wait for a tracee child to die, letting it pass its exit stop."""
    while True:
        _, status = kernel.wait_tracee(pid)
        if not os.WIFSTOPPED(status):
            return
        kernel.cont(pid, 0)


def _tgid(tid: int) -> int:
    try:
        with open(f"/proc/{tid}/status") as status:
            for line in status:
                if line.startswith("Tgid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return tid


def _tracer_of(tid: int) -> int:
    try:
        with open(f"/proc/{tid}/status") as status:
            for line in status:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _task_ids(pid: int) -> list[int]:
    try:
        return [int(name) for name in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []
