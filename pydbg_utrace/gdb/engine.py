"""The gdb engine: one remote-protocol connection's view of a process, all-stop.

An ordinary engine on the public API, beside any others.  gdb believes in
*all-stop*: when it is told of a stop, every thread is stopped, and it stays
so until gdb resumes.  This engine builds that on utrace's sticky STOP: when
a thread must stop for gdb, the callback answers ``Resume.STOP`` and asks
every other thread to stop too (``control(STOP)``; a running one stops at
its next report, where ``report_quiesce`` answers STOP).  These holds are
*this engine's*: other engines' callbacks still run, and a second gdb's
holds are its own.

Two Python threads touch this object: the tracer thread runs the callbacks,
the connection's thread (:mod:`.session`) asks for stops and resumes.  All
shared state sits under one condition variable, held only briefly and never
across a call into the core, so neither thread can block the other.  The
connection never releases a thread itself: it records what each thread
should do (``releasing``) and asks for ``control(REPORT)``; the release is
decided in ``report_quiesce`` on the tracer thread.  A stop that comes in
between clears ``releasing``, so a thread can never run on after gdb was
told everything stopped.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydbg_utrace import (
    Attachment,
    Engine,
    Event,
    InProgressError,
    JobControl,
    Process,
    Report,
    Resume,
    SignalAction,
    Thread,
    UtraceError,
    kernel,
)

BASE_EVENTS = (Event.QUIESCE | Event.SIGNAL_ALL | Event.CLONE | Event.DEATH | Event.STEP
               | Event.BREAKPOINT | Event.JCTL | Event.EXEC)
STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})


@dataclass
class Stop:
    """Something gdb must be told: a stop of ``tid``, or (``exited``) the end of the process.

    ``signo`` is a Linux signal number (SIGTRAP for breakpoints and steps);
    ``reason`` one of "", "swbreak", "hwbreak", "watch", "rwatch", "awatch",
    "syscall_entry", "syscall_return", "exec", "fork", "vfork", "vforkdone", "create";
    ``value`` the watched address, the system call number, (exec) the new
    program's path, or (fork, vfork) the child's engine, which holds the child
    for gdb.
    """

    tid: int
    signo: int = 0
    reason: str = ""
    value: int | bytes | GdbEngine | None = None
    exited: bool = False
    status: int | None = None  # wait status, when exited
    siginfo: bytes | None = None  # the stop's siginfo_t, where it has one (qXfer:siginfo)


@dataclass
class Plan:
    """What one thread does when gdb resumes: a Resume and a signal to deliver.

    ``siginfo``: the signal's siginfo_t as gdb last saw (or wrote) it at this
    thread's stop, delivered with it, as natively.
    """

    action: Resume = Resume.RESUME
    signo: int = 0
    siginfo: bytes | None = None


@dataclass
class _Shared:
    """State both threads touch (under GdbEngine.cond)."""

    atts: dict[int, Attachment] = field(default_factory=dict)
    held: set[int] = field(default_factory=set)  # tids we hold stopped (confirmed)
    stopping: bool = False  # gdb is to see everything stopped
    releasing: dict[int, Resume] = field(default_factory=dict)  # decided in report_quiesce
    stepping: set[int] = field(default_factory=set)  # a step gdb asked for: report_step stops
    passing: dict[int, int] = field(default_factory=dict)  # tid -> signal re-sent for gdb
    passing_info: dict[int, bytes] = field(default_factory=dict)  # tid -> its siginfo_t
    pending: deque[Stop] = field(default_factory=deque)  # not yet told to gdb
    resumed: set[int] = field(default_factory=set)  # let go by gdb's last resume
    unborn: set[int] = field(default_factory=set)  # new threads not yet reported once
    group_stopped: set[int] = field(default_factory=set)  # in a group stop (report_jctl)
    conts: int = 0  # SIGCONTs we sent to leave a group stop, not yet delivered
    vforking: set[int] = field(default_factory=set)  # stopped for gdb at a vfork
    vfork_waiting: set[int] = field(default_factory=set)  # let go from it: vforkdone owed


class GdbEngine(Engine):
    """All-stop for one gdb connection, on the public engine API only."""

    name = "gdb"

    def __init__(self, process: Process, call: Callable[..., Any],
                 notify: Callable[[], None] = lambda: None, label: str = "gdb"):
        self.name = label
        self.process = process
        # ``call(fn, *args)`` runs fn on the tracer thread (Tracer.call): the
        # core's tables (Process.threads, a thread's attachments) are its own.
        self.call = call
        self.pid = process.pid
        self.notify = notify  # wakes the connection's thread: a stop may be ready
        self.cond = threading.Condition()
        self.state = _Shared()
        self.pass_signals: frozenset[int] = frozenset()  # Linux numbers (QPassSignals)
        self.catch_syscalls: frozenset[int] | None = None  # None: off; empty: all
        self.detached = False
        self.in_syscall: dict[int, int] = {}  # tid -> number at its entry (tracer thread only)
        self.stop_signal = signal.SIGSTOP  # the last stop signal delivered (tracer thread)
        self.exec_events = False  # gdb said exec-events+: an exec is a stop for it
        self.fork_events = False  # gdb said fork-events+: a fork child is gdb's to keep
        self.vfork_events = False  # vfork-events+: a vfork child too, and vforkdone
        self.thread_events = False  # QThreadEvents:1: a thread's birth and exit are stops
        self.execs = 0  # execs seen: the traps of the old program are gone

    # -- attaching (connection thread) ---------------------------------------------
    def events(self) -> Event:
        return BASE_EVENTS | (Event.SYSCALL if self.catch_syscalls is not None else Event.NONE)

    def attach_all(self) -> None:
        """Attach to every thread of the process, each held stopped (all-stop).

        The list and the attachments are made in one go on the tracer thread:
        the thread table is its own, and no clone is handled in between (a
        thread we were not on yet when it made another would make one we never
        hear of, running while gdb is told everything stopped).  A thread made
        after is ours through report_clone, and held from its birth.
        """
        with self.cond:
            self.state.stopping = True
        for tid, att in self.call(self._attach_every_thread):
            self._park(tid, att)

    def _attach_every_thread(self) -> list[tuple[int, Attachment]]:
        """(On the tracer thread: tids too, a Thread's fields are its own.)"""
        atts = ((thread.tid, self._attach(thread, hold=False))
                for thread in list(self.process.threads.values()))
        return [(tid, att) for tid, att in atts if att is not None]

    def _attach(self, thread: Thread, hold: bool) -> Attachment | None:
        try:
            att = thread.attach(self)
            att.set_events(self.events())
        except UtraceError:
            return None  # died meanwhile
        with self.cond:
            self.state.atts[thread.tid] = att
        if hold:
            self._park(thread.tid, att)
        return att

    def set_events_everywhere(self) -> None:
        for att in self.attachments():
            try:
                att.set_events(self.events())
            except UtraceError:
                pass

    def attachments(self) -> list[Attachment]:
        with self.cond:
            return list(self.state.atts.values())

    def attachment(self, tid: int) -> Attachment | None:
        with self.cond:
            return self.state.atts.get(tid)

    def tids(self) -> list[int]:
        with self.cond:
            return sorted(self.state.atts, key=lambda tid: (tid != self.pid, tid))

    # -- the connection's side: stopping and resuming --------------------------------
    def _next(self) -> Stop | None:
        """The stop to tell gdb next: the end, or a stop of a thread gdb resumed last.

        gdb must only hear of threads it let go: a stop of a thread it kept
        stopped (say while it stepped another over a breakpoint) waits.
        """
        s = self.state
        for stop in s.pending:
            if stop.exited:
                return stop
        if not (s.stopping and set(s.atts) <= s.held):
            return None
        for stop in s.pending:
            if not s.resumed or stop.tid in s.resumed:
                return stop
        return None

    def _ready(self) -> bool:
        return self._next() is not None

    def _take(self) -> Stop:
        stop = self._next()
        assert stop is not None
        self.state.pending.remove(stop)
        return stop

    def take_stop(self) -> Stop | None:
        """The stop to tell gdb, once every live thread is held (or the process ended)."""
        with self.cond:
            return self._take() if self._ready() else None

    def wait_stop(self) -> Stop:
        """Block until :meth:`take_stop` has one.

        Every wake-up comes from a callback (a thread held, a thread dead); a
        stop asked for always comes, since STOP interrupts even a blocked
        system call.
        """
        with self.cond:
            while not self._ready():
                self.cond.wait()
            return self._take()

    def state_initial(self, tid: int) -> None:
        """The stop gdb finds on connecting: SIGTRAP, as gdbserver says after exec/attach."""
        with self.cond:
            self.state.pending.append(Stop(tid, 5))
            self.cond.notify_all()
        self.notify()

    def interrupt(self) -> None:
        """gdb's Ctrl-C: stop every thread, and tell gdb SIGINT (for this engine alone)."""
        with self.cond:
            s = self.state
            if s.stopping:
                return  # a stop is on its way to gdb already
            s.stopping = True
            s.releasing.clear()
            candidates = [t for t in s.atts if not s.resumed or t in s.resumed]
            tid = self.pid if self.pid in candidates else min(candidates, default=self.pid)
            s.pending.append(Stop(tid, signo=2))
        self._park_all()
        self.notify()

    def halt(self) -> None:
        """Stop every thread for gdb without a stop of our own to tell.

        All-stop across processes: another process of this connection stopped
        for gdb, so this one must be stopped too before gdb is told.
        """
        with self.cond:
            s = self.state
            if s.stopping:
                return
            s.stopping = True
            s.releasing.clear()
        self._park_all()
        self.notify()

    def halted(self) -> bool:
        """Is every live thread held for gdb (or none is left)?"""
        with self.cond:
            s = self.state
            return bool(s.stopping and set(s.atts) <= s.held) or self._gone()

    def has_stop(self) -> bool:
        """Is there a stop (or the end) that :meth:`take_stop` would give now?"""
        with self.cond:
            return self._ready()

    def peek_stop(self) -> Stop | None:
        with self.cond:
            return self._next()

    def _gone(self) -> bool:
        return any(stop.exited for stop in self.state.pending) or not self.state.atts

    def running(self) -> bool:
        """Did gdb let this process go (it is not being held for gdb)?"""
        with self.cond:
            return not self.state.stopping

    def resume(self, plans: dict[int, Plan],
               stale: Callable[[Stop], bool] = lambda stop: False) -> bool:
        """Let the held threads go as ``plans`` says (a thread absent stays held).

        False if a stop is still pending (gdb is told of it at once instead:
        gdbserver's "status pending").  Pending stops that are ``stale`` (a hit
        of a breakpoint gdb has removed since) are dropped, as gdbserver does.
        """
        with self.cond:
            s = self.state
            # A stop held back for a thread gdb now lets go is told instead of
            # resuming anything -- unless its breakpoint is gone (then the thread
            # just runs the original instruction).  Stops of threads gdb keeps
            # stopped wait for a resume that includes them.
            for stop in [stop for stop in s.pending if stop.tid in plans and stale(stop)]:
                s.pending.remove(stop)
            s.resumed = set(plans)
            if any(stop.exited or stop.tid in plans for stop in s.pending):
                return False
            s.stopping = False
            release = {tid: plan for tid, plan in plans.items() if tid in s.held}
            leave_group_stop = bool(release.keys() & s.group_stopped)
            for tid, plan in release.items():
                s.releasing[tid] = plan.action
                if plan.action in (Resume.SINGLESTEP, Resume.BLOCKSTEP):
                    s.stepping.add(tid)
                if tid in s.group_stopped and plan.signo in STOP_SIGNALS:
                    # gdb passes on the stop signal it was told of the group stop
                    # with: the kernel ignores a restart signal from a group stop.
                    release[tid] = plan = Plan(plan.action)
                if plan.signo:
                    s.passing[tid] = plan.signo
                    if plan.siginfo is not None:
                        s.passing_info[tid] = plan.siginfo
            if leave_group_stop:
                # gdb's resume leaves a group stop, as a ptrace restart does
                # natively: a SIGCONT to the process, delivered without a stop
                # by whichever thread takes it.
                s.conts += 1
            atts = {tid: s.atts[tid] for tid in release}
        if leave_group_stop:
            try:
                os.kill(self.pid, signal.SIGCONT)
            except OSError:
                pass
        for tid, plan in release.items():
            if plan.signo:
                # The signal gdb passes: queued now, delivered as the thread
                # resumes (report_signal sees it in `passing`).
                try:
                    kernel.tgkill(self.pid, tid, plan.signo)
                except OSError:
                    pass
        for att in atts.values():
            try:
                att.control(Resume.REPORT)
            except UtraceError:
                pass  # died meanwhile: its death report says so
        return True

    def detach(self) -> None:
        """This engine lets go of every thread; the others' engines go on."""
        self.detached = True
        for att in self.attachments():
            try:
                att.control(Resume.DETACH)
            except UtraceError:
                pass
        with self.cond:
            self.state.atts.clear()
            self.state.held.clear()
            self.cond.notify_all()

    def others_attached(self) -> bool:
        """Is any other engine attached to a thread of the process?"""
        return self.call(self._others_attached)

    def _others_attached(self) -> bool:
        """(On the tracer thread: the threads and their attachments are its tables.)"""
        return any(att.engine is not self and not att.detached
                   for thread in self.process.threads.values() for att in thread.attachments)

    # -- parking (either thread) ------------------------------------------------------
    def _park_all(self) -> None:
        with self.cond:
            s = self.state
            # An unborn thread gets no STOP: the core would carry it out at the
            # birth without a report; its pending REPORT (report_clone) makes the
            # birth a quiesce report instead, where _answer holds it.
            others = [(tid, att) for tid, att in s.atts.items()
                      if tid not in s.held and tid not in s.unborn]
        for tid, att in others:
            self._park(tid, att)

    def _park(self, tid: int, att: Attachment) -> None:
        try:
            att.control(Resume.STOP)
        except InProgressError:
            return  # stops at its next report: report_quiesce confirms
        except UtraceError:
            return  # dying: its death report removes it
        with self.cond:
            self.state.held.add(tid)
            self.cond.notify_all()
        self.notify()

    # -- callbacks (tracer thread) -----------------------------------------------------
    def _answer(self, tid: int, report: Report) -> Resume | None:
        """The answer of a report that is no stop for gdb: hold, release or resume."""
        with self.cond:
            s = self.state
            vfork_done = tid in s.vfork_waiting and tid in s.atts
            if vfork_done:
                s.vfork_waiting.discard(tid)
                att = s.atts[tid]
        if vfork_done:
            # The first report after a vfork gdb let go of: the child has exec'd or
            # exited, the memory is the parent's again (gdb re-inserts its traps).
            return self._stop_here(att, report, Stop(tid, 5, "vforkdone"))
        with self.cond:
            if tid in s.releasing:
                s.held.discard(tid)
                action = s.releasing.pop(tid)
                if tid in s.vforking:
                    # Still inside vfork() in the kernel, blocked until the child
                    # execs or exits: the REPORT asked at the vfork (report_clone)
                    # is reported at VFORK_DONE, and that report is the vforkdone.
                    # A step has nothing to step till then: gdb hears of vforkdone
                    # first and steps again, as with gdbserver.
                    s.vforking.discard(tid)
                    s.stepping.discard(tid)
                    s.vfork_waiting.add(tid)
                    return Resume.RESUME
                return action
            if tid in s.held:
                return Resume.STOP
            if not s.stopping:
                return None
        _prefetch(report)
        with self.cond:
            s.held.add(tid)
            self.cond.notify_all()
        self.notify()
        return Resume.STOP

    def _stop_here(self, att: Attachment, report: Report, stop: Stop) -> Resume:
        """This report is a stop gdb must hear of: hold this thread, then all."""
        tid = att.thread.tid
        _prefetch(report)
        if report.siginfo is not None and stop.siginfo is None:
            stop.siginfo = bytes(report.siginfo.raw)  # as the kernel gave it, for `$_siginfo`
        with self.cond:
            s = self.state
            s.releasing.pop(tid, None)
            s.held.add(tid)
            s.stepping.discard(tid)
            if not s.stopping:
                s.stopping = True
                s.releasing.clear()
            s.pending.append(stop)
            self.cond.notify_all()
        self._park_all()
        self.notify()
        return Resume.STOP

    def _parked(self, tid: int) -> bool:
        """Is a stop for gdb already under way (so this thread's own event waits)?"""
        with self.cond:
            return self.state.stopping or tid in self.state.held

    def report_quiesce(self, att: Attachment, report: Report):
        if report.event == Event.REAP:
            return None  # after report_death: nothing left to hold (or to count as held)
        with self.cond:
            self.state.unborn.discard(att.thread.tid)
        return self._answer(att.thread.tid, report)

    def report_breakpoint(self, att: Attachment, report: Report):
        tid = att.thread.tid
        if report.watchpoint is not None:
            kind = {"x": "hwbreak", "rw": "awatch"}.get(report.watchpoint.access, "watch")
            return self._stop_here(att, report, Stop(tid, 5, kind, report.address))
        # Even when another thread's stop came first, this hit is kept (the core
        # steps over the trap on resume, so it would not happen again); resume()
        # reports it next, or drops it if gdb has removed the breakpoint since.
        return self._stop_here(att, report, Stop(tid, 5, "swbreak", report.address))

    def report_step(self, att: Attachment, report: Report):
        tid = att.thread.tid
        with self.cond:
            asked = tid in self.state.stepping
        if not asked:
            return self._answer(tid, report)
        return self._stop_here(att, report, Stop(tid, 5))

    def report_signal(self, att: Attachment, report: Report):
        tid = att.thread.tid
        if report.signal_action == SignalAction.REPORT:  # an interrupt, no signal
            return self._answer(tid, report)
        signo = report.signo
        with self.cond:
            s = self.state
            passing = s.passing.get(tid) == signo
            info = None
            if passing:
                del s.passing[tid]
                info = s.passing_info.pop(tid, None)
            elif signo == signal.SIGCONT and s.conts:
                s.conts -= 1  # ours, from resume(): leaving a group stop
                passing = True
        if info is not None and len(info) == len(report.siginfo.raw):
            # The signal is re-sent with tgkill (SI_TKILL, our pid): it is
            # delivered with the siginfo gdb saw or wrote instead (the core
            # sets a report's changed siginfo), as natively.
            report.siginfo.raw[:] = info
        if passing or signo in self.pass_signals:
            if signo in STOP_SIGNALS:
                self.stop_signal = signo  # what gdb is told the group stopped with
            answer = self._answer(tid, report)
            return (Resume.RESUME if answer is None else answer), SignalAction.DELIVER
        # gdb decides at its resume whether the program gets it (`C sig`):
        # until then it is held back (and re-sent then, see resume()).
        return self._stop_here(att, report, Stop(tid, signo)), SignalAction.IGN

    def report_jctl(self, att: Attachment, report: Report):
        """A group stop is a stop for gdb (with its stop signal), as natively."""
        tid = att.thread.tid
        stopped = report.jctl == JobControl.STOPPED
        with self.cond:
            if stopped:
                self.state.group_stopped.add(tid)
            else:
                self.state.group_stopped.discard(tid)
        if not stopped or self._parked(tid):
            return self._answer(tid, report)
        return self._stop_here(att, report, Stop(tid, self.stop_signal))

    def report_exec(self, att: Attachment, report: Report):
        """The program was replaced: with `exec-events`, gdb hears of it (and reloads)."""
        tid = att.thread.tid
        with self.cond:
            s = self.state
            self.execs += 1
            old = report.old_tid
            if old is not None and old != tid:
                # A non-leader thread exec'd and took the leader's tid: same thread for us.
                s.atts.pop(old, None)
                s.atts[tid] = att
                for tids in (s.held, s.resumed):
                    if old in tids:
                        tids.discard(old)
                        tids.add(tid)
                if old in s.releasing:
                    s.releasing[tid] = s.releasing.pop(old)
        if not self.exec_events or self._parked(tid):
            return self._answer(tid, report)
        try:
            path = os.readlink(f"/proc/{self.pid}/exe").encode()
        except OSError:
            path = b""
        return self._stop_here(att, report, Stop(tid, 5, "exec", path))

    def _catches(self, nr: int) -> bool:
        caught = self.catch_syscalls
        return caught is not None and (not caught or nr in caught)

    def report_syscall_entry(self, att: Attachment, report: Report):
        nr = report.syscall.nr
        self.in_syscall[att.thread.tid] = nr  # the exit stop does not say which call
        if report.resumed or not self._catches(nr) or self._parked(att.thread.tid):
            return self._answer(att.thread.tid, report)
        return self._stop_here(att, report, Stop(att.thread.tid, 5, "syscall_entry", nr))

    def report_syscall_exit(self, att: Attachment, report: Report):
        nr = self.in_syscall.pop(att.thread.tid, -1)
        if not self._catches(nr) or self._parked(att.thread.tid):
            return self._answer(att.thread.tid, report)
        return self._stop_here(att, report, Stop(att.thread.tid, 5, "syscall_return", nr))

    def report_clone(self, att: Attachment, report: Report):
        child = report.child
        if child is None or self.detached:
            return self._answer(att.thread.tid, report)
        if report.clone_kind == "thread":
            # Held by the core until we return, so it misses nothing; held by
            # us too if gdb is looking at a stopped process.
            with self.cond:
                if att.thread.tid in self.state.resumed:
                    self.state.resumed.add(child.tid)  # running, as far as gdb knows
            if self._adopt(child) is not None and self.thread_events:
                # QThreadEvents: gdb hears of the new thread at its creation
                # (`create:`, its thread), as gdbserver tells it: in creation
                # order, once the child is born and held like every thread.
                return self._stop_here(att, report, Stop(child.tid, 5, "create"))
        elif (self.fork_events and report.clone_kind in ("fork", "clone")
              or self.vfork_events and report.clone_kind == "vfork"):
            # A new process gdb hears of (`fork:`/`vfork:` stop reply): its own
            # engine holds it from its first stop until gdb resumes or detaches it.
            forked = self.forked(child.process)
            if forked._adopt(child) is not None:
                kind = "vfork" if report.clone_kind == "vfork" else "fork"
                if kind == "vfork":
                    self._report_at_vfork_done(att)
                return self._stop_here(att, report, Stop(att.thread.tid, 5, kind, forked))
        return self._answer(att.thread.tid, report)

    def _report_at_vfork_done(self, att: Attachment) -> None:
        """Ask, at the vfork itself, for a report when the parent leaves vfork().

        Only a REPORT asked during the vfork's report_clone is carried to
        VFORK_DONE by the core (as utrace does).  One asked later, when gdb
        lets the parent go, is an interrupt, and the kernel's VFORK_DONE stop
        clears a pending interrupt trap ("any trap clears pending STOP trap",
        ptrace_stop): the report would come only at the parent's next stop, a
        SIGCHLD in waitpid() maybe, and gdb would hear of vforkdone there.
        Our STOP answer holds the parent for gdb meanwhile.
        """
        with self.cond:
            self.state.vforking.add(att.thread.tid)
        try:
            att.control(Resume.REPORT)
        except UtraceError:
            pass  # dying: its death report says so

    def forked(self, process: Process) -> GdbEngine:
        """The engine of a child process: this connection's, with this one's settings."""
        engine = GdbEngine(process, self.call, notify=self.notify, label=self.name)
        engine.pass_signals, engine.catch_syscalls = self.pass_signals, self.catch_syscalls
        engine.exec_events, engine.fork_events = self.exec_events, self.fork_events
        engine.vfork_events, engine.thread_events = self.vfork_events, self.thread_events
        engine.state.stopping = True  # gdb sees it stopped: held from its birth
        return engine

    def _adopt(self, child: Thread) -> Attachment | None:
        """Attach to a new thread (of ours or of a new process), held if gdb is stopping."""
        with self.cond:
            self.state.unborn.add(child.tid)
        child_att = self._attach(child, hold=False)
        if child_att is not None:
            # A STOP asked before the child's first stop would be carried out
            # silently (the core reports nothing at a birth); REPORT makes the
            # birth a quiesce report, where _answer holds it if gdb is stopping.
            try:
                child_att.control(Resume.REPORT)
            except UtraceError:
                pass
        return child_att

    def report_death(self, att: Attachment, report: Report):
        tid = att.thread.tid
        with self.cond:
            s = self.state
            s.atts.pop(tid, None)
            s.held.discard(tid)
            s.stepping.discard(tid)
            s.releasing.pop(tid, None)
            s.passing.pop(tid, None)
            s.passing_info.pop(tid, None)
            s.unborn.discard(tid)
            s.group_stopped.discard(tid)
            s.vforking.discard(tid)
            s.vfork_waiting.discard(tid)
            if tid == self.pid and report.old_tid is None:  # not an exec's leader swap
                s.pending.clear()  # whatever else happened, gdb hears the end
                s.pending.append(Stop(tid, exited=True, status=report.exit_code))
            # (Another thread's end is no stop for gdb, even with QThreadEvents: gdb
            # 13 takes a `w` stop reply only in non-stop mode, "Invalid remote reply"
            # in all-stop; it learns of the end from the thread list.)
            self.cond.notify_all()
        self.notify()


def _prefetch(report: Report) -> None:
    """Load the thread's other regsets (x87/SSE...) now, on the tracer thread.

    The core reads them lazily with ptrace, which only the tracer thread may
    call; gdb's `g` comes on the connection's thread.  Loaded once per stop
    into the thread's registers, they serve every engine until it resumes.
    """
    try:
        regs = report.regs
        for note in regs.arch.extra_regsets:
            regs.regset(note)
    except (OSError, UtraceError, LookupError):
        pass  # unavailable (xx) for this stop; the general registers still are
