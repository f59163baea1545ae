"""The torture driver's engines: a census that counts, and the engines of chaos.

Every engine here is a plain client of the public API.  Callbacks never
block (they run on the tracer thread); what the chaos thread needs to know
it learns from counters under a condition variable.
"""

from __future__ import annotations

import collections
import os
import signal
import sys
import threading

from pydbg_utrace import Engine, Event, NoSuchThreadError, Resume

LIFE = Event.CLONE | Event.EXEC | Event.EXIT | Event.DEATH | Event.REAP
FAULTS = {signal.SIGSEGV, signal.SIGILL, signal.SIGBUS, signal.SIGFPE}
SI_KERNEL = 0x80  # si_code of a SIGTRAP the kernel sends for an int3 nobody claimed


class Progress:
    """A count of reports that the chaos thread can wait on (bounded)."""

    def __init__(self) -> None:
        self.count = 0
        self.finished = False
        self._cond = threading.Condition()

    def tick(self) -> None:
        with self._cond:
            self.count += 1
            self._cond.notify_all()

    def finish(self) -> None:
        with self._cond:
            self.finished = True
            self._cond.notify_all()

    def wait_for(self, more: int, timeout: float) -> bool:
        """Wait until ``more`` reports came (True), or the run ended / timeout (False)."""
        with self._cond:
            goal = self.count + more
            return self._cond.wait_for(lambda: self.count >= goal or self.finished, timeout) \
                and not self.finished


class Follower(Engine):
    """Attaches itself to every new thread (and, if asked, forked process) it hears of."""

    events = Event.CLONE

    def __init__(self, follow_forks: bool = False) -> None:
        self.follow_forks = follow_forks
        self.attachments: list = []
        self.lock = threading.Lock()

    def attach_to(self, thread):
        att = thread.attach(self)
        att.set_events(self.events)
        with self.lock:
            self.attachments.append(att)
        return att

    def report_clone(self, att, report):
        if report.clone_kind == "thread" or self.follow_forks:
            try:
                self.follow(report.child, report.clone_kind)
            except NoSuchThreadError:
                pass  # killed before it ran
        self.on_child(report.child, report.clone_kind)

    def follow(self, child, kind: str) -> None:
        """Attach to a new thread or process (``kind`` as in ``report.clone_kind``)."""
        self.attach_to(child)

    def on_child(self, child, kind: str) -> None:
        """Hook: ``child`` was just created."""

    def live_attachments(self) -> list:
        with self.lock:
            return [att for att in self.attachments
                    if not att.detached and att.thread.alive]


class Census(Follower):
    """Counts every thread's lifecycle reports and every SIGTRAP shown to engines.

    Keyed by the ``Thread`` object, not the tid: after an exec from a non-leader
    thread the execing thread takes the leader's tid, and both threads must
    still be told of their own DEATH and REAP once.
    """

    name = "census"
    events = LIFE | Event.SIGNAL_ALL

    def __init__(self, follow_forks: bool = False) -> None:
        super().__init__(follow_forks)
        self.progress = Progress()
        self.threads: dict[int, tuple[object, int, str]] = {}  # id -> (thread, tid, how seen)
        self.deaths: collections.Counter = collections.Counter()
        self.reaps: collections.Counter = collections.Counter()
        self.exits: collections.Counter = collections.Counter()
        self.execs: list[tuple[int, int]] = []  # (tid now, tid that called execve)
        self.sigtraps: list[tuple[int, int]] = []  # (tid, si_code)
        self.faults: list[tuple[int, str, int | None]] = []  # (tid, SIGSEGV..., pc)
        self.signals: collections.Counter = collections.Counter()
        self.processes = 1
        self.main_pid = 0  # the storm's pid: its group's death ends the run

    def note(self, thread, how: str) -> None:
        with self.lock:
            self.threads.setdefault(id(thread), (thread, thread.tid, how))

    def attach_to(self, thread, how: str = "initial"):
        att = super().attach_to(thread)
        self.note(thread, how)
        return att

    def follow(self, child, kind: str) -> None:
        self.attach_to(child, f"{kind} child")

    def on_child(self, child, kind: str) -> None:
        if kind != "thread":
            self.processes += 1
        self.progress.tick()

    def report_exec(self, att, report):
        self.execs.append((report.thread.tid, report.old_tid))
        self.progress.tick()

    def report_exit(self, att, report):
        self.exits[id(report.thread)] += 1
        self.progress.tick()

    def report_death(self, att, report):
        self.deaths[id(report.thread)] += 1
        self.progress.tick()
        process = report.thread.process
        if report.group_dead and process is not None and process.pid == self.main_pid:
            self.progress.finish()

    def report_reap(self, att, report):
        self.reaps[id(report.thread)] += 1
        self.progress.tick()

    def report_signal(self, att, report):
        signo = report.signo
        self.signals[signo] += 1
        if signo == signal.SIGTRAP:
            self.sigtraps.append((report.thread.tid, report.siginfo.code))
        elif signo in FAULTS and len(self.faults) < 5:
            # The storm never faults: where it did says what went wrong.
            try:
                pc = report.regs.pc
            except Exception:  # a dying thread: the signal alone says enough
                pc = None
            name = signal.Signals(signo).name
            if pc is not None:
                try:
                    name += f" ({_where(report.thread.process.pid, pc, report)})"
                except Exception:  # noqa: BLE001 -- the where is a bonus; never lose the fault
                    pass
            self.faults.append((report.thread.tid, name, pc))
        self.progress.tick()


