"""The REPL's own tracing engine: it holds a thread stopped while the user looks.

It is an ordinary engine beside any others.  Its callbacks run on the tracer
thread and never block: when the user should be at the prompt the callback
answers ``Resume.STOP`` and drops a :class:`Stop` into a queue that the REPL's
Python thread waits on.  Everything it decides by (catchpoints, the ``handle``
table, step plans) is set by the REPL thread *before* it resumes the thread,
so the two threads never race on a decision.

All-stop, as gdb: when one thread stops for the user, its siblings are asked
to stop too ("parked") and stay held silently until the user resumes.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, field

from pydbg_utrace import (
    Attachment,
    Engine,
    Event,
    InProgressError,
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
class Parked:
    """A sibling stopped as asked: the REPL shows the prompt once all have."""

    tid: int


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

    def __init__(self, stops: queue.Queue, policy: StopPolicy):
        self.stops = stops
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

    # -- attaching (any thread) -------------------------------------------------
    def attach_to(self, thread) -> Attachment:
        att = thread.attach(self)
        self.attachments[thread.tid] = att
        att.set_events(self.events())
        return att

    def events(self) -> Event:
        return BASE_EVENTS | self.extra_events

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
        self.stops.put(Stop(tid, reason, detail, pc, extra=extra))
        self._park_siblings(tid)
        return Resume.STOP

    def _park_siblings(self, tid: int) -> None:
        for other, att in list(self.attachments.items()):
            if other == tid or other in self.held or att.detached:
                continue
            self.requested[other] = PARK
            try:
                att.control(Resume.STOP)
                self.held.add(other)  # it was stopped already: held from now on
                self.requested.pop(other, None)
            except InProgressError:
                pass  # it parks at its next stop (report_quiesce)
            except UtraceError:
                self.requested.pop(other, None)  # dying: nothing to park

    def _pending(self, att: Attachment, report: Report) -> Resume | None:
        """STOP if we hold the thread or the user asked it to stop; else None."""
        tid = att.thread.tid
        release = self.releasing.pop(tid, None)
        if release is not None and release[0] == self.epoch:
            self.held.discard(tid)
            return release[1]
        request = self.requested.get(tid)
        if request == INTERRUPT:
            return self._stop(att, report, "interrupt")
        if request == PARK:
            self.requested.pop(tid, None)
            self.held.add(tid)
            self.stops.put(Parked(tid))
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
            self.stops.put(Note(f"Thread {att.thread.tid} received signal {name}"
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
            self.attach_to(child)  # held until we return: it misses nothing
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
        return Resume.STOP if att.thread.tid in self.held else None

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
        self.forget(tid)
        process = att.thread.process
        if process is not None and tid == process.pid:
            self.stops.put(Stop(tid, "exited", status=report.exit_code))
        return None

    def forget(self, tid: int) -> None:
        self.attachments.pop(tid, None)
        self.held.discard(tid)
        self.requested.pop(tid, None)
        self.releasing.pop(tid, None)
        self.shown.discard(tid)
        self.plans.pop(tid, None)
        self.syscall_steps.discard(tid)
