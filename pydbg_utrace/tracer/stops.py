"""The stop handlers: one per kind of ptrace stop, each ending in the resumer.

``on_status`` takes a wait status of a known (or new) thread; ``on_stop``
resets what a stop resets and picks the handler by the stop's kind; each
handler builds the utrace event's report, runs it through the reporter,
and resumes.  Deaths and reaping are here too.  Nothing here names a
service: breakpoints and watchpoints hear of births, clones, vforks, execs
and their hits (a SIGTRAP: :meth:`Stops.on_trap`) through
:class:`pydbg_utrace.hooks.Hooks`.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
from collections.abc import Callable

from .. import kernel, procfs, signals
from ..engine import Report
from ..events import Event, JobControl, Resume, SyscallAction
from ..hooks import Hooks
from ..process import Process, State, Thread
from ..seams import ApiSide
from ..stopkinds import CLONE_EVENTS, CLONE_HOLD, StopKind, stop_kind
from . import ports
from .tables import Tables

log = logging.getLogger("pydbg_utrace")
# si_code of the exit stop's siginfo (ptrace_event: SIGTRAP | PTRACE_EVENT_EXIT << 8)
EXIT_STOP_CODE = signal.SIGTRAP | kernel.PTRACE_EVENT_EXIT << 8


class Stops:
    """Handles every stop the loop does not leave to the fast lane."""

    def __init__(self, api: ApiSide, tables: Tables, hooks: Hooks,
                 trap_tables: ports.TrapTables) -> None:
        self.api = api
        self.trap_tables = trap_tables
        self.tables = tables
        self.hooks = hooks
        #: stopkinds.StopKind -> its handler, called with (thread, signal, event).
        self.handlers: dict[StopKind, Callable[[Thread, int, int], None]] = {
            StopKind.SYSCALL: lambda thread, sig, event: self.on_syscall(thread),
            StopKind.SIGNAL: lambda thread, sig, event: self.on_signal_stop(thread, sig),
            StopKind.GROUP_STOP: lambda thread, sig, event: self.on_group_stop(thread),
            StopKind.EVENT_STOP: lambda thread, sig, event: self.on_event_stop(thread, sig),
            StopKind.CLONE: lambda thread, sig, event: self.on_clone(thread, event),
            StopKind.EXEC: lambda thread, sig, event: self.on_exec(thread),
            StopKind.EXIT: lambda thread, sig, event: self.on_exit(thread),
            StopKind.VFORK_DONE: lambda thread, sig, event: self.on_vfork_done(thread),
            StopKind.SECCOMP: lambda thread, sig, event: self.seccomp.on_seccomp(thread),
            StopKind.OTHER: lambda thread, sig, event: self.resumer.resume(thread),
        }

    def connect(self, reporter: ports.Reporting, resumer: ports.Resuming,
                traps: ports.TrapHandling, lifecycle: ports.Letting,
                control: ports.Detaching, seccomp_stops: ports.SeccompSide) -> None:
        self.reporter = reporter
        self.seccomp = seccomp_stops
        self.resumer = resumer
        self.traps = traps
        self.lifecycle = lifecycle
        self.control = control

    def on_status(self, tid: int, status: int) -> None:
        thread = self.tables.threads.get(tid)
        if thread is None and tid in self.tables.let_go_children and not os.WIFSTOPPED(status):
            # A program we launched and then detached from: we are still its
            # parent, so its exit status is ours to pass on to process.wait().
            self.tables.let_go_children.pop(tid).record_exit(status)
            return
        if thread is None:
            # An auto-attached child reporting before its creator's clone event:
            # hold it until the creator's report_clone has run.
            thread = Thread(self.api, tid, None)
            thread.holds.add(CLONE_HOLD)
            self.tables.threads[tid] = thread
        if os.WIFSTOPPED(status):
            self.on_stop(thread, status)
        else:
            self.on_death(thread, status)

    def adopt(self, thread: Thread) -> None:
        """A thread of a traced process we learn of without its clone event."""
        process = self.tables.processes.get(procfs.tgid(thread.tid))
        if process is not None:
            thread.process = process
            process.threads[thread.tid] = thread

    def on_stop(self, thread: Thread, status: int) -> None:
        thread.state = State.STOPPED
        if thread.lane is not None:  # any stop but a known syscall stop forgets the parity
            thread.lane.next_op = thread.lane.op = 0
        sig = os.WSTOPSIG(status)
        event = kernel.event_of(status)
        thread.stop.reset(jobctl=event == kernel.PTRACE_EVENT_STOP)
        if not thread.stop.jobctl and not (event == 0 and sig == signal.SIGTRAP) \
                and thread.process is not None:
            # Proof that it owes no late trap hit (a SIGTRAP may be one: it is
            # looked at first, in on_signal_stop).
            thread.process.settled(thread.tid)
        kind = stop_kind(status)
        if not thread.born:
            thread.born = True
            if kind is StopKind.EVENT_STOP:
                self.on_birth(thread)
                return
            # A first stop carrying a stop signal: born into a stopped group,
            # it is a group-stop (reported, parked with LISTEN), not a birth.
        try:
            self.handlers[kind](thread, sig, event)
        except kernel.NoSuchProcessError:
            # A request on it failed with ESRCH: SIGKILL (an execve's, a group exit's)
            # took it out of this stop.  Its exit stop or death follows, and decides
            # (torture O: a register read was logged as a tracer bug).
            if thread.state == State.STOPPED:
                thread.state = State.RUNNING

    # -- stops -----------------------------------------------------------------------
    def on_birth(self, thread: Thread) -> None:
        """The first stop of an auto-attached child."""
        if thread.detach_when_stopped:
            self.lifecycle.let_go(thread)
        else:
            self.hooks.new_thread(thread)
            self.resumer.resume(thread)

    def on_syscall(self, thread: Thread) -> None:
        try:
            info = kernel.get_syscall_info(thread.tid)
        except kernel.NoSuchProcessError:
            return  # killed (a group exit) since it stopped: its exit stop follows
        entry, thread.syscall = thread.syscall, info
        if thread.lane is not None:
            thread.lane.op = info.op  # a plain resume from here lets the lane know the next
        report = Report(self.api, thread, Event.NONE)
        report.syscall = info
        if info.op == kernel.PTRACE_SYSCALL_INFO_EXIT:
            # The kernel gives an exit stop no number: the entry's, carried over
            # (when we never saw the entry -- attached meanwhile, or the launch's
            # execve -- from the registers where they still hold it, else -1).
            if entry is not None and entry.op != kernel.PTRACE_SYSCALL_INFO_EXIT:
                info.nr, info.args = entry.nr, entry.args
            else:
                nr = thread.arch.syscall_number_at_exit(self.resumer.registers(thread))
                info.nr = -1 if nr is None else nr
                if thread.lane is not None:  # (maybe the lane's unread entry: read the next)
                    thread.lane.fetch_entry = True
            if thread.abort_result is not None:
                value, err = thread.abort_result
                thread.abort_result = None
                self.resumer.registers(thread)
                thread.arch.set_syscall_result(thread.stop.regs, value, err)
            report.event = Event.SYSCALL_EXIT
            scope = thread.syscall_scope
            self.reporter.report(thread, report, Event.SYSCALL_EXIT,
                                 attachments=None if scope is None
                                 else scope.exit_audience(thread.attachments, info.nr))
        else:
            self.report_syscall_entry(thread, report, at_entry_stop=True)
        self.resumer.resume(thread)

    def report_syscall_entry(self, thread: Thread, report: Report,
                              at_entry_stop: bool = False) -> None:
        report.event = Event.SYSCALL_ENTRY
        report.syscall_action = SyscallAction.RUN
        scope = thread.syscall_scope  # seccomp hook: who hears this call, is its exit wanted
        self.reporter.report(thread, report, Event.SYSCALL_ENTRY, attachments=None if scope is None
                     else scope.entry_audience(thread.attachments, report.syscall.nr,
                                               at_entry_stop))
        self.after_entry_report(thread, report)

    def after_entry_report(self, thread: Thread, report: Report) -> None:
        if report.syscall_action == SyscallAction.ABORT:
            thread.arch.abort_syscall(self.resumer.registers(thread))
            if thread.abort_result is None:
                thread.abort_result = (0, errno.ENOSYS)

    def on_signal_stop(self, thread: Thread, sig: int) -> None:
        try:
            info = kernel.get_siginfo(thread.tid)
        except kernel.NoSuchProcessError:
            return  # killed meanwhile: its death follows
        if info.signo == signal.SIGTRAP and info.code == EXIT_STOP_CODE:
            # SIGKILL (an execve's, a group exit's) took it from this stop to its exit
            # stop since it was reported: the siginfo is the exit stop's.  Resumed from
            # here, the SIGTRAP went to engines and the exit was never reported (torture M).
            self.on_exit(thread)
            return
        artificial = thread.artificial
        if artificial is not None and sig == artificial.signo \
                and info.code == kernel.SI_TKILL and info.pid == os.getpid():
            thread.artificial = None  # ours, already decided: deliver it as the engine set it
            if bytes(artificial.raw) != bytes(info.raw):
                kernel.set_siginfo(thread.tid, artificial)
            thread.stop.inject = sig
            self.resumer.resume(thread)
            return
        if sig == signal.SIGTRAP and self.on_trap(thread, info):
            return
        thread.stepping = False
        natural = signals.disposition(sig, *signals.read_masks(thread.tid))
        event = signals.EVENT_OF_ACTION.get(natural, Event.SIGNAL)
        report = Report(self.api, thread, event)
        report.siginfo = info
        report.signal_action = natural
        original = bytes(info.raw)
        decision = self.reporter.report(thread, report, event)
        signo = report.siginfo.signo
        if bytes(report.siginfo.raw) != original:
            kernel.set_siginfo(thread.tid, report.siginfo)
        if decision.hold:
            thread.stop.inject = 0
            self.resumer.resume(thread)
            if thread.state == State.RUNNING:
                kernel.tgkill(thread.process.pid, thread.tid, signo)
            return
        thread.stop.inject = signals.signal_to_inject(report.signal_action, signo, natural)
        self.resumer.resume(thread)

    def on_trap(self, thread: Thread, info: kernel.Siginfo) -> bool:
        """A SIGTRAP: ours (a trap, a step's end, a service's hit)?  Then it is handled."""
        if self.traps.on_late_trap_hit(thread, info):
            return True  # a hit of a trap removed since: rewound, resumed, nobody told
        if self.traps.on_software_step_end(thread, info):
            return True  # the traps planted for a software step: it ended there
        # Did a single step end here?  Asked before a service rewinds a hit: a step
        # that executed one of our traps instead of its instruction has not ended
        # (torture FOUND F); it goes on over the trap from the rewound PC.
        stepped = thread.stepping and kernel.sent_by_kernel(info.code) \
            and not self.traps.stepped_into_trap(thread, info)
        claimed = self.hooks.trap(thread, info)  # a breakpoint's or a watchpoint's hit
        if stepped:  # (a watchpoint the stepped instruction hit is reported first)
            thread.stepping = False
            self.on_step(thread)
            return True
        if claimed:
            thread.stepping = False  # (a hit mid-step: the step is still owed)
            self.resumer.resume(thread)
        return claimed

    def on_step(self, thread: Thread) -> None:
        if self.trap_tables.live(thread.process) is not None:
            pc = self.resumer.registers(thread).pc
            if self.trap_tables.trap_at(thread.process, pc) is not None:
                # Stepped onto a trap it has not executed: resuming must step over
                # it (else the next single step runs int3 and "ends" one byte on).
                thread.at_trap = pc
        steppers = [att for att in thread.steppers if not att.detached]
        thread.steppers = []
        report = Report(self.api, thread, Event.STEP)
        self.reporter.report(thread, report, Event.STEP, attachments=steppers)
        self.resumer.resume(thread)

    def on_event_stop(self, thread: Thread, sig: int) -> None:
        """A PTRACE_EVENT_STOP with SIGTRAP: an interrupt, or a listener's notification."""
        if thread.group_stopped:
            # A PTRACE_LISTEN tracee trapped: the group continued (SIGCONT).
            thread.group_stopped = False
            report = Report(self.api, thread, Event.JCTL)
            report.jctl = JobControl.CONTINUED
            self.reporter.report(thread, report, Event.JCTL)
        interrupt = thread.interrupt_report
        thread.interrupt_report = False
        if interrupt:
            self.reporter.quiesce_pass(thread, interrupt=True)
        elif thread.holds:  # a STOP asked while it ran: this stop is its report
            if thread.pending == Resume.REPORT:
                thread.pending = Resume.RESUME  # (a REPORT's too: told once)
            self.reporter.quiesce_pass(thread, interrupt=False)
        # (A REPORT asked while it ran is paid by the resume, once.)
        self.resumer.resume(thread)

    def on_group_stop(self, thread: Thread) -> None:
        first = not thread.group_stopped
        thread.group_stopped = True
        interrupt = thread.interrupt_report
        thread.interrupt_report = False
        if first:
            report = Report(self.api, thread, Event.JCTL)
            report.jctl = JobControl.STOPPED
            self.reporter.report(thread, report, Event.JCTL)
        if interrupt or thread.holds:  # an interrupt or STOP asked while it was stopping
            self.reporter.quiesce_pass(thread, interrupt)
        self.resumer.resume(thread)

    def on_clone(self, parent: Thread, event: int) -> None:
        child_tid = kernel.get_event_msg(parent.tid)
        kind = CLONE_EVENTS[event]
        child = self.tables.threads.get(child_tid)
        if child is None:
            child = Thread(self.api, child_tid, None)
            self.tables.threads[child_tid] = child
        child.holds.add(CLONE_HOLD)
        if kind == "clone" and procfs.tgid(child_tid) == parent.process.pid:
            kind = "thread"
        if kind == "thread":
            child.process = parent.process
        else:
            child.process = Process(self.api, child_tid, is_child=False)
            child.process.syscall_filter = parent.process.syscall_filter  # fork keeps a filter
            self.tables.processes[child_tid] = child.process
        child.process.threads[child_tid] = child
        if kind == "vfork":
            self.on_vfork(parent, child_tid)  # the child borrows the memory
        report = Report(self.api, parent, Event.CLONE)
        report.child = child
        report.clone_kind = kind
        self.reporter.report(parent, report, Event.CLONE)
        if kind == "vfork" and parent.pending == Resume.REPORT:
            # utrace reports a REPORT asked at a vfork once the parent leaves
            # its vfork wait: here, at PTRACE_EVENT_VFORK_DONE.
            parent.pending = Resume.RESUME
            parent.report_at_vfork_done = True
        child.holds.discard(CLONE_HOLD)
        self.hooks.cloned(parent, child, kind)  # (a fork child's copies of our traps)
        if kind != "thread" and not child.attachments and child.process.syscall_filter is None:
            # (A child with a seccomp filter stays traced, cheaply: untraced, its
            # filtered calls would fail with ENOSYS.)
            self.forget_process(child.process)
        elif child.born and child.state == State.STOPPED:
            self.hooks.new_thread(child)  # born before this report
            self.resumer.resume(child)
        self.resumer.resume(parent)

    def on_vfork(self, parent: Thread, child_tid: int) -> None:
        """The vfork child borrows the parent's memory, traps and all, until it execs or exits."""
        parent.vfork_child = child_tid
        self.hooks.vfork_started(parent)

    def on_vfork_done(self, thread: Thread) -> None:
        thread.vfork_child = None
        self.hooks.vfork_done(thread)  # its memory is its own again
        if thread.report_at_vfork_done:
            thread.report_at_vfork_done = False
            self.reporter.quiesce_pass(thread, interrupt=False)
        self.resumer.resume(thread)

    def forget_process(self, process: Process) -> None:
        """No engine wants this new process: let it run untraced."""
        self.tables.processes.pop(process.pid, None)
        for thread in list(process.threads.values()):
            if thread.born and thread.state == State.STOPPED:
                self.lifecycle.let_go(thread)
            else:
                thread.detach_when_stopped = True

    def on_exec(self, thread: Thread) -> None:
        old_tid = kernel.get_event_msg(thread.tid)
        process = thread.process
        # First: the old address space, and our traps in it, are gone (and exec cleared
        # the debug registers) -- before the old leader's attachments leave below, or an
        # engine's breakpoints would be "restored" into the new program (EFAULT, or old
        # bytes written over new code where the address is mapped again).
        process.exec_happened()
        self.hooks.exec(process)
        if old_tid != thread.tid and old_tid in self.tables.threads:
            # A non-leader thread called execve and took over the leader's tid:
            # the old leader is gone now (the kernel reports no death for it).
            execer = self.tables.threads.pop(old_tid)
            if not thread.death_reported:
                self.report_death(thread, 0, superseded_by=old_tid)
            self.reap_silently(thread)
            execer.tid = thread.tid
            execer.state, execer.born = State.STOPPED, True
            execer.stop.reset(jobctl=False)  # this stop is its own now
            self.tables.threads[thread.tid] = execer
            process.threads.pop(old_tid, None)
            process.threads[thread.tid] = execer
            thread = execer
        report = Report(self.api, thread, Event.EXEC)
        report.old_tid = old_tid
        self.reporter.report(thread, report, Event.EXEC)
        self.resumer.resume(thread)

    def on_exit(self, thread: Thread) -> None:
        if CLONE_HOLD in thread.holds:
            # Killed (a group exit) before its creator reported the clone: the
            # creator, killed too, may never report it.  Nothing to hold it for.
            thread.holds.discard(CLONE_HOLD)
            self.adopt(thread)
        report = Report(self.api, thread, Event.EXIT)
        try:
            report.exit_code = kernel.get_event_msg(thread.tid)
        except kernel.NoSuchProcessError:
            return
        self.reporter.report(thread, report, Event.EXIT)
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
        self.resumer.resume(thread)

    def release_at_exit(self, thread: Thread) -> None:
        """Detach a host child's leader from its exit stop; it is dead to us from here."""
        process = thread.process
        try:
            kernel.detach(thread.tid, 0)
        except kernel.NoSuchProcessError:
            pass
        others_live = any(t.alive for t in process.threads.values() if t is not thread)
        self.report_death(thread, thread.release_at_exit, group_dead=not others_live)
        self.reap_silently(thread)
        process.leader_released = True
        if not process.threads:
            self.tables.processes.pop(process.pid, None)
            process.record_exit(thread.release_at_exit)

    def on_death(self, thread: Thread, status: int) -> None:
        process = thread.process
        self.report_death(thread, status)
        self.reap_silently(thread)
        if process is not None and (thread.tid == process.pid
                                    or (process.leader_released and not process.threads)):
            self.tables.processes.pop(process.pid, None)
            process.record_exit(status)

    def report_death(self, thread: Thread, status: int, superseded_by: int | None = None,
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
        report = Report(self.api, thread, Event.DEATH)
        report.exit_code = status
        report.group_dead = group_dead
        report.old_tid = superseded_by
        self.reporter.report(thread, report, Event.DEATH)
        self.reporter.report(thread, Report(self.api, thread, Event.REAP), Event.REAP)

    def reap_silently(self, thread: Thread) -> None:
        for att in list(thread.attachments):
            self.control.detach_attachment(att)
        thread.state = State.GONE
        if thread.process is not None:
            thread.process.settled(thread.tid)  # gone: it owes no late trap hit
        if self.tables.threads.get(thread.tid) is thread:
            del self.tables.threads[thread.tid]
        if thread.process is not None and thread.process.threads.get(thread.tid) is thread:
            del thread.process.threads[thread.tid]