class Churner(Follower):
    """Owns the breakpoints the chaos thread inserts and removes; counts the hits."""

    name = "churner"
    events = Event.CLONE | Event.BREAKPOINT

    def __init__(self) -> None:
        super().__init__()
        self.hits = 0
        self.wrong_pc: list[str] = []
        self.leaving = False  # detaching everywhere: follow no new thread
        self.progress: Progress | None = None

    def report_clone(self, att, report):
        if not self.leaving:
            return super().report_clone(att, report)
        return None

    def report_breakpoint(self, att, report):
        self.hits += 1
        if self.progress is not None:
            self.progress.tick()  # the chaos paces itself on hits too
        if report.watchpoint is None and report.regs.pc != report.address and \
                len(self.wrong_pc) < 5:
            self.wrong_pc.append(f"thread {report.thread.tid} pc {report.regs.pc:#x} "
                                 f"at breakpoint {report.address:#x}")


class Holder(Engine):
    """Holds one thread with STOP from another Python thread, then lets it go."""

    name = "holder"

    def __init__(self) -> None:
        self.halted = threading.Event()
        self.holding = True  # cleared before the release: later quiesces must not re-stop

    def report_quiesce(self, att, report):
        if not self.holding:
            return None
        self.halted.set()
        return Resume.STOP


class Stepper(Engine):
    """Single-steps one thread from the chaos thread: each step ends held again."""

    name = "stepper"

    def __init__(self) -> None:
        self.halted = threading.Event()
        self.holding = True
        self.steps = 0

    def report_quiesce(self, att, report):
        if not self.holding:
            return None
        self.halted.set()
        return Resume.STOP

    def report_step(self, att, report):
        self.steps += 1
        if not self.holding:
            return None
        self.halted.set()
        return Resume.STOP


class Visitor(Engine):
    """Attaches for a while with a random event mask and counts what it hears."""

    name = "visitor"

    def __init__(self) -> None:
        self.heard = 0

    def _hear(self, att, report):
        self.heard += 1

    report_quiesce = report_signal = report_clone = report_exec = _hear
    report_syscall_entry = report_syscall_exit = report_exit = report_death = _hear


class Raiser(Engine):
    """Fault injection: raises in the callback ``where`` (the core must detach it)."""

    def __init__(self, where: str, exc: type[BaseException] = RuntimeError) -> None:
        self.where = where
        self.exc = exc
        self.name = f"raiser-{exc.__name__}-{where}"
        self.calls = 0

        def boom(att, report):
            self.calls += 1
            if self.exc is SystemExit:
                sys.exit(3)  # what a script engine might do
            raise self.exc(f"torture: injected fault in {where}")

        setattr(self, f"report_{where}", boom)


FAULT_EVENTS = {
    "syscall_entry": Event.SYSCALL_ENTRY,
    "syscall_exit": Event.SYSCALL_EXIT,
    "signal": Event.SIGNAL_ALL,
    "clone": Event.CLONE,
    "exit": Event.EXIT,
    "quiesce": Event.QUIESCE | Event.EXIT,
}


def _where(pid: int, pc: int, report) -> str:
    """Which file and offset ``pc`` is in, the fault address and the stack pointer."""
    place = "?"
    try:
        with open(f"/proc/{pid}/maps") as maps:
            for row in maps:
                fields = row.split()
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if start <= pc < end:
                    path = fields[5] if len(fields) > 5 else "[anon]"
                    place = f"{os.path.basename(path)}+{pc - start + int(fields[2], 16):#x}"
                    break
    except OSError:
        pass
    addr = int.from_bytes(bytes(report.siginfo.raw[16:24]), "little")  # si_addr
    return f"{place}, si_addr {addr:#x}, sp {report.regs.sp:#x}"
