"""The tracer's lifecycle part: launching, attaching to, and detaching from programs.

Runs on the tracer thread only.  Nothing is left stopped or changed when
it detaches: traps are written back, a stopped thread gets its signal back,
services undo their per-thread state (:meth:`pydbg_utrace.hooks.Service.detach`).
The launch plan (arguments checked in the caller's thread, the forked
child's side) is :mod:`pydbg_utrace.lifecycle`'s.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import replace

from .. import kernel, procfs, seccomp
from .. import lifecycle as launching
from ..breakpoints import scrub_child_copy
from ..hooks import Hooks
from ..lifecycle import LaunchPlan
from ..process import Process, State, Thread
from ..seams import ApiSide
from ..stopkinds import CLONE_EVENTS, LAUNCH_HOLD, SYSCALL_STOP, TRACE_OPTIONS
from . import ports
from .tables import Tables

log = logging.getLogger("pydbg_utrace")


class Lifecycle:
    """Launch, attach, detach and close."""

    def __init__(self, api: ApiSide, tables: Tables, hooks: Hooks,
                 trap_tables: ports.TrapTables) -> None:
        self.api = api
        self.trap_tables = trap_tables
        self.tables = tables
        self.hooks = hooks

    def connect(self, loop: ports.Waking, holding: ports.Holding, resumer: ports.Resuming,
                stops: ports.StopHandling, seccomp_stops: ports.SeccompSide) -> None:
        self.loop = loop
        self.seccomp = seccomp_stops
        self.holding = holding
        self.resumer = resumer
        self.stops = stops

    def attach_noting_parent(self, pid: int) -> Process:
        """attach_process, and whether the host program is its parent (it will wait())."""
        process = self.attach_process(pid)
        # The host program's own child: its wait() will want the exit status.
        process.host_child = not process.is_child and procfs.parent_of(pid) == os.getpid()
        return process

    # -- launching and attaching -----------------------------------------------------
    def launch(self, plan: LaunchPlan, kill_on_exit: bool) -> Process:
        """Fork, seize and exec ``plan``; the process is held before its first instruction."""
        # seccomp hook: the filter only if the kernel's order of stops is right
        plan = replace(plan, filter_program=self.seccomp.checked_filter(plan.filter_program))
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: wait until seized, then exec (no other Python runs here)
            os.close(go_w)
            os.close(err_r)
            launching.child(plan, go_r, err_w)
        os.close(go_r)
        os.close(err_w)
        options = TRACE_OPTIONS | (kernel.PTRACE_O_EXITKILL if kill_on_exit else 0)
        if plan.filter_program is not None:  # else the filter's TRACE fails calls with ENOSYS
            options |= kernel.PTRACE_O_TRACESECCOMP
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
        try:
            exec_traced = self.wait_for_exec(pid, plan, err_r)
        finally:
            os.close(err_r)
        process = Process(self.api, pid, is_child=True)
        if plan.filter_program is not None:
            process.syscall_filter = seccomp.installed_filter(pid, plan.filter_program)
        thread = Thread(self.api, pid, process)
        thread.born = True
        thread.state = State.STOPPED
        thread.holds.add(LAUNCH_HOLD)
        # seccomp hook: a filtered execve (its seccomp stop came) gets its exit stop
        thread.syscall_scope = seccomp.launch_scope(process.syscall_filter, exec_traced)
        process.threads[pid] = thread
        self.tables.threads[pid] = thread
        self.tables.processes[pid] = process
        return process

    @staticmethod
    def wait_for_exec(pid: int, plan: LaunchPlan, err_r: int) -> bool:
        """Until the exec stop; a child that fails says why on ``err_r`` before it exits.

        True if the execve made a seccomp stop first (the launch's filter traces it).

        The pipe is never read before the child stops: a failed child sits in
        its exit stop, pipe still open, until we let it go; a good one closes
        it (CLOEXEC) at its execve.
        """
        traced = False
        while True:
            _, status = kernel.wait_tracee(pid)
            if not os.WIFSTOPPED(status):
                raise ChildProcessError(f"process {pid} died before its exec completed")
            event = kernel.event_of(status)
            if event == kernel.PTRACE_EVENT_EXEC:
                return traced
            traced = traced or event == kernel.PTRACE_EVENT_SECCOMP
            if event == kernel.PTRACE_EVENT_EXIT:
                os.set_blocking(err_r, False)
                try:
                    failure = os.read(err_r, 4096)
                except BlockingIOError:
                    failure = b""
                kernel.cont(pid, 0)  # out of its exit stop
                launching.reap_tracee(pid)
                raise launching.launch_failure(plan, failure)
            sig = os.WSTOPSIG(status) if event == 0 else 0
            kernel.cont(pid, sig)  # a signal before exec: pass it on

    def attach_process(self, pid: int) -> Process:
        """Seize every thread of a running process (until no new one appears)."""
        if pid in self.tables.processes:
            return self.tables.processes[pid]
        if pid in (os.getpid(), self.loop.waker) or pid <= 0:
            raise kernel.NotPermittedError(1, "PTRACE_SEIZE", pid)
        if not os.path.exists(f"/proc/{pid}/task"):
            raise kernel.NoSuchProcessError(3, "attach", pid)
        if procfs.tgid(pid) != pid:
            raise ValueError(f"{pid} is a thread of process {procfs.tgid(pid)}: attach to that")
        process = Process(self.api, pid, is_child=False)
        seized: set[int] = set()
        try:
            while True:  # threads may be created while we attach: until no new one
                new = set(procfs.task_ids(pid)) - seized
                if not new:
                    break
                for tid in sorted(new):
                    seized.add(tid)
                    self.seize_thread(process, tid)
            self.take_attach_traps(process)
            self._wait_out_clones(process, seized)
        except BaseException:
            self.detach_process(process)  # leave nothing half-attached
            raise
        if not process.threads:
            if procfs.task_state(pid, pid) == "Z":
                raise launching.exited_error(pid)
            raise kernel.NoSuchProcessError(3, "attach", pid)
        self.tables.processes[pid] = process
        return process

    def _wait_out_clones(self, process: Process, seized: set[int]) -> None:
        """Stop every seized thread once, so that no fork, vfork or clone escapes untraced.

        kernel_clone() decides at its start whether the child will be traced
        (its caller traced, with TRACEFORK); the memory is copied later.  A fork
        begun just before its thread was seized makes an untraced child whose
        copy can take a trap inserted meanwhile, an untraced vfork child runs on
        our memory, traps and all, and an untraced clone makes a thread we never
        seized: each died of SIGTRAP (torture finding K).  PTRACE_INTERRUPT stops
        a thread only once it is out of kernel_clone (a vfork one, once its child
        has exec'd or exited), so after one stop of each, every later child is
        traced; threads such clones made are seized and stopped the same way
        (by the next round's wait for any tracee: whatever stop each is in).
        """
        held: list = []
        while True:
            held += self.holding.hold(process, None, (State.RUNNING,))
            new = set(procfs.task_ids(process.pid)) - seized
            if not new:
                break
            for tid in sorted(new):
                seized.add(tid)
                self.seize_thread(process, tid)
        self.holding.release(held)

    def take_attach_traps(self, process: Process) -> None:
        """Handle, before attach_process returns, the trap that seizing a stopped thread makes.

        PTRACE_SEIZE of a thread in group stop makes it re-trap into a ptrace stop
        (the kernel's JOBCTL_TRAP_STOP) and returns once it is there (state 't', its
        status queued for us).  Left to the main loop, that report would race with
        the engines being attached: some would hear the attach's JCTL STOPPED, some
        not.  Taken here, it reaches no engine, every time; the thread is left
        group-stopped (``thread.group_stopped``) and listening, and the first JCTL
        an engine hears of it is CONTINUED.  A thread in 't' has a status for us,
        so the wait cannot block; a running thread's later stops are the loop's.
        """
        for thread in list(process.threads.values()):
            if procfs.task_state(process.pid, thread.tid) != "t":
                continue
            tid, status = kernel.wait_tracee(thread.tid)
            self.stops.on_status(tid, status)

    def seize_thread(self, process: Process, tid: int) -> None:
        try:
            kernel.seize(tid, TRACE_OPTIONS)
        except kernel.NoSuchProcessError:
            return  # exited meanwhile
        except kernel.NotPermittedError as exc:
            tracer = procfs.tracer_of(tid)
            if tracer == self.loop.native_id:
                return  # auto-attached through a thread we seized: its clone event says so
            if procfs.task_state(process.pid, tid) in ("Z", "X", ""):
                # Exited (a zombie leader, say; or a thread gone since, whose
                # TracerPid could not be read): the kernel refuses it, nothing to trace.
                return
            if tracer:
                raise kernel.NotPermittedError(
                    exc.errno, f"PTRACE_SEIZE (already traced by pid {tracer})", tid) from None
            raise
        thread = Thread(self.api, tid, process)
        thread.born = True
        process.threads[tid] = thread
        self.tables.threads[tid] = thread

    # -- detaching ---------------------------------------------------------------------
    def let_go(self, thread: Thread) -> None:
        """PTRACE_DETACH a stopped thread, passing on the signal it stopped for."""
        try:
            regs = thread.stop.regs
            if regs is not None and (regs.changed or regs.extra_changed):
                self.resumer.write_registers(thread, regs)  # e.g. a PC rewound over a breakpoint
            self.hooks.detach(thread)  # (a service's state in the thread: debug registers)
            kernel.detach(thread.tid, thread.stop.inject)
        except kernel.NoSuchProcessError:
            pass
        self.stops.reap_silently(thread)

    def detach_process(self, process: Process) -> None:
        """Let every thread go, with the program's own code and its pending signals.

        Every thread is stopped *before* a byte is restored: a running thread
        could otherwise execute a trap and then be let go with its SIGTRAP
        (which kills it).  A thread that executed one just before owes that
        SIGTRAP: it is taken now, and the PC rewound (:meth:`take_owed_hit`).
        """
        self.tables.processes.pop(process.pid, None)  # leaving: no hook works on it any more
        seccomp.warn_if_filtered(process)  # seccomp hook: its filter stays, we do not
        self.claim_strays(process)
        threads = list(process.threads.values())
        for thread in threads:
            child = self.tables.processes.get(thread.vfork_child or 0)
            if child is not None and thread.state == State.RUNNING:
                # A thread inside vfork() can stop only once its child has exec'd
                # or exited: let the child go first, or the wait below never ends.
                self.detach_process(child)
        self.stop_for_detach(threads)
        traps = self.trap_tables.restore_for_detach(process)
        for thread in threads:
            if thread.state == State.STOPPED:
                if traps:
                    self.take_owed_hit(thread, traps)
                self.let_go(thread)
            elif thread.state != State.GONE:
                self.stops.reap_silently(thread)  # a zombie leader: ptrace cannot detach it
        self.let_go_newborn(process, traps)
        if process.is_child and process.status is None:
            self.tables.let_go_children[process.pid] = process

    def claim_strays(self, process: Process) -> None:
        """Statuses set aside for threads of ``process`` (met in some other wait) are theirs.

        A new thread's first stop can come, in a step-over's wait, before its
        creator's clone event: it was set aside as a stray, for the main loop.
        Detach runs before the loop gets to it, so it takes it here: else it
        would wait for a stop already taken (a hang), or leave the thread
        traced (it was never in the thread table).
        """
        for entry in list(self.tables.strays):
            tid, status = entry
            thread = self.tables.threads.get(tid)
            if thread is None:
                if tid == self.loop.waker or procfs.tgid(tid) != process.pid:
                    continue
                thread = Thread(self.api, tid, process)
                process.threads[tid] = thread
                self.tables.threads[tid] = thread
            elif thread.process is not process or thread.state != State.RUNNING:
                continue
            self.tables.strays.remove(entry)
            thread.born = True
            self.tables.defer(thread, status)  # taken back at once by stop_for_detach

    def stop_for_detach(self, threads: list[Thread]) -> None:
        """Bring every thread into a ptrace stop (some may die meanwhile).

        All the running ones are interrupted first and then waited for
        together: one by one, each wait for a busy thread costs a scheduling
        round trip (100 busy threads took 12.8 s to close; bench/close.py).
        """
        for thread in threads:
            if thread.state == State.HELD:
                status = self.tables.take_deferred(thread)
                thread.state = State.STOPPED
                self.note_stop_for_detach(thread, status)
        running = []
        for thread in threads:
            if thread.state not in (State.RUNNING, State.LISTENING):
                continue
            if thread.tid == thread.process.pid and thread.process.leader_cannot_report():
                continue  # it reports nothing until the other threads are gone
            try:
                kernel.interrupt(thread.tid)
            except kernel.NoSuchProcessError:
                self.stops.reap_silently(thread)
                continue
            running.append(thread)
        statuses = self.holding.collect(running)
        for thread in running:
            status = statuses.get(thread)
            if status is not None:
                self.note_stop_for_detach(thread, status)
            elif thread.state == State.RUNNING:
                thread.state = State.GONE  # a zombie leader, or no longer ours

    def let_go_newborn(self, process: Process, originals: dict[int, bytes]) -> None:
        """Detach the children born while ``process`` was being stopped, originals back.

        Let go at once, a new thread (or a vfork child) would run on the
        memory with our traps still in it, and a fork child's copy has them:
        the first to reach one died of SIGTRAP (torture finding G).
        """
        for child, parent in process.born_while_detaching:
            if originals:
                scrub_child_copy(parent, child, originals, process.arch.breakpoint_instruction)
            try:
                kernel.detach(child, 0)
            except kernel.NoSuchProcessError:
                pass
        process.born_while_detaching.clear()

    def take_owed_hit(self, thread: Thread, traps: set[int]) -> None:
        """A thread in a job-control stop may owe a trap's SIGTRAP: take it before it goes.

        The SIGTRAP the trap raised waits in the thread's own pending set
        (``SigPnd``) behind the interrupt or group stop; resumed, the thread
        dequeues it first (synchronous signals go first) and stops for it.
        If that stop is a hit of one of our traps, the PC is rewound and the
        signal dropped; any other stop is kept for the detach as usual.
        """
        if not thread.stop.jobctl or not procfs.pending_unblocked(thread.tid, signal.SIGTRAP):
            return
        try:
            self.resumer.flush_registers(thread)
            kernel.cont(thread.tid, 0)
        except kernel.NoSuchProcessError:
            return
        thread.state = State.RUNNING
        self.wait_stopped(thread)
        if thread.state == State.STOPPED and thread.stop.inject == signal.SIGTRAP:
            info = kernel.get_siginfo(thread.tid)
            regs = self.resumer.registers(thread)
            address = regs.pc - thread.arch.breakpoint_pc_offset
            if info.code == thread.arch.breakpoint_si_code and address in traps:
                regs.pc = address  # written back by let_go
                thread.stop.inject = 0

    def wait_stopped(self, thread: Thread) -> None:
        """Wait for the stop an interrupt causes; keep the signal it may stop for."""
        status = self.holding.collect([thread]).get(thread)
        if status is None:
            if thread.state == State.RUNNING:
                thread.state = State.GONE  # a zombie leader, or no longer ours
            return
        self.note_stop_for_detach(thread, status)

    def note_stop_for_detach(self, thread: Thread, status: int) -> None:
        if not os.WIFSTOPPED(status):
            self.stops.on_death(thread, status)
            return
        thread.state = State.STOPPED
        event, sig = kernel.event_of(status), os.WSTOPSIG(status)
        thread.stop.reset(jobctl=event == kernel.PTRACE_EVENT_STOP)
        if event == 0 and sig == signal.SIGTRAP and self.at_our_trap(thread):
            pass  # a hit of our trap (live or retired): PC rewound, no signal
        elif event == 0 and sig != SYSCALL_STOP and not (sig == signal.SIGTRAP and thread.stepping):
            thread.stop.inject = sig  # a signal-delivery stop: the signal goes on at detach
        elif event in CLONE_EVENTS:
            # Its new child is traced already: let that one go too, once the
            # originals are back (let_go_newborn).
            child = kernel.get_event_msg(thread.tid)
            if child not in self.tables.threads and not self.tables.take_stray(child):
                kernel.wait_tracee(child)
            known = self.tables.threads.pop(child, None)
            if known is not None and known.process is not None:
                known.process.threads.pop(child, None)
            thread.process.born_while_detaching.append((child, thread.tid))

    def at_our_trap(self, thread: Thread) -> bool:
        """Is this SIGTRAP stop a hit of one of our traps?  Rewind the PC if so."""
        tables = self.trap_tables
        table = tables.live(thread.process) or tables.owing(thread.process)
        if table is None:
            return False
        try:
            info = kernel.get_siginfo(thread.tid)
            regs = self.resumer.registers(thread)
        except kernel.NoSuchProcessError:
            return False
        address = regs.pc - thread.arch.breakpoint_pc_offset
        if info.code != thread.arch.breakpoint_si_code or not (
                table.trap_at(address) is not None or table.owes_hit(address)):
            return False
        regs.pc = address  # written back by let_go
        return True

    def kill_process(self, process: Process, sig: int) -> None:
        """Send ``sig`` to the process (its death is reported as it comes)."""
        try:
            os.kill(process.pid, sig)
        except ProcessLookupError:
            pass

    def close(self, kill: bool) -> None:
        """Detach (or kill) every process, end the waker; no request is taken after this."""
        for process in list(self.tables.processes.values()):
            if kill:
                self.kill_process(process, signal.SIGKILL)
                self.wait_gone(process)
            else:
                self.detach_process(process)
        try:
            os.kill(self.loop.waker, signal.SIGKILL)
            kernel.wait_tracee(self.loop.waker)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.loop.mark_closed()

    def wait_gone(self, process: Process) -> None:
        while process.pid in self.tables.processes and process.threads:
            try:
                tid, status = kernel.wait_tracees()
            except ChildProcessError:
                return
            if tid != self.loop.waker:
                self.stops.on_status(tid, status)
