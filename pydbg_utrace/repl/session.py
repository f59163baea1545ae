"""The debugger's state: one program, the REPL engine on its threads, and how it moves.

Every method runs on the REPL's Python thread and talks to the tracer only
through the public API (``launch``, ``attach``, ``control``, ``examine``...).
The engine's state is the tracer thread's: the session changes it through
``Tracer.call`` (the engine's request methods) and reads the engine's
published :class:`View`.  Moving the program (run, continue, step) means:
tell the engine what to stop at, let go of the threads, then wait on the
engine's mailbox for the next :class:`Stop`.  Ctrl-C while waiting asks every
thread to stop.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pydbg_utrace import (
    Attachment,
    Event,
    Process,
    Resume,
    Thread,
    Tracer,
    UtraceError,
    kernel,
)
from pydbg_utrace.engine_files import attach_engine

from .engine import Note, ReplEngine, StepPlan, Stop, ThreadNote, View
from .policy import StopPolicy
from .watch import Watch, checker

if TYPE_CHECKING:
    from pydbg_utrace.arch import Arch, Registers


# How often a wait for the next stop looks at the Ctrl-C flag: a signal handler
# may only set a flag (it could interrupt us inside the queue's own lock).
POLL = 0.1
PARK_TIMEOUT = 5.0  # seconds to wait for siblings to stop before showing the prompt anyway
PROGRESS_EVERY = 1.0  # seconds between progress counts of a long step
WATCH_STEP_LIMIT = 50_000_000  # instructions a `continue` under watchpoints steps at most


class DebugError(Exception):
    """A user's mistake or an impossible request: printed as one line, the REPL goes on."""


