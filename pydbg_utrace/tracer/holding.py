"""Holding a process's other threads still for a moment, and waiting for chosen threads.

A step-over lifts a trap: every other running thread of the process is
interrupted first and kept (``State.HELD``, its status put aside) until the
step is done, so none runs past the lifted trap unseen.  Writing debug
registers needs every thread in a stop the same way.  Statuses of other
tracees met while waiting are put aside for the loop.
"""

from __future__ import annotations

import os
import signal

from .. import kernel, procfs
from ..process import Process, State, Thread
from . import ports
from .tables import Tables


class Holding:
    """Interrupt, wait for, and let go again the threads of a process."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def connect(self, resumer: ports.Resuming, waking: ports.Waking) -> None:
        self.resumer = resumer
        self.waking = waking

    def hold_others(self, thread: Thread) -> list[tuple[Thread, int]]:
        """Hold every other running thread for a step-over -- but one being single-stepped.

        A single-stepping thread runs one instruction and stops; that instruction
        is never the lifted trap's (a thread on our trap is stepped over, with
        the others held, not single-stepped), so it cannot run past the trap.
        Held, it starved: its interrupt came before it had run its instruction,
        the release let it go "as it was", and the next hit of another thread
        interrupted it again -- under load, for seconds (torture finding L).
        Its step's stop, if it comes meanwhile, is set aside for the loop.
        """
        return self.hold(thread.process, thread, (State.RUNNING,), spare_steppers=True)

    def hold(self, process: Process, skip: Thread | None,
              states: tuple[State, ...], spare_steppers: bool = False) -> list[tuple[Thread, int]]:
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
                  and not (t.vfork_child is not None and t.state == State.RUNNING)
                  and not (spare_steppers and _single_stepping(t))]
        for other in others:
            self.resumer.interrupt(other)
        held = []
        for other, status in self.collect(others).items():
            other.state = State.HELD  # its status waits in `held`: nobody else may wait for it
            held.append((other, status))
        return held

    def collect(self, threads: list[Thread]) -> dict[Thread, int]:
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
                tid, status = kernel.wait_tracees(nohang=exiting or self.only_leader(pending))
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
                self.set_aside(tid, status)
            exiting = exiting or _is_exit_stop(status)
        return got

    def _drop_unable_to_report(self, pending: dict[int, Thread], exiting: bool) -> bool:
        """Give up the pending threads that cannot report now; is any left to wait for?"""
        if exiting:
            for tid, thread in list(pending.items()):
                nr = procfs.blocked_in_syscall(tid)
                if nr is not None and thread.arch.syscall_name(nr) in _EXEC_CALLS:
                    del pending[tid]
        if self.only_leader(pending) \
                and pending[next(iter(pending))].process.leader_cannot_report():
            return False
        return bool(pending)

    def _exit_stop_queued(self) -> bool:
        """Is an exit stop waiting for the loop (a thread killed, by an execve say)?"""
        return any(_is_exit_stop(status) for _, status in self.tables.deferred) \
            or any(_is_exit_stop(status) for _, status in self.tables.strays)

    def _supersede(self, tid: int, status: int) -> bool:
        """A held thread reported again: SIGKILL took it out of its deferred stop.

        Only SIGKILL wakes a thread from a ptrace stop we did not resume; the
        stop it was in is gone, so its deferred status is replaced (handled as
        it was, the thread would be resumed from a stop it is no longer in, and
        its exit stop would never be reported).
        """
        for index, (deferred, _old) in enumerate(self.tables.deferred):
            if deferred == tid:
                self.tables.deferred[index] = (tid, status)
                return True
        return False

    def _take_newer_status(self, tid: int) -> int | None:
        """A status set aside for a thread held by a step-over: newer than the one held."""
        for entry in self.tables.strays:
            if entry[0] == tid:
                self.tables.strays.remove(entry)
                return entry[1]
        return None

    @staticmethod
    def only_leader(pending: dict[int, Thread]) -> bool:
        """Is a process's leader the one thread still pending?"""
        if len(pending) != 1:
            return False
        (last,) = pending.values()
        return last.process is not None and last.tid == last.process.pid

    def set_aside(self, tid: int, status: int) -> None:
        """A status of another tracee, met while waiting for some: handled next by the loop."""
        if tid == self.waking.waker:
            self.waking.on_waker(status)
            return
        thread = self.tables.threads.get(tid)
        if thread is not None and thread.state not in (State.HELD, State.GONE):
            self.tables.defer(thread, status)
        elif thread is None or thread.state != State.HELD or not self._supersede(tid, status):
            self.tables.strays.append((tid, status))

    def release(self, held: list[tuple[Thread, int]]) -> None:
        for other, status in held:
            newer = self._take_newer_status(other.tid)
            if newer is not None:
                status = newer  # SIGKILL took it out of the stop we held (see _supersede)
            if (os.WIFSTOPPED(status) and kernel.event_of(status) == kernel.PTRACE_EVENT_STOP
                    and os.WSTOPSIG(status) == signal.SIGTRAP and not other.interrupt_report):
                # Only our interrupt stopped it: let it go on as it was.
                other.state = State.STOPPED
                other.stop.reset(jobctl=True)
                self.resumer.resume(other)
            else:
                self.tables.defer(other, status)

    def hold_running(self, process: Process) -> list[tuple[Thread, int]]:
        """Interrupt every running or listening thread (to write their debug registers)."""
        return self.hold(process, None, (State.RUNNING, State.LISTENING))


_EXEC_CALLS = ("execve", "execveat")


def _single_stepping(thread: Thread) -> bool:
    """Is an engine's single step in flight (PTRACE_SINGLESTEP, its report not yet made)?

    ``stepping`` alone is not enough: it stays set after an interrupt stop that
    came before the step, and the next resume may be a PTRACE_CONT (its engine
    left meanwhile): that thread runs freely and must be held.
    """
    return thread.state == State.RUNNING and thread.stepping and bool(thread.steppers)


def _is_exit_stop(status: int) -> bool:
    return os.WIFSTOPPED(status) and kernel.event_of(status) == kernel.PTRACE_EVENT_EXIT
