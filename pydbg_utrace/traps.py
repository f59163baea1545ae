"""The tracer's trap handling: breakpoints, stepping over them, software steps, watchpoints.

A mixin of :class:`pydbg_utrace.tracer.Tracer` (it uses the tracer's state and
runs on the tracer thread only).  The rules of *who owns a trap* live in
:mod:`pydbg_utrace.breakpoints` and :mod:`pydbg_utrace.watchpoints`; this module
is about *when*: a hit, a step-over with the other threads held, planting and
clearing software-step traps, fork and vfork.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

from . import kernel, procfs, watchpoints
from .breakpoints import Breakpoint
from .engine import Attachment, Report
from .errors import NoSuchThreadError
from .events import Event
from .process import Process, State, Thread

log = logging.getLogger("pydbg_utrace")


class TrapHandling:
    """Breakpoint, step-over, software-step and watchpoint handling of the tracer."""

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

    def _on_late_trap_hit(self, thread: Thread, info: Any) -> bool:
        """A SIGTRAP: the late hit of a trap removed since?  Then rewind and resume silently.

        The thread executed the trap before its original went back; its PC
        is rewound so that it runs the original instruction, and no engine
        is told (the breakpoint is gone).  Any SIGTRAP stop settles the
        thread: it cannot owe another hit.
        """
        process = thread.process
        if process is None or not process.has_retired_traps():
            return False
        late = False
        if info.code == thread.arch.breakpoint_si_code:
            regs = self._registers(thread)
            address = regs.pc - thread.arch.breakpoint_pc_offset
            late = process.breakpoints.owes_hit(address)
            if late:
                regs.pc = address  # written back when it resumes
        process.settled(thread.tid)
        if late:
            self._resume(thread)
        return late

    def _stepped_into_trap(self, thread: Thread, info: Any) -> bool:
        """Did this single step execute one of our traps instead of an instruction?

        A trap planted under the PC of a stopped thread (it never hit it, so no
        step-over is due) is what its next step executes: the SIGTRAP is the
        trap's (its si_code, the PC just past it), the real instruction has not
        run.  Taken for the end of the step, the thread went on from the middle
        of that instruction (torture FOUND F: SIGSEGV at garbage PCs).  It is a
        hit; the step is still owed and goes on over the trap from the rewound PC.
        """
        process = thread.process
        if info.code != thread.arch.breakpoint_si_code or not process.has_traps():
            return False
        address = self._registers(thread).pc - thread.arch.breakpoint_pc_offset
        return process.breakpoints.trap_at(address) is not None

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
        process = thread.process
        if not process.has_traps() or process.breakpoints.trap_at(address) is None \
                or process.memory_lent():  # the original is in memory: nothing to step over
            return False
        return self._registers(thread).pc == address

    def _step_over(self, thread: Thread, report_step: bool) -> None:
        """Run the instruction under a trap with the trap lifted, the other threads held.

        Every other running thread of the process is interrupted first, so none
        can run past the lifted trap unseen; their stops are handled afterwards.
        """
        address = self._registers(thread).pc
        thread.stepping = False  # (a step owed from a step-over cut short is not: see below)
        held = self._hold_others(thread)
        if thread.state == State.HELD:
            # SIGKILL (an execve's or a group exit's) took it out of this stop into
            # its exit stop meanwhile (deferred): no instruction to step over now.
            thread.regs = None
            self._release_others(held)
            return
        table = thread.process.breakpoints
        regs = thread.regs
        if regs is not None and (regs.changed or regs.extra_changed):
            self._write_registers(thread, regs)
        thread.regs = None
        sig, thread.inject = thread.inject, 0
        table.lift(address)
        try:
            kernel.singlestep(thread.tid, sig)
            status = self._collect([thread]).get(thread)
        finally:
            table.lower(address)
        if status is None:  # a leader that died without a word (SIGKILL): its death follows
            thread.state = State.RUNNING
            self._release_others(held)
            return
        self._release_others(held)
        if (os.WIFSTOPPED(status) and kernel.event_of(status) == 0
                and os.WSTOPSIG(status) == signal.SIGTRAP):
            thread.state = State.STOPPED
            thread.jobctl_stop = False
            thread.process.settled(thread.tid)  # a step trap: it owes no late hit
            self._report_watchpoints(thread)  # watchpoint hook: the stepped write hit one
            if report_step:
                self._on_step(thread)
            else:
                self._resume(thread)
        else:
            # Not past it yet, or past it with the step's SIGTRAP still queued
            # behind a job-control trap (a SIGCONT/SIGSTOP from outside notifies
            # every seized thread, and that trap is taken first): if the PC has
            # not moved, the step-over is done again; if it has, the SIGTRAP that
            # follows ends this step (torture finding H: taken for a hit of the
            # trap one byte back, the instruction ran twice).
            thread.at_trap = address
            thread.stepping = kernel.event_of(status) == kernel.PTRACE_EVENT_STOP
            self._defer(thread, status)

    def _hold_others(self, thread: Thread) -> list[tuple[Thread, int]]:
        return self._hold(thread.process, thread, (State.RUNNING,))

    def _hold(self, process: Process, skip: Thread | None,
              states: tuple[State, ...]) -> list[tuple[Thread, int]]:
        """Interrupt the process's threads in ``states`` (but ``skip``) and wait for each.

        A thread past its exit stop is not waited for: it runs no more user
        code, and a zombie leader cannot report anything until every other
        thread is gone (waiting for it would wait for ever).  Nor is a thread
        inside vfork(): it runs no user code until its VFORK_DONE stop, and it
        cannot stop before its child has exec'd or exited -- a child whose own
        stops only the main loop, which would be the one waiting, handles.
        """
        others = [t for t in process.threads.values()
                  if t is not skip and t.born and t.state in states and not t.exited
                  and not (t.vfork_child is not None and t.state == State.RUNNING)]
        for other in others:
            self._interrupt(other)
        held = []
        for other, status in self._collect(others).items():
            other.state = State.HELD  # its status waits in `held`: nobody else may wait for it
            held.append((other, status))
        return held

    def _collect(self, threads: list[Thread]) -> dict[Thread, int]:
        """Wait until each of ``threads`` has reported a status; set others' aside.

        It waits for *any* tracee, never for one tid: a leader that becomes a
        zombie (SIGKILL skips the exit stop) reports nothing until the other
        threads are reaped, so waiting for it alone would wait for ever.  The
        leader is given up as soon as it is the last one pending and
        :meth:`Process.leader_cannot_report`; anything that makes it a zombie
        meanwhile also makes the other threads report (their deaths), which
        ends the wait and lets it look again.

        A thread may report twice: SIGKILL (an execve's, a group exit's) takes
        it out of the stop it reported into its exit stop; the later status is
        the one that holds.  And once an exit stop has come (here, or queued for
        the loop), a pending thread blocked in execve() is given up: execve
        kills the other threads and waits until they are reaped, which takes
        the exit stops that only the loop lets go, so it cannot report before
        (torture finding I).  It runs no old code again: the new image has
        none of our traps.
        """
        pending = {t.tid: t for t in threads}
        got: dict[Thread, int] = {}
        reported: dict[int, Thread] = {}
        exiting = self._exit_stop_queued()
        while pending:
            try:
                tid, status = kernel.wait_tracees(nohang=exiting or self._only_leader(pending))
                if tid == 0:  # nothing yet: drop who cannot report (/proc), then block
                    if not self._drop_unable_to_report(pending, exiting):
                        break
                    tid, status = kernel.wait_tracees()
            except ChildProcessError:
                break
            if tid in pending:
                reported[tid] = pending.pop(tid)
                got[reported[tid]] = status
            elif tid in reported:
                got[reported[tid]] = status  # SIGKILL took it out of the stop it reported
            else:
                self._set_aside(tid, status)
            exiting = exiting or _is_exit_stop(status)
        return got

    def _drop_unable_to_report(self, pending: dict[int, Thread], exiting: bool) -> bool:
        """Give up the pending threads that cannot report now; is any left to wait for?"""
        if exiting:
            for tid, thread in list(pending.items()):
                nr = procfs.blocked_in_syscall(tid)
                if nr is not None and thread.arch.syscall_name(nr) in _EXEC_CALLS:
                    del pending[tid]
        if self._only_leader(pending) \
                and pending[next(iter(pending))].process.leader_cannot_report():
            return False
        return bool(pending)

    def _exit_stop_queued(self) -> bool:
        """Is an exit stop waiting for the loop (a thread killed, by an execve say)?"""
        return any(_is_exit_stop(status) for _, status in self._deferred) \
            or any(_is_exit_stop(status) for _, status in self._strays)

    @staticmethod
    def _only_leader(pending: dict[int, Thread]) -> bool:
        """Is a process's leader the one thread still pending?"""
        if len(pending) != 1:
            return False
        (last,) = pending.values()
        return last.process is not None and last.tid == last.process.pid

    def _set_aside(self, tid: int, status: int) -> None:
        """A status of another tracee, met while waiting for some: handled next by the loop."""
        if tid == self._waker:
            self._on_waker(status)
            return
        thread = self._threads.get(tid)
        if thread is not None and thread.state not in (State.HELD, State.GONE):
            self._defer(thread, status)
        elif thread is None or thread.state != State.HELD or not self._supersede(tid, status):
            self._strays.append((tid, status))

    def _supersede(self, tid: int, status: int) -> bool:
        """A held thread reported again: SIGKILL took it out of its deferred stop.

        Only SIGKILL wakes a thread from a ptrace stop we did not resume; the
        stop it was in is gone, so its deferred status is replaced (handled as
        it was, the thread would be resumed from a stop it is no longer in, and
        its exit stop would never be reported).
        """
        for index, (deferred, _old) in enumerate(self._deferred):
            if deferred == tid:
                self._deferred[index] = (tid, status)
                return True
        return False

    def _take_newer_status(self, tid: int) -> int | None:
        """A status set aside for a thread held by a step-over: newer than the one held."""
        for entry in self._strays:
            if entry[0] == tid:
                self._strays.remove(entry)
                return entry[1]
        return None

    def _release_others(self, held: list[tuple[Thread, int]]) -> None:
        for other, status in held:
            newer = self._take_newer_status(other.tid)
            if newer is not None:
                status = newer  # SIGKILL took it out of the stop we held (see _supersede)
            if (os.WIFSTOPPED(status) and kernel.event_of(status) == kernel.PTRACE_EVENT_STOP
                    and os.WSTOPSIG(status) == signal.SIGTRAP and not other.interrupt_report):
                # Only our interrupt stopped it: let it go on as it was.
                other.state = State.STOPPED
                other.jobctl_stop = True
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
        parent.breakpoints.scrub_copy(child_table.space)
        for address, trap in parent.breakpoints.traps.items():
            wanted = [bp for bp in trap.breakpoints if bp.engine in kept_engines]
            if not wanted:
                child_table.space.write_raw(address, trap.original)
                continue
            child_table.adopt(address, trap.original)
            for bp in wanted:
                child_table.add(Breakpoint(address, bp.engine, bp.condition, bp.oneshot))

    def _scrub_copy(self, parent_tid: int, child: int, originals: dict[int, bytes],
                    instruction: bytes) -> None:
        """Write ``originals`` into a forked child's copy of the memory where our traps are.

        Not into a child sharing the memory (a thread, a vfork or CLONE_VM
        child): the originals are back there already.
        """
        if _same_memory(parent_tid, child):
            return
        from .memory import AddressSpace

        copy = AddressSpace(child)
        try:
            for address, original in originals.items():
                if copy.read_raw(address, len(instruction)) == instruction:
                    copy.write_raw(address, original)
        except kernel.KernelError:
            pass  # it died meanwhile
        finally:
            copy.close()

    def _on_vfork(self, parent: Thread, child_tid: int) -> None:
        """The vfork child borrows the parent's memory, traps and all, until it execs or exits.

        The traps are lifted meanwhile (the table is kept; put back at
        VFORK_DONE), so no step-over is needed or done in this process then.
        """
        parent.vfork_child = child_tid
        if parent.process.has_traps():
            parent.process.breakpoints.lift_all()

    def _on_vfork_done(self, thread: Thread) -> None:
        thread.vfork_child = None
        process = thread.process
        if process.has_traps() and not process.memory_lent():
            process.breakpoints.lower_all()
        self._arm_watchpoints(thread)  # slots written while it was in the kernel missed it
        if thread.report_at_vfork_done:
            thread.report_at_vfork_done = False
            self._quiesce_pass(thread, interrupt=False)
        self._resume(thread)

    def _insert_breakpoint(self, att: Attachment, address: int, condition: Any,
                           oneshot: bool) -> Breakpoint:
        if att.detached or not att.thread.alive:
            raise NoSuchThreadError(f"thread {att.thread.tid} is gone or the engine detached")
        bp = Breakpoint(address, att.engine, condition, oneshot)
        process = att.thread.process
        try:
            process.breakpoints.add(bp)
        except (kernel.KernelError, ValueError) as exc:
            _raise_if_gone(process, exc)
            raise
        att.events |= Event.BREAKPOINT
        return bp

    def _remove_breakpoint(self, bp: Breakpoint) -> None:
        table = bp.table
        if table is None:
            return
        try:
            table.discard(bp)
        except (kernel.KernelError, ValueError) as exc:
            bp.table = None  # the table has let go of it; only its memory was unwritable
            process = self._processes.get(table.space.pid)
            if process is None or process.gone_in_kernel():
                raise NoSuchThreadError(f"process {table.space.pid} has exited") from exc
            raise

    def _drop_engine_traps(self, att: Attachment) -> None:
        """An engine leaving its last thread of a process takes its traps with it.

        Its breakpoints, its watchpoints, and the software-step traps of a
        thread nobody steps any more.  Not while the process is being let go
        (detach restores everything) or is dead (its memory is going away).
        """
        process = att.thread.process
        if process is None or self._processes.get(process.pid) is not process \
                or not any(t.alive for t in process.threads.values()):
            return
        if not att.thread.steppers and process.has_traps():
            process.breakpoints.discard_steps(att.thread)
        engine = att.engine
        if any(other.engine is engine and not other.detached
               for t in process.threads.values() for other in t.attachments):
            return  # still attached elsewhere in the process: its traps serve it there
        try:
            if process.has_traps():
                for bp in process.breakpoints.breakpoints():
                    if bp.engine is engine:
                        process.breakpoints.discard(bp)
            table = watchpoints.table_of(process)
            for slot in list(table.slots) if table is not None else ():
                for wp in list(slot.watchpoints) if slot is not None else ():
                    if wp.engine is engine:
                        self._remove_watchpoint(wp)
        except kernel.NoSuchProcessError:
            pass  # it died meanwhile: its death report follows

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


_EXEC_CALLS = ("execve", "execveat")


def _is_exit_stop(status: int) -> bool:
    return os.WIFSTOPPED(status) and kernel.event_of(status) == kernel.PTRACE_EVENT_EXIT


def _same_memory(pid1: int, pid2: int) -> bool:
    """Do two tasks share one address space?  ``kcmp(KCMP_VM)`` says."""
    from pydbg_utrace import arch

    try:
        return kernel.kcmp(pid1, pid2, kernel.KCMP_VM, arch.host().syscall_number_of("kcmp"))
    except (KeyError, OSError):
        return False  # cannot tell: treat as a fork (the common case)


def _raise_if_gone(process: Process, exc: BaseException) -> None:
    """A memory error from a process that has just died is NoSuchThreadError, as utrace's."""
    if process.gone_in_kernel():
        raise NoSuchThreadError(f"process {process.pid} has exited") from exc


def _has_software_step(arch: Any) -> bool:
    """Does this arch have software-step rules at all (ppc64: yes, x86_64: no)?"""
    from pydbg_utrace.arch.base import Arch

    return type(arch).software_step is not Arch.software_step
