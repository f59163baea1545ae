"""The REPL's own tracing engine: it holds a thread stopped while the user looks.

It is an ordinary engine beside any others.  Its callbacks run on the tracer
thread and never block: when the user should be at the prompt the callback
answers ``Resume.STOP`` and posts a :class:`Stop` to the :class:`Mailbox` that
the REPL's Python thread waits on.

The tracer thread is the only writer of the engine's state (who is held, who
was asked to stop, the epoch, step plans, the attachments): its callbacks
change it, and the REPL thread changes it only through the methods under
"the REPL thread's requests", which the session runs with ``Tracer.call``.
After each change the engine publishes a :class:`View` (a frozen snapshot)
in the mailbox under its Condition; the REPL thread reads only that.  What
the REPL thread sets without the tracer thread (the catchpoints and the
``handle`` table of :class:`StopPolicy`) it changes only while the program is
held, so no callback reads it meanwhile.

All-stop, as gdb: when one thread stops for the user, its siblings are asked
to stop too ("parked") and stay held silently until the user resumes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pydbg_utrace import (
    Attachment,
    Engine,
    Event,
    InProgressError,
    NoSuchThreadError,
    Report,
    Resume,
    SignalAction,
    UtraceError,
)

from .policy import StopPolicy

BASE_EVENTS = (Event.QUIESCE | Event.SIGNAL_ALL | Event.CLONE | Event.EXEC | Event.EXIT
               | Event.DEATH | Event.STEP | Event.BREAKPOINT)

INTERRUPT = "interrupt"  # a user's Ctrl-C: stop and tell the REPL
PARK = "park"  # a sibling of the thread that stopped: stop silently


@dataclass
class Stop:
    """Why a thread stopped for the user (or that its process ended)."""

    tid: int
    reason: str  # step, signal, syscall-entry, syscall-exit, interrupt, fork, clone,
    # exec, breakpoint, watchpoint, exited, attached, started
    detail: str = ""
    pc: int | None = None
    status: int | None = None  # wait status, for "exited"
    extra: dict = field(default_factory=dict)


@dataclass
class Note:
    """Something to print while the tracee runs on (a signal with ``handle ... print``)."""

    text: str


@dataclass
class ThreadNote:
    """A thread was born or has exited: gdb's ``[New Thread ...]`` / ``[Thread ... exited]``."""

    tid: int
    born: bool
    pointer: int | None = None  # its thread pointer (x86_64: fs_base), if known


@dataclass
class Parked:
    """A sibling stopped as asked: the REPL shows the prompt once all have."""

    tid: int


@dataclass(frozen=True)
class View:
    """The engine's state as the tracer thread last published it (for the REPL thread)."""

    held: frozenset[int] = frozenset()  # tids whose last answer from us was STOP
    parking: frozenset[int] = frozenset()  # tids asked to park, not stopped yet
    epoch: int = 0  # counts stops shown to the user
    # tid -> ours, of the threads that may still stop (not past their exit)
    attachments: Mapping[int, Attachment] = field(default_factory=lambda: MappingProxyType({}))