class Session:
    """One debugging session: at most one program (gdb's inferior 1)."""

    def __init__(self, on_note: Callable[[str], None] = print) -> None:
        self.on_note = on_note
        self.policy = StopPolicy()
        self.engine = ReplEngine(self.policy)
        self.mailbox = self.engine.mailbox
        self._tracer: Tracer | None = None
        self.process: Process | None = None
        self.launched = False  # we started it: quit kills it; attached ones are detached
        self.program: list[str] = []  # what `run` starts
        self.current: int | None = None  # the selected thread's tid
        self.thread_numbers: dict[int, int] = {}  # tid -> gdb-style number
        self.next_number = 1  # breakpoints and catchpoints share numbers, as in gdb
        self.extras: dict[str, Any] = {}  # engines loaded beside the REPL, by name
        self.last_status: int | None = None
        self.interrupt_requested = False  # Ctrl-C seen; wait_stop acts on it
        self.watches: dict[int, Watch] = {}  # software watchpoints by number
        self.deferred: list[Stop] = []  # stops that came while others were shown
        self.on_launch: Callable[[Process], None] | None = None  # before its first instruction
        self.on_shlib: Callable[[], None] | None = None  # the dynamic linker changed the maps
        self.disable_randomization = True  # gdb's default: launched programs without ASLR
        self.on_progress: Callable[[int], None] | None = None  # steps so far, each second
        self.stepped = 0  # instructions single-stepped by the current command, all moves
        self.interrupted = False  # Ctrl-C during the current command: no further move
        self._progress_at = time.monotonic()  # when the last count was shown
        self.declines: Callable[[Stop], bool] | None = None  # a stop that is not the user's
        self.pointers: dict[int, int] = {}  # tid -> thread pointer, told at its birth
        self.selected_at_command: int | None = None  # gdb's previous_inferior_ptid
        self.killing = False  # deaths by our `kill` are not told thread by thread (gdb)

    # -- the tracer and the program ------------------------------------------------
    @property
    def tracer(self) -> Tracer:
        if self._tracer is None:
            self._tracer = Tracer()
        return self._tracer

    def on_tracer(self, fn: Callable, *args: Any) -> Any:
        """``fn(*args)`` on the tracer thread, the owner of the engine's state."""
        return self.tracer.call(fn, *args)

    @property
    def view(self) -> View:
        """The engine's state as the tracer thread last published it."""
        return self.mailbox.view

    def is_held(self, tid: int | None) -> bool:
        """Is thread ``tid`` stopped for us (the user may look at it)?"""
        return tid is not None and tid in self.mailbox.view.held

    @property
    def epoch(self) -> int:
        """Counts the stops shown to the user: what was read at one stop is stale after."""
        return self.mailbox.view.epoch

    def any_attachment(self) -> Attachment | None:
        """Ours on the leader if it lives, else on any thread (process-wide requests)."""
        attachments = self.mailbox.view.attachments
        if self.process is not None and self.process.pid in attachments:
            return attachments[self.process.pid]
        return next(iter(attachments.values()), None)

    def thread_list(self) -> list[Thread]:
        """The program's threads now: a snapshot taken by the tracer thread."""
        process = self.require_process()
        return self.tracer.call(lambda: list(process.threads.values()))

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.status is None

    def require_process(self) -> Process:
        if not self.alive:
            raise DebugError("The program is not being run.")
        assert self.process is not None
        return self.process

    def attachment(self, tid: int | None = None) -> Attachment:
        self.require_process()
        tid = self.current if tid is None else tid
        att = self.mailbox.view.attachments.get(tid) if tid is not None else None
        if att is None:
            raise DebugError(f"No thread {tid}: it has exited.")
        return att

    def held_attachment(self) -> Attachment:
        """The selected thread's attachment, which must be stopped for us."""
        att = self.attachment()
        if not self.is_held(att.thread.tid):
            raise DebugError(f"Thread {att.thread.tid} is running; interrupt it first.")
        return att

    @property
    def arch(self) -> Arch:
        return self.require_process().arch

    def registers(self) -> Registers:
        """The selected thread's registers (changes go back when it resumes)."""
        att = self.held_attachment()
        try:
            with att.examine() as regs:
                return regs
        except UtraceError as exc:
            raise DebugError(f"Cannot read registers: {exc}") from None

    def fp_registers(self) -> bytes | None:
        """The selected thread's floating-point regset (x86_64: the FXSAVE area), or
        None.  The core loads it lazily with ptrace, which only the tracer thread may
        call: so it is loaded there."""
        regs = self.registers()
        try:
            return bytes(self.tracer.call(lambda: regs.fpregs))
        except (LookupError, UtraceError, OSError, RuntimeError):
            return None

    def read_code(self, address: int, size: int) -> bytes:
        """Up to ``size`` bytes (fewer at the end of a mapping); an error if none."""
        memory = self.require_process().memory
        try:
            data = memory.read(address, size)
        except kernel.KernelError:
            data = b""
        if not data:
            raise DebugError(f"Cannot access memory at address {address:#x}")
        return data

    def read_memory(self, address: int, size: int) -> bytes:
        memory = self.require_process().memory  # our breakpoints are invisible in it
        try:
            data = memory.read(address, size)
        except kernel.KernelError:
            data = b""
        if len(data) < size:
            raise DebugError(f"Cannot access memory at address {address + len(data):#x}")
        return data

    def threads(self) -> Iterator[tuple[int, int]]:
        """``(number, tid)`` of every live thread we are attached to."""
        for tid in sorted(self.mailbox.view.attachments, key=lambda t: self.thread_number(t)):
            yield self.thread_number(tid), tid

    def multithreaded(self) -> bool:
        """Has the program ever had a second thread?  gdb then names the thread that
        stopped (``Thread 2 "name" hit Breakpoint 1, ...``)."""
        return len(self.thread_numbers) > 1

    def thread_pointer(self, tid: int) -> int:
        """gdb's (libthread_db's) thread pointer: x86_64's fs_base, 0 if not known."""
        if self.is_held(tid) and self.arch.name == "x86_64":
            with self.attachment(tid).examine() as regs:
                return regs["fs_base"] or self.pointers.get(tid, 0)
        return self.pointers.get(tid, 0)

    def target_id(self, tid: int, with_name: bool = True) -> str:
        """gdb's ``Thread 0x7ffff7dd2740 (LWP 6161) "demo"``; before libc set the
        thread pointer up, ``process N`` (the leader) or ``LWP N``."""
        pointer = self.thread_pointer(tid)
        text = f"Thread {pointer:#x} (LWP {tid})" if pointer else (
            f"process {tid}" if tid == self.require_process().pid else f"LWP {tid}")
        if with_name:
            name = self.thread_name(tid)
            if name is not None:
                text += f' "{name}"'
        return text

    def thread_name(self, tid: int) -> str | None:
        try:
            with open(f"/proc/{self.require_process().pid}/task/{tid}/comm") as f:
                return f.read().strip()
        except OSError:
            return None

    def _told(self, item: Note | ThreadNote) -> None:
        """Say a note now, as gdb does while the program runs."""
        if isinstance(item, Note):
            self.on_note(item.text)
            return
        if item.born:
            self.thread_number(item.tid)  # numbered at birth, as gdb
            if item.pointer:
                self.pointers[item.tid] = item.pointer
            pointer = self.pointers.get(item.tid)
            self.on_note(f"[New Thread {pointer:#x} (LWP {item.tid})]" if pointer
                         else f"[New LWP {item.tid}]")
            return
        pointer = self.pointers.pop(item.tid, None)
        if not self.killing:
            self.on_note(f"[Thread {pointer:#x} (LWP {item.tid}) exited]" if pointer
                         else f"[LWP {item.tid} exited]")

    def thread_number(self, tid: int) -> int:
        if tid not in self.thread_numbers:
            self.thread_numbers[tid] = len(self.thread_numbers) + 1
        return self.thread_numbers[tid]

    # -- starting and ending ---------------------------------------------------------
    def launch(self, argv: list[str]) -> Process:
        """Start ``argv`` held before its first instruction, with our engines on it."""
        if self.alive:
            raise DebugError("The program is already running; `kill` it first.")
        if not argv:
            raise DebugError("No program to run: give one on the command line or to `run`.")
        try:
            # As gdb: a program we started dies with us, even by kill -9 (else
            # it would run on with our traps in its code: PTRACE_O_EXITKILL).
            process = self.tracer.launch(argv, kill_on_exit=True,
                                         disable_randomization=self.disable_randomization)
        except (OSError, ValueError) as exc:
            raise DebugError(str(exc)) from None
        self._adopt(process, launched=True)
        self.program = list(argv)
        if self.on_launch is not None:
            self.on_launch(process)
        return process

    def run(self, argv: list[str]) -> Stop:
        process = self.launch(argv)
        process.start()
        return self.wait_stop()

    def starti(self, argv: list[str]) -> Stop:
        """Start ``argv`` and stop at its first instruction."""
        process = self.launch(argv)
        self.on_tracer(self.engine.hold, process.pid)  # stopped already: held from now on
        process.start()
        return Stop(process.pid, "started", pc=self.registers().pc)

    def attach(self, pid: int) -> Stop:
        if self.alive:
            raise DebugError("Already debugging a program; `detach` or `kill` it first.")
        try:
            process = self.tracer.attach_process(pid)
        except (OSError, ValueError) as exc:
            raise DebugError(f"Cannot attach to process {pid}: {_reason(exc)}") from None
        self._adopt(process, launched=False)
        self.program = []
        self.interrupt()
        stop = self.wait_stop()
        if stop.reason == "interrupt":
            stop.reason = "attached"
        return stop

    def _adopt(self, process: Process, launched: bool) -> None:
        self.process, self.launched = process, launched
        self.thread_numbers.clear()
        self.on_tracer(self._attach_engines, process, self._wanted_events())
        for thread in self.thread_list():
            self.thread_number(thread.tid)
        self.current = self.selected_at_command = process.pid

    def _attach_engines(self, process: Process, extra_events: Event) -> None:
        """(Tracer thread.)  Ours and the loaded engines on every thread."""
        self.engine.extra_events = extra_events
        for thread in list(process.threads.values()):
            self.engine.attach_to(thread)
            for extra in self.extras.values():
                attach_engine(extra, thread)

    def kill(self) -> Stop:
        process = self.require_process()
        process.kill()
        self.killing = True
        try:
            while True:  # stops that raced the kill (a Ctrl-C's second report) are moot
                stop = self.wait_stop()
                if stop.reason == "exited":
                    return stop
        finally:
            self.killing = False

    def detach(self) -> int:
        """Stop tracing; the program runs on as if never traced.  Its pid."""
        process = self.require_process()
        process.detach()
        self._forget_process()
        return process.pid

    def _forget_process(self) -> None:
        if self._tracer is not None:
            try:
                self.on_tracer(self.engine.forget_all)
            except RuntimeError:  # the tracer is closed: nothing left to forget with it
                self.engine.forget_all()
        self.process, self.current = None, None
        self.thread_numbers.clear()
        self.pointers.clear()
        self.watches.clear()  # their addresses meant that process
        self.deferred.clear()

    def close(self) -> None:
        """Leave nothing behind: kill what we started, detach what we attached."""
        if self.alive:
            if self.launched:
                self.kill()
            else:
                self.detach()
        if self._tracer is not None:
            self._tracer.close()
            self._tracer = None

    # -- moving ----------------------------------------------------------------------
    def cont(self) -> Stop:
        """Let the program run to its next stop for the user: a breakpoint stop that
        ``declines`` says is not wanted (a false condition, an ignore count) goes on at
        once, inside this move (momentary breakpoints of ``run_to`` stay in place)."""
        while True:
            stop = self._cont_once()
            if self.declines is None or not self.declines(stop):
                return stop

    def _cont_once(self) -> Stop:
        pending = self._pending_stop()
        if pending is not None:
            return pending
        att = self.held_attachment()
        self.apply_events()
        watch = self._watch_checker()
        if watch is not None:  # software watchpoints: step this thread, compare each time
            self._release(att, Resume.SINGLESTEP,
                          StepPlan(count=None, watch=watch, limit=WATCH_STEP_LIMIT))
        else:
            self._release_all()
        return self.wait_stop()

    def step(self, count: int = 1, over_call_to: tuple[int, int] | None = None) -> Stop:
        """Single-step the selected thread ``count`` instructions (or to ``over_call_to``
        = (pc, sp): nexti over a call); its siblings stay parked."""
        pending = self._pending_stop()
        if pending is not None:  # (as gdb: another thread's stop first, nothing moves)
            return pending
        att = self.held_attachment()
        plan = StepPlan(count=count, watch=self._watch_checker())
        if over_call_to is not None:
            plan.until_pc, plan.until_sp = over_call_to
        self.apply_events()
        self._release(att, Resume.SINGLESTEP, plan)
        return self.wait_stop()

    def deliver_signal(self, tid: int, signo: int) -> None:
        """Queue ``signo`` for thread ``tid``; it is delivered (not stopped at) when
        the thread resumes: gdb's ``signal SIG``."""
        self.on_tracer(self.engine.deliver, tid, signo)
        kernel.tgkill(self.require_process().pid, tid, signo)

    def step_in_range(self, start: int, end: int) -> Stop:
        """Single-step the selected thread while its pc stays in [start, end): one
        source line's code (the engine steps on its own, one stop at the end)."""
        pending = self._pending_stop()
        if pending is not None:
            return pending
        att = self.held_attachment()
        plan = StepPlan(count=None, step_range=(start, end), watch=self._watch_checker())
        self.apply_events()
        self._release(att, Resume.SINGLESTEP, plan)
        return self.wait_stop()

    def run_to(self, targets: list[tuple[int, int | None]]) -> Stop:
        """Continue with momentary breakpoints at ``(address, lowest sp)`` targets.

        A target hit with the stack pointer below its lowest sp (a deeper call of
        a recursive function) is not told to us and the program goes on; the
        stop's ``extra["momentary"]`` says that one of the targets stopped it.
        The breakpoints are gone afterwards, whatever stopped the program.
        """
        att = self.attachment(self.require_process().pid)
        inserted = []
        try:
            for address, lowest in targets:
                condition = None if lowest is None else \
                    (lambda report, lowest=lowest: report.regs.sp >= lowest)
                inserted.append(att.insert_breakpoint(address, condition=condition))
            stop = self.cont()
        finally:
            for bp in inserted:
                if self.alive:
                    try:
                        att.remove_breakpoint(bp)
                    except (UtraceError, OSError):
                        pass
        if stop.reason == "breakpoint":
            stop.extra["momentary"] = stop.extra.get("address") in {a for a, _ in targets}
            if stop.extra["momentary"] and self.interrupted:  # no move after a Ctrl-C
                stop.reason, stop.extra["momentary"] = "interrupt", False
        return stop

    def _watch_checker(self):
        software = [w for w in self.watches.values() if w.enabled and w.hardware is None]
        return checker(self.require_process().pid, software)

    def add_watch(self, expression: str, address: int, size: int, access: str = "w") -> Watch:
        """``watch`` (access "w"), ``rwatch`` ("r") or ``awatch`` ("rw"); the last two
        need a debug register (DebugError if none can take it)."""
        self.held_attachment()
        old = self.read_memory(address, size)
        watch = Watch(self.take_number(), expression, address, size, old, self.arch.byteorder,
                      access=access)
        self._arm(watch)
        if watch.hardware is None and access != "w":
            raise DebugError("Expression cannot be implemented with read/access watchpoint.")
        self.watches[watch.number] = watch
        return watch

    def _arm(self, watch: Watch) -> None:
        """A debug register if the core can lend one; else it stays a software watch."""
        att = self.attachment(self.require_process().pid)
        try:
            # x86 debug registers see reads only together with writes: "rw"
            watch.hardware = att.insert_watchpoint(watch.address, watch.size,
                                                   "w" if watch.access == "w" else "rw")
        except (UtraceError, ValueError, RuntimeError, OSError):
            watch.hardware = None

    def _disarm(self, watch: Watch) -> None:
        if watch.hardware is not None and self.alive:
            try:
                self.attachment(self.require_process().pid).remove_watchpoint(watch.hardware)
            except (UtraceError, DebugError):
                pass
        watch.hardware = None

    def remove_watch(self, number: int) -> bool:
        watch = self.watches.pop(number, None)
        if watch is not None:
            self._disarm(watch)
        return watch is not None

    def enable_watch(self, number: int, enabled: bool) -> bool:
        watch = self.watches.get(number)
        if watch is None:
            return False
        watch.enabled = enabled
        if not enabled:
            self._disarm(watch)
        elif watch.hardware is None and self.alive:
            self._arm(watch)
        return True

    def hardware_watch_hit(self, address: int | None) -> str | None:
        """What a debug-register hit at ``address`` means for each watchpoint there
        (re-read now); None for a hit the user did not ask to see (an rwatch's write,
        a read that only an rwatch/awatch beside a `watch` wanted)."""
        matching = [w for w in self.watches.values()
                    if w.hardware is not None and w.address == address]
        if not matching:
            return f"Hardware watchpoint at {address:#x}" if address is not None \
                else "Watchpoint"
        said = []
        for watch in matching:
            now = self.read_memory(watch.address, watch.size)
            if watch.access != "w":
                text = watch.accessed(now)
            else:
                text = watch.change(now)
                if text is None and all(w.access == "w" for w in matching):
                    text = (f"Hardware watchpoint {watch.number}: {watch.expression} "
                            "(written, unchanged)")
            if text is not None:
                said.append(text)
        return "\n\n".join(said) or None

    def step_syscall(self) -> Stop:
        pending = self._pending_stop()
        if pending is not None:
            return pending
        att = self.held_attachment()
        self.on_tracer(self.engine.step_to_syscall, att.thread.tid)
        self.apply_events(Event.SYSCALL)
        self._release_all()
        return self.wait_stop()

    def interrupt(self) -> None:
        """Ask every running thread to stop; the first to stop is reported."""
        waiting = self.on_tracer(self.engine.interrupt_all)
        if not waiting and self.current is not None and self.alive \
                and self.mailbox.empty() and not self.deferred:
            self.mailbox.post(Stop(self.current, "interrupt"))  # all were stopped already

    def begin_command(self) -> None:
        """A new command: its count of stepped instructions starts at 0.  A command
        made of many moves (`next` through a loop that calls a function: a step range,
        a run to the return address, again...) shows one count that goes on growing."""
        self.stepped = 0
        self.interrupted = False
        self.selected_at_command = self.current
        self._progress_at = time.monotonic()

    def request_interrupt(self) -> None:
        """Ask for an interrupt from a signal handler: only sets a flag (never blocks)."""
        self.interrupt_requested = True

    def wait_stop(self) -> Stop:
        """The next stop; notes are printed meanwhile and Ctrl-C interrupts the program.
        While the engine steps on its own, ``on_progress`` hears the count each second
        (looked at on each pass: a command of many short moves never waits a POLL long)."""
        while True:
            self._progress()
            if self.interrupt_requested:
                self.interrupt_requested = False
                self.interrupted = True
                if self.alive:
                    self.interrupt()
            try:
                item = self.mailbox.next(timeout=POLL)
            except KeyboardInterrupt:  # no SIGINT handler of the front end: same meaning
                self.interrupt_requested = True
                continue
            if isinstance(item, (Note, ThreadNote)):
                self._told(item)
            elif isinstance(item, Stop):
                stop = self._arrived(item)
                if stop.reason == "step" and self.interrupted:
                    stop.reason = "interrupt"  # the step ended as the user stopped us
                if stop.reason != "shlib":
                    return stop
                if self.on_shlib is not None:
                    self.on_shlib()
                self._release_all()  # not the user's stop: the program goes on

    def _progress(self) -> None:
        """Each second of a move: the command's count so far (this move's plan, asked
        of the tracer thread)."""
        now = time.monotonic()
        if self.on_progress is None or now - self._progress_at < PROGRESS_EVERY:
            return
        total = self.stepped + self.on_tracer(self.engine.steps_taken, self.current)
        if total:
            self.on_progress(total)
            self._progress_at = now

    def _arrived(self, stop: Stop) -> Stop:
        self.stepped += stop.extra.get("steps", 0)  # the plan's own count, this move's
        if self.stepped:  # the command's count so far (a run_to between ranges: no plan)
            stop.extra["steps"] = self.stepped
        if stop.reason == "exited":
            self.last_status = stop.status
            self._forget_process()
        else:
            self.current = stop.tid
            self._await_parked()
        return stop

    def _await_parked(self) -> None:
        """All-stop: the prompt comes once every sibling has stopped too (as in gdb)."""
        deadline = time.monotonic() + PARK_TIMEOUT
        while self.mailbox.view.parking and time.monotonic() < deadline:
            item = self.mailbox.next(timeout=POLL)  # (a view change wakes it too)
            if isinstance(item, (Note, ThreadNote)):
                self._told(item)
            elif isinstance(item, Stop):
                self.deferred.append(item)  # reported at the next resume, as gdb does

    def _pending_stop(self) -> Stop | None:
        """A stop that happened while the user was at the prompt (another thread's)."""
        while self.deferred:
            stop = self.deferred.pop(0)
            if stop.reason == "interrupt":
                continue  # it is stopped: that request is served
            if stop.reason == "exited" or self.is_held(stop.tid):
                return self._arrived(stop)
        while True:
            item = self.mailbox.next(timeout=0)
            if item is None:
                return None
            if isinstance(item, (Note, ThreadNote)):
                self._told(item)
            elif isinstance(item, Stop) and item.reason != "interrupt" and (
                    item.reason == "exited" or self.is_held(item.tid)):
                return self._arrived(item)

    def _release(self, att: Attachment, action: Resume, plan: StepPlan | None = None) -> None:
        """Let a held thread go with ``action`` (a step ``plan``), unless a newer stop
        came meanwhile: the engine decides on the tracer thread (ReplEngine.release)."""
        self.on_tracer(self.engine.release, att.thread.tid, action, None, plan)

    def _release_all(self) -> None:
        self.on_tracer(self.engine.release_all)

    def _wanted_events(self, more: Event = Event.NONE) -> Event:
        wanted = Event.SYSCALL_ENTRY if self.policy.wants_syscalls() else Event.NONE
        return wanted | more

    def apply_events(self, more: Event = Event.NONE) -> None:
        self.on_tracer(self.engine.set_extra_events, self._wanted_events(more))

    # -- numbering ---------------------------------------------------------------------
    def take_number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number


def _reason(exc: BaseException) -> str:
    if isinstance(exc, kernel.NoSuchProcessError):
        return "no such process"
    if isinstance(exc, kernel.NotPermittedError) and "already traced" in str(exc):
        return str(exc)  # names the other tracer
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def describe_status(pid: int, status: int | None, killed: bool = False) -> str:
    """gdb's line for a program that ended (``killed``: by the ``kill`` command)."""
    if killed:
        return f"[Inferior 1 (process {pid}) killed]"
    if status is None:
        return f"[Inferior 1 (process {pid}) exited]"
    if os.WIFSIGNALED(status):
        from .policy import signal_description, signal_name

        signo = os.WTERMSIG(status)
        return (f"\nProgram terminated with signal {signal_name(signo)}, "
                f"{signal_description(signo)}.\nThe program no longer exists.")
    code = os.WEXITSTATUS(status)
    if code == 0:
        return f"[Inferior 1 (process {pid}) exited normally]"
    return f"[Inferior 1 (process {pid}) exited with code {code}]"
