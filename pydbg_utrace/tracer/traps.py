"""The tracer's trap mechanics: our software traps hit late, stepped over, stepped with.

A hit of a breakpoint -- rewinding the PC, telling the engines that own the
trap -- is the breakpoint service's ``trap`` hook (:mod:`pydbg_utrace.breakpoints`),
as a debug-register hit is the watchpoint service's.  This part keeps what
holds threads, single-steps and waits: the late hit of a trap removed
since, the step-over with the other threads held, planting software-step
traps where the arch cannot single-step (ppc64 atomic sequences) and the
end of such a step.  It reads the service's tables through
``ports.TrapTables``.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from .. import kernel
from ..hooks import Hooks
from ..process import State, Thread
from . import ports
from .tables import Tables


class Traps:
    """Late hits, step-overs and software steps: what holds threads, steps and waits."""

    def __init__(self, hooks: Hooks, trap_tables: ports.TrapTables) -> None:
        self.hooks = hooks
        self.trap_tables = trap_tables  # the breakpoint service's

    def connect(self, resumer: ports.Resuming, holding: ports.Holding,
                stops: ports.StopHandling, tables: Tables) -> None:
        self.resumer = resumer
        self.holding = holding
        self.stops = stops
        self.tables = tables  # (a step-over's unfinished stop is deferred to the loop)

    def on_software_step_end(self, thread: Thread, info: Any) -> bool:
        """A SIGTRAP at a software-step trap planted for this thread: its step ended.

        Rewound, the step's traps dropped, the step reported (and the thread
        resumed there).  A breakpoint at the same address is not reported: the
        step got there first.  (A breakpoint's hit is the breakpoint service's
        ``trap`` hook, asked after this.)
        """
        if info.code != thread.arch.breakpoint_si_code:
            return False
        table = self.trap_tables.live(thread.process)
        if table is None:
            return False
        try:
            regs = self.resumer.registers(thread)
        except kernel.NoSuchProcessError:
            return False  # killed since it stopped (the service's hook says so)
        address = regs.pc - thread.arch.breakpoint_pc_offset
        trap = table.trap_at(address)
        if trap is None or thread not in trap.steppers:
            return False
        if regs.pc != address:
            regs.pc = address  # written back when it resumes
        thread.at_trap = address
        table.discard_steps(thread)
        self.stops.on_step(thread)
        return True

    def on_late_trap_hit(self, thread: Thread, info: Any) -> bool:
        """A SIGTRAP: the late hit of a trap removed since?  Then rewind and resume silently.

        The thread executed the trap before its original went back; its PC
        is rewound so that it runs the original instruction, and no engine
        is told (the breakpoint is gone).  Any SIGTRAP stop settles the
        thread: it cannot owe another hit.
        """
        process = thread.process
        table = self.trap_tables.owing(process)
        if table is None:
            return False
        late = False
        if info.code == thread.arch.breakpoint_si_code:
            regs = self.resumer.registers(thread)
            address = regs.pc - thread.arch.breakpoint_pc_offset
            late = table.owes_hit(address)
            if late:
                regs.pc = address  # written back when it resumes
        process.settled(thread.tid)
        if late:
            self.resumer.resume(thread)
        return late

    def stepped_into_trap(self, thread: Thread, info: Any) -> bool:
        """Did this single step execute one of our traps instead of an instruction?

        A trap planted under the PC of a stopped thread (it never hit it, so no
        step-over is due) is what its next step executes: the SIGTRAP is the
        trap's (its si_code, the PC just past it), the real instruction has not
        run.  Taken for the end of the step, the thread went on from the middle
        of that instruction (torture FOUND F: SIGSEGV at garbage PCs).  It is a
        hit; the step is still owed and goes on over the trap from the rewound PC.
        """
        if info.code != thread.arch.breakpoint_si_code \
                or self.trap_tables.live(thread.process) is None:
            return False
        address = self.resumer.registers(thread).pc - thread.arch.breakpoint_pc_offset
        return self.trap_tables.trap_at(thread.process, address) is not None

    def still_on_trap(self, thread: Thread) -> bool:
        """Is a step-over still owed where it stopped on our trap?

        Not from its exit stop: SIGKILL (an execve's, a group exit's) took it
        there out of the stop that owed it, and its PC has not moved.  A hold
        from there waits for the thread in execve(), which waits until this
        exit stop is let go (torture finding I).
        """
        address = thread.at_trap
        thread.at_trap = None
        process = thread.process
        if thread.exited or self.trap_tables.trap_at(process, address) is None \
                or process.memory_lent():  # the original is in memory: nothing to step over
            return False
        return self.resumer.registers(thread).pc == address

    def step_over(self, thread: Thread, report_step: bool) -> None:
        """Run the instruction under a trap with the trap lifted, the other threads held.

        Every other running thread of the process is interrupted first, so none
        can run past the lifted trap unseen; their stops are handled afterwards.
        """
        address = self.resumer.registers(thread).pc
        thread.stepping = False  # (a step owed from a step-over cut short is not: see below)
        held = self.holding.hold_others(thread)
        if thread.state == State.HELD:
            # SIGKILL (an execve's or a group exit's) took it out of this stop into
            # its exit stop meanwhile (deferred): no instruction to step over now.
            thread.stop.regs = None
            self.holding.release(held)
            return
        table = self.trap_tables.table_for(thread.process)
        regs, thread.stop.regs = thread.stop.regs, None
        sig, thread.stop.inject = thread.stop.inject, 0
        table.lift(address)
        try:
            if regs is not None and (regs.changed or regs.extra_changed):
                self.resumer.write_registers(thread, regs)
            kernel.singlestep(thread.tid, sig)
            status = self.holding.collect([thread]).get(thread)
        except kernel.NoSuchProcessError:
            # SIGKILL took it out of this stop since the hold began (its exit stop
            # follows): the others must still be released, with every stop the hold
            # collected for them -- one an exit stop that an execve waits for.
            status = None
        finally:
            table.lower(address)
        if status is None:  # killed, or a leader that died without a word: its exit follows
            thread.state = State.RUNNING
            self.holding.release(held)
            return
        self.holding.release(held)
        if (os.WIFSTOPPED(status) and kernel.event_of(status) == 0
                and os.WSTOPSIG(status) == signal.SIGTRAP):
            thread.state = State.STOPPED
            thread.stop.reset(jobctl=False)
            thread.process.settled(thread.tid)  # a step trap: it owes no late hit
            self.hooks.trap(thread, None)  # (the stepped instruction may hit a watchpoint)
            if report_step:
                self.stops.on_step(thread)
            else:
                self.resumer.resume(thread)
        else:
            # Not past it yet, or past it with the step's SIGTRAP still queued
            # behind a job-control trap (a SIGCONT/SIGSTOP from outside notifies
            # every seized thread, and that trap is taken first): if the PC has
            # not moved, the step-over is done again; if it has, the SIGTRAP that
            # follows ends this step (torture finding H: taken for a hit of the
            # trap one byte back, the instruction ran twice).
            thread.at_trap = address
            thread.stepping = kernel.event_of(status) == kernel.PTRACE_EVENT_STOP
            self.tables.defer(thread, status)

    def plant_software_step(self, thread: Thread) -> bool:
        """Where the arch cannot hardware-step (ppc64 atomic sequences), plant traps."""
        arch = thread.arch
        if not has_software_step(arch):
            return False
        space = thread.process.memory
        addresses = arch.software_step(self.resumer.registers(thread).pc, space.read)
        if not addresses:
            return False
        table = self.trap_tables.table_for(thread.process)
        for address in addresses:
            table.add_step(thread, address)
        return True


def has_software_step(arch: Any) -> bool:
    """Does this arch have software-step rules at all (ppc64: yes, x86_64: no)?"""
    from pydbg_utrace.arch.base import Arch

    return type(arch).software_step is not Arch.software_step