class Mailbox:
    """What the tracer thread tells the REPL thread, under one Condition: the
    stops and notes in order, and the latest :class:`View`."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self._items: deque[Stop | Note | Parked | ThreadNote] = deque()
        self.view = View()

    # -- the tracer thread's side (and the REPL thread's own interrupt stop) ----------------
    def post(self, item: Stop | Note | Parked | ThreadNote) -> None:
        with self.changed:
            self._items.append(item)
            self.changed.notify_all()

    def publish(self, view: View) -> None:
        with self.changed:
            self.view = view
            self.changed.notify_all()

    # -- the REPL thread's side ----------------------------------------------------------
    def next(self, timeout: float | None = None) -> Stop | Note | Parked | ThreadNote | None:
        """The oldest item, waiting up to ``timeout`` for one; None if none came
        (or the view changed meanwhile: the caller looks at it again)."""
        with self.changed:
            if not self._items:
                self.changed.wait(timeout)
            return self._items.popleft() if self._items else None

    def empty(self) -> bool:
        with self.changed:
            return not self._items


@dataclass
class StepPlan:
    """Single steps the engine repeats on its own (no round trip to the REPL per step)."""

    count: int | None = 1  # steps still to take; None: until something else stops it
    until_pc: int | None = None  # nexti over a call: step until here ...
    until_sp: int | None = None  # ... with the stack back at this level
    step_range: tuple[int, int] | None = None  # next/step: on while the pc is in [lo, hi)
    watch: Callable[[], str | None] | None = None  # software watchpoints: what changed
    limit: int = 5_000_000  # a runaway plan ends here
    taken: int = 0  # steps done so far (the REPL shows it as progress)

    def more(self, pc: int, sp: int) -> bool:
        """After one step at ``pc``/``sp``: must we step again?"""
        self.limit -= 1
        self.taken += 1
        if self.limit <= 0:
            return False
        if self.step_range is not None:
            return self.step_range[0] <= pc < self.step_range[1]
        if self.until_pc is not None:
            return not (pc == self.until_pc and sp >= (self.until_sp or 0))
        if self.count is None:
            return True
        self.count -= 1
        return self.count > 0


class ReplEngine(Engine):
    """Holds threads for the REPL; one instance serves every thread of the session."""

    name = "repl"

    def __init__(self, policy: StopPolicy):
        self.mailbox = Mailbox()
        self.policy = policy
        self.attachments: dict[int, Attachment] = {}  # tid -> ours
        self.held: set[int] = set()  # tids whose last answer from us was STOP
        self.requested: dict[int, str] = {}  # tid -> INTERRUPT | PARK
        self.plans: dict[int, StepPlan] = {}  # tid -> steps in progress
        self.syscall_steps: set[int] = set()  # tids stepping to the next syscall stop
        self.extra_events = Event.NONE  # SYSCALL_ENTRY while a syscall is caught
        # Resuming goes through control(REPORT): the decision is taken here, on the
        # tracer thread, so a stop that came meanwhile (a newer epoch) keeps the
        # thread held instead of racing the REPL thread's release.
        self.epoch = 0  # counts stops shown to the user
        self.releasing: dict[int, tuple[int, Resume]] = {}  # tid -> (epoch, action)
        self.shown: set[int] = set()  # tids whose current report already told the user
        self.internal: set[int] = set()  # our own breakpoints (the dynamic linker's hook)
        self.delivering: dict[int, int] = {}  # tid -> signal `signal SIG` sends: no stop
        self.user_breakpoints: set[int] = set()  # addresses: a step landing there is a hit
        self.exiting: set[int] = set()  # tids past their exit stop, not yet dead

    # -- attaching (tracer thread) -----------------------------------------------
    def attach_to(self, thread) -> Attachment:
        att = thread.attach(self)
        self.attachments[thread.tid] = att
        att.set_events(self.events())
        self._publish()
        return att

    def events(self) -> Event:
        return BASE_EVENTS | self.extra_events

    def _publish(self) -> None:
        parking = frozenset(t for t, r in self.requested.items() if r == PARK)
        live = {tid: att for tid, att in self.attachments.items() if tid not in self.exiting}
        self.mailbox.publish(View(frozenset(self.held), parking, self.epoch,
                                  MappingProxyType(live)))

    # -- the decision every callback ends with ----------------------------------
    def _stop(self, att: Attachment, report: Report, reason: str, detail: str = "",
              **extra) -> Resume:
        tid = att.thread.tid
        self.epoch += 1
        self.held.add(tid)
        self.shown.add(tid)
        self.requested.pop(tid, None)
        self.releasing.pop(tid, None)
        plan = self.plans.pop(tid, None)
        if plan is not None and plan.taken:
            extra.setdefault("steps", plan.taken)  # how far a long step got
        self.syscall_steps.discard(tid)
        try:
            pc = report.regs.pc
        except UtraceError:
            pc = None
        self._park_siblings(tid)
        self._publish()  # (before the stop is posted: the REPL thread sees both)
        self.mailbox.post(Stop(tid, reason, detail, pc, extra=extra))
        return Resume.STOP

    def _park_siblings(self, tid: int) -> None:
        for other, att in list(self.attachments.items()):
            if other != tid and other not in self.held and other not in self.exiting \
                    and not att.detached:
                self._park(other, att)

    def _park(self, tid: int, att: Attachment) -> None:
        self.requested[tid] = PARK
        try:
            att.control(Resume.STOP)
            self.held.add(tid)  # it was stopped already: held from now on
            self.requested.pop(tid, None)
        except InProgressError:
            pass  # it parks at its next stop (report_quiesce; a new thread's: its birth)
        except UtraceError:
            self.requested.pop(tid, None)  # dying: nothing to park

    def _pending(self, att: Attachment, report: Report) -> Resume | None:
        """STOP if we hold the thread or the user asked it to stop; else None."""
        tid = att.thread.tid
        release = self.releasing.pop(tid, None)
        if release is not None and release[0] == self.epoch:
            self.held.discard(tid)
            self._publish()
            return release[1]
        request = self.requested.get(tid)
        if request == INTERRUPT:
            return self._stop(att, report, "interrupt")
        if request == PARK:
            self.requested.pop(tid, None)
            self.held.add(tid)
            self._publish()
            self.mailbox.post(Parked(tid))
        return Resume.STOP if tid in self.held else None

    # -- callbacks (tracer thread) ------------------------------------------------
    # Each report starts with report_quiesce (QUIESCE is in our events).  The event
    # callback after it looks at its own reason to stop *before* any pending
    # park request, so a sibling parked right at a catchpoint still reports it;
    # `shown` keeps one report from telling the user twice.
    def report_quiesce(self, att: Attachment, report: Report):
        self.shown.discard(att.thread.tid)
        return self._pending(att, report)

    def report_step(self, att: Attachment, report: Report):
        tid = att.thread.tid
        if tid in self.shown:
            return Resume.STOP
        plan = self.plans.get(tid)
        if plan is None:
            return self._stop(att, report, "step")
        changed = plan.watch() if plan.watch is not None else None
        if changed is not None:
            return self._stop(att, report, "watchpoint", changed)
        regs = report.regs
        if plan.step_range is not None and regs.pc in self.user_breakpoints:
            # gdb: a step that lands on a breakpoint's address reports that breakpoint
            return self._stop(att, report, "breakpoint", "", address=regs.pc)
        if plan.more(regs.pc, regs.sp):
            held = self._pending(att, report)
            return Resume.SINGLESTEP if held is None else held
        return self._stop(att, report, "step")

    def report_signal(self, att: Attachment, report: Report):
        if report.signal_action == SignalAction.REPORT:  # an interrupt, no signal
            return self._pending(att, report)
        signo = report.signo
        handling = self.policy.handling(signo)
        disposition = None if handling.pass_ else SignalAction.IGN
        if att.thread.tid in self.shown:
            return Resume.STOP, disposition
        if self.delivering.get(att.thread.tid) == signo:  # the user's `signal SIG`
            self.delivering.pop(att.thread.tid)
            held = self._pending(att, report)
            return (Resume.RESUME if held is None else held), SignalAction.DELIVER
        name = self.policy.signal_name(signo)
        if handling.stop or self.policy.catches_signal(signo):
            return self._stop(att, report, "signal", name, signo=signo), disposition
        if handling.print_:
            self.mailbox.post(Note(f"Thread {att.thread.tid} received signal {name}"
                                f"{'' if handling.pass_ else ' (not passed)'}"))
        held = self._pending(att, report)
        return (Resume.RESUME if held is None else held), disposition

    def report_syscall_entry(self, att: Attachment, report: Report):
        tid = att.thread.tid
        if report.resumed or tid in self.shown:
            return self._pending(att, report)
        name = att.thread.arch.syscall_name(report.syscall.nr)
        if tid in self.syscall_steps:
            return self._stop(att, report, "syscall-entry", name, syscall=report.syscall)
        number = self.policy.catches_syscall(name)
        if number is not None:
            return self._stop(att, report, "catch-syscall", name, syscall=report.syscall,
                              catchpoint=number)
        return self._pending(att, report)

    def report_syscall_exit(self, att: Attachment, report: Report):
        tid = att.thread.tid
        if tid in self.syscall_steps and tid not in self.shown:
            return self._stop(att, report, "syscall-exit", "", syscall=report.syscall)
        return self._pending(att, report)

    def report_clone(self, att: Attachment, report: Report):
        child = report.child
        if report.clone_kind == "thread" and child is not None:
            child_att = self.attach_to(child)  # held until we return: it misses nothing
            self.mailbox.post(ThreadNote(child.tid, True, clone_tls(att, report)))
            if att.thread.tid in self.held:  # all-stop: born while the others are parked
                self._park(child.tid, child_att)
                self._publish()
        kind = "fork" if report.clone_kind in ("fork", "vfork") else "clone"
        number = self.policy.catches_event(kind)
        if number is not None and att.thread.tid not in self.shown:
            return self._stop(att, report, kind, f"new {report.clone_kind} {child.tid}",
                              catchpoint=number)
        return self._pending(att, report)

    def report_exec(self, att: Attachment, report: Report):
        number = self.policy.catches_event("exec")
        if number is not None and att.thread.tid not in self.shown:
            return self._stop(att, report, "exec", "", catchpoint=number)
        return self._pending(att, report)

    def report_exit(self, att: Attachment, report: Report):
        tid = att.thread.tid
        if tid in self.held:
            return Resume.STOP  # the user may look at it first
        self.exiting.add(tid)  # no more stops but its death: nothing to park or show
        self.requested.pop(tid, None)
        self._publish()
        process = att.thread.process
        if process is not None and tid != process.pid:
            # told now, not at its death: before anything its exit lets happen (a join)
            self.mailbox.post(ThreadNote(tid, False))
        return None

    def report_breakpoint(self, att: Attachment, report: Report):
        if att.thread.tid in self.shown:
            return Resume.STOP
        if report.watchpoint is not None:  # a debug register saw a write
            return self._stop(att, report, "watchpoint", "", address=report.address,
                              hardware=True)
        if report.address in self.internal:  # libraries changed: the session looks, goes on
            return self._stop(att, report, "shlib", "", address=report.address)
        return self._stop(att, report, "breakpoint", "", address=report.address)

    def report_death(self, att: Attachment, report: Report):
        tid = att.thread.tid
        told = tid in self.exiting
        self.forget(tid)
        process = att.thread.process
        if process is not None and tid == process.pid:
            self.mailbox.post(Stop(tid, "exited", status=report.exit_code))
        elif not told:
            self.mailbox.post(ThreadNote(tid, False))
        return None

    def forget(self, tid: int) -> None:
        self.attachments.pop(tid, None)
        self.held.discard(tid)
        self.requested.pop(tid, None)
        self.releasing.pop(tid, None)
        self.shown.discard(tid)
        self.plans.pop(tid, None)
        self.syscall_steps.discard(tid)
        self.delivering.pop(tid, None)
        self.exiting.discard(tid)
        self._publish()

    # -- the REPL thread's requests (run on the tracer thread: Tracer.call) --------------
    def forget_all(self) -> None:
        for tid in list(self.attachments):
            self.forget(tid)

    def hold(self, tid: int) -> None:
        """Hold a thread that is stopped already (a launch before its first instruction)."""
        self.attachments[tid].control(Resume.STOP)
        self.held.add(tid)
        self._publish()

    def release(self, tid: int, action: Resume, epoch: int | None = None,
                plan: StepPlan | None = None) -> None:
        """Let a held thread go with ``action`` (and ``plan``), unless a newer stop
        than ``epoch`` came meanwhile.  ``control(REPORT)`` makes report_quiesce
        decide (see ``releasing``), at the thread's next stop."""
        att = self.attachments.get(tid)
        if att is None:
            return
        if plan is not None:
            self.plans[tid] = plan
        if tid not in self.held:
            if self.requested.pop(tid, None) == PARK:  # never stopped: just let go
                self._publish()
                self._control(att, Resume.RESUME)
            return
        self.requested.pop(tid, None)
        self.releasing[tid] = (self.epoch if epoch is None else epoch, action)
        self._control(att, Resume.REPORT)

    def release_all(self) -> None:
        epoch = self.epoch
        for tid in list(self.attachments):
            self.release(tid, Resume.RESUME, epoch)

    def _control(self, att: Attachment, action: Resume) -> None:
        try:
            att.control(action)
        except NoSuchThreadError:
            self.forget(att.thread.tid)

    def interrupt_all(self) -> bool:
        """Ask every running thread to stop; False if all were stopped already."""
        waiting = False
        for tid, att in list(self.attachments.items()):
            if tid in self.held:
                continue
            self.requested[tid] = INTERRUPT
            try:
                att.control(Resume.STOP)
            except InProgressError:
                waiting = True
                continue
            except UtraceError:
                self.requested.pop(tid, None)
                continue
            self.requested.pop(tid, None)
            self.held.add(tid)
        self._publish()
        return waiting

    def step_to_syscall(self, tid: int) -> None:
        self.syscall_steps.add(tid)

    def deliver(self, tid: int, signo: int) -> None:
        self.delivering[tid] = signo

    def set_extra_events(self, wanted: Event) -> None:
        if wanted == self.extra_events:
            return
        self.extra_events = wanted
        for att in list(self.attachments.values()):
            try:
                att.set_events(self.events())
            except UtraceError:
                pass  # dying: its death report follows

    def steps_taken(self, tid: int | None) -> int:
        plan = self.plans.get(tid) if tid is not None else None
        return plan.taken if plan is not None else 0

    def mark_user_breakpoint(self, address: int, present: bool) -> None:
        (self.user_breakpoints.add if present else self.user_breakpoints.discard)(address)

    def mark_internal(self, address: int | None, present: bool) -> None:
        """Our own breakpoint at ``address`` (None with ``present`` False: all of them)."""
        if address is None:
            self.internal.clear()
        elif present:
            self.internal.add(address)
        else:
            self.internal.discard(address)


# clone(2)'s and clone3(2)'s numbers on x86_64, and where clone3's struct clone_args
# keeps the new thread's TLS (the thread pointer gdb names threads by).
_CLONE, _CLONE3, _CLONE_ARGS_TLS = 56, 435, 56


def clone_tls(att: Attachment, report: Report) -> int | None:
    """The new thread's thread pointer, from the parent's clone call (x86_64: fs_base
    is set from it), or None.  The child cannot be examined yet: it is not stopped."""
    try:
        if att.thread.arch.name != "x86_64":
            return None
        regs = report.regs
        if regs["orig_rax"] == _CLONE:
            return regs["r8"] or None
        if regs["orig_rax"] == _CLONE3:
            data = att.thread.process.memory.read(regs["rdi"] + _CLONE_ARGS_TLS, 8)
            return int.from_bytes(data, "little") or None
    except (UtraceError, OSError, KeyError, AttributeError):
        pass
    return None
