"""The tracer's lifecycle half: launching, attaching to, and detaching from programs.

A mixin of :class:`pydbg_utrace.tracer.Tracer` (it uses the tracer's state and
runs on the tracer thread only).  Nothing is left stopped or changed when it
detaches: traps are written back, a stopped thread gets its signal back.
"""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

from . import kernel, procfs, seccomp, watchpoints
from .process import Process, State, Thread
from .stopkinds import CLONE_EVENTS, LAUNCH_HOLD, SYSCALL_STOP, TRACE_OPTIONS

_PIDFD_THREAD = os.O_EXCL  # pidfd_open(2): a pidfd for one thread, readable once it exits


class Lifecycle:
    """Launch, attach, detach and close, for the tracer."""

    _exit_pidfd: int | None = None  # the tracer thread's pidfd, opened by _close

    # -- launching and attaching -----------------------------------------------------
    def _launch(self, plan: LaunchPlan, kill_on_exit: bool) -> Process:
        # seccomp hook: the filter only if the kernel's order of stops is right
        plan = replace(plan, filter_program=self._checked_filter(plan.filter_program))
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: wait until seized, then exec (no other Python runs here)
            os.close(go_w)
            os.close(err_r)
            _child(plan, go_r, err_w)
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
            self._wait_for_exec(pid, plan, err_r)
        finally:
            os.close(err_r)
        process = Process(self, pid, is_child=True)
        if plan.filter_program is not None:
            process.syscall_filter = seccomp.installed_filter(pid, plan.filter_program)
        thread = Thread(self, pid, process)
        thread.born = True
        thread.state = State.STOPPED
        thread.holds.add(LAUNCH_HOLD)
        process.threads[pid] = thread
        self._threads[pid] = thread
        self._processes[pid] = process
        return process

    @staticmethod
    def _wait_for_exec(pid: int, plan: LaunchPlan, err_r: int) -> None:
        """Until the exec stop; a child that fails says why on ``err_r`` before it exits.

        The pipe is never read before the child stops: a failed child sits in
        its exit stop, pipe still open, until we let it go; a good one closes
        it (CLOEXEC) at its execve.
        """
        while True:
            _, status = kernel.wait_tracee(pid)
            if not os.WIFSTOPPED(status):
                raise ChildProcessError(f"process {pid} died before its exec completed")
            event = kernel.event_of(status)
            if event == kernel.PTRACE_EVENT_EXEC:
                return
            if event == kernel.PTRACE_EVENT_EXIT:
                os.set_blocking(err_r, False)
                try:
                    failure = os.read(err_r, 4096)
                except BlockingIOError:
                    failure = b""
                kernel.cont(pid, 0)  # out of its exit stop
                _reap_tracee(pid)
                raise _launch_failure(plan, failure)
            sig = os.WSTOPSIG(status) if event == 0 else 0
            kernel.cont(pid, sig)  # a signal before exec: pass it on

    def _attach_process(self, pid: int) -> Process:
        if pid in self._processes:
            return self._processes[pid]
        if pid in (os.getpid(), self._waker) or pid <= 0:
            raise kernel.NotPermittedError(1, "PTRACE_SEIZE", pid)
        if not os.path.exists(f"/proc/{pid}/task"):
            raise kernel.NoSuchProcessError(3, "attach", pid)
        if procfs.tgid(pid) != pid:
            raise ValueError(f"{pid} is a thread of process {procfs.tgid(pid)}: attach to that")
        process = Process(self, pid, is_child=False)
        seized: set[int] = set()
        try:
            while True:  # threads may be created while we attach: until no new one
                new = set(procfs.task_ids(pid)) - seized
                if not new:
                    break
                for tid in sorted(new):
                    seized.add(tid)
                    self._seize_thread(process, tid)
            self._take_attach_traps(process)
            self._wait_out_clones(process, seized)
        except BaseException:
            self._detach_process(process)  # leave nothing half-attached
            raise
        if not process.threads:
            if procfs.task_state(pid, pid) == "Z":
                raise _exited_error(pid)
            raise kernel.NoSuchProcessError(3, "attach", pid)
        self._processes[pid] = process
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
            held += self._hold(process, None, (State.RUNNING,))
            new = set(procfs.task_ids(process.pid)) - seized
            if not new:
                break
            for tid in sorted(new):
                seized.add(tid)
                self._seize_thread(process, tid)
        self._release_others(held)

    def _take_attach_traps(self, process: Process) -> None:
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
            self._on_status(tid, status)

    def _seize_thread(self, process: Process, tid: int) -> None:
        try:
            kernel.seize(tid, TRACE_OPTIONS)
        except kernel.NoSuchProcessError:
            return  # exited meanwhile
        except kernel.NotPermittedError as exc:
            tracer = procfs.tracer_of(tid)
            if tracer == self._native_id:
                return  # auto-attached through a thread we seized: its clone event says so
            if procfs.task_state(process.pid, tid) == "Z":
                return  # exited (a zombie leader, say): the kernel refuses it, nothing to trace
            if tracer:
                raise kernel.NotPermittedError(
                    exc.errno, f"PTRACE_SEIZE (already traced by pid {tracer})", tid) from None
            raise
        thread = Thread(self, tid, process)
        thread.born = True
        process.threads[tid] = thread
        self._threads[tid] = thread

    # -- detaching ---------------------------------------------------------------------
    def _let_go(self, thread: Thread) -> None:
        """PTRACE_DETACH a stopped thread, passing on the signal it stopped for."""
        try:
            regs = thread.regs
            if regs is not None and (regs.changed or regs.extra_changed):
                self._write_registers(thread, regs)  # e.g. a PC rewound over a breakpoint
            if watchpoints.table_of(thread.process) is not None:
                watchpoints.WatchpointTable.clear(thread.tid)  # watchpoint hook
            kernel.detach(thread.tid, thread.inject)
        except kernel.NoSuchProcessError:
            pass
        self._reap_silently(thread)

    def _detach_process(self, process: Process) -> None:
        """Let every thread go, with the program's own code and its pending signals.

        Every thread is stopped *before* a byte is restored: a running thread
        could otherwise execute a trap and then be let go with its SIGTRAP
        (which kills it).  A thread that executed one just before owes that
        SIGTRAP: it is taken now, and the PC rewound (:meth:`_take_owed_hit`).
        """
        self._processes.pop(process.pid, None)  # leaving: no hook works on it any more
        seccomp.warn_if_filtered(process)  # seccomp hook: its filter stays, we do not
        self._claim_strays(process)
        threads = list(process.threads.values())
        for thread in threads:
            child = self._processes.get(thread.vfork_child or 0)
            if child is not None and thread.state == State.RUNNING:
                # A thread inside vfork() can stop only once its child has exec'd
                # or exited: let the child go first, or the wait below never ends.
                self._detach_process(child)
        self._stop_for_detach(threads)
        traps = self._restore_traps(process)
        for thread in threads:
            if thread.state == State.STOPPED:
                if traps:
                    self._take_owed_hit(thread, traps)
                self._let_go(thread)
            elif thread.state != State.GONE:
                self._reap_silently(thread)  # a zombie leader: ptrace cannot detach it
        self._let_go_newborn(process, traps)
        if process.is_child and process.status is None:
            self._let_go_children[process.pid] = process

    def _claim_strays(self, process: Process) -> None:
        """Statuses set aside for threads of ``process`` (met in some other wait) are theirs.

        A new thread's first stop can come, in a step-over's wait, before its
        creator's clone event: it was set aside as a stray, for the main loop.
        Detach runs before the loop gets to it, so it takes it here: else it
        would wait for a stop already taken (a hang), or leave the thread
        traced (it was never in the thread table).
        """
        for entry in list(self._strays):
            tid, status = entry
            thread = self._threads.get(tid)
            if thread is None:
                if tid == self._waker or procfs.tgid(tid) != process.pid:
                    continue
                thread = Thread(self, tid, process)
                process.threads[tid] = thread
                self._threads[tid] = thread
            elif thread.process is not process or thread.state != State.RUNNING:
                continue
            self._strays.remove(entry)
            thread.born = True
            self._defer(thread, status)  # taken back at once by _stop_for_detach

    def _take_stray(self, tid: int) -> bool:
        """Take a status of ``tid`` set aside as a stray; was there one?"""
        for entry in self._strays:
            if entry[0] == tid:
                self._strays.remove(entry)
                return True
        return False

    def _stop_for_detach(self, threads: list[Thread]) -> None:
        """Bring every thread into a ptrace stop (some may die meanwhile).

        All the running ones are interrupted first and then waited for
        together: one by one, each wait for a busy thread costs a scheduling
        round trip (100 busy threads took 12.8 s to close; bench/close.py).
        """
        for thread in threads:
            if thread.state == State.HELD:
                status = self._take_deferred(thread)
                thread.state = State.STOPPED
                self._note_stop_for_detach(thread, status)
        running = []
        for thread in threads:
            if thread.state not in (State.RUNNING, State.LISTENING):
                continue
            if thread.tid == thread.process.pid and thread.process.leader_cannot_report():
                continue  # it reports nothing until the other threads are gone
            try:
                kernel.interrupt(thread.tid)
            except kernel.NoSuchProcessError:
                self._reap_silently(thread)
                continue
            running.append(thread)
        statuses = self._collect(running)
        for thread in running:
            status = statuses.get(thread)
            if status is not None:
                self._note_stop_for_detach(thread, status)
            elif thread.state == State.RUNNING:
                thread.state = State.GONE  # a zombie leader, or no longer ours

    def _restore_traps(self, process: Process) -> dict[int, bytes]:
        """Write every original back; the originals of the traps, live or removed since exec."""
        if not process.has_traps_to_inherit():
            return {}
        table = process.breakpoints
        originals = dict(table.removed)
        originals.update((address, trap.original) for address, trap in table.traps.items())
        table.restore_all()  # leave the program its own code
        return originals

    def _let_go_newborn(self, process: Process, originals: dict[int, bytes]) -> None:
        """Detach the children born while ``process`` was being stopped, originals back.

        Let go at once, a new thread (or a vfork child) would run on the
        memory with our traps still in it, and a fork child's copy has them:
        the first to reach one died of SIGTRAP (torture finding G).
        """
        for child, parent in process.born_while_detaching:
            if originals:
                self._scrub_copy(parent, child, originals, process.arch.breakpoint_instruction)
            try:
                kernel.detach(child, 0)
            except kernel.NoSuchProcessError:
                pass
        process.born_while_detaching.clear()

    def _take_owed_hit(self, thread: Thread, traps: set[int]) -> None:
        """A thread in a job-control stop may owe a trap's SIGTRAP: take it before it goes.

        The SIGTRAP the trap raised waits in the thread's own pending set
        (``SigPnd``) behind the interrupt or group stop; resumed, the thread
        dequeues it first (synchronous signals go first) and stops for it.
        If that stop is a hit of one of our traps, the PC is rewound and the
        signal dropped; any other stop is kept for the detach as usual.
        """
        if not thread.jobctl_stop or not procfs.pending_unblocked(thread.tid, signal.SIGTRAP):
            return
        try:
            self._flush_registers(thread)
            kernel.cont(thread.tid, 0)
        except kernel.NoSuchProcessError:
            return
        thread.state = State.RUNNING
        self._wait_stopped(thread)
        if thread.state == State.STOPPED and thread.inject == signal.SIGTRAP:
            info = kernel.get_siginfo(thread.tid)
            regs = self._registers(thread)
            address = regs.pc - thread.arch.breakpoint_pc_offset
            if info.code == thread.arch.breakpoint_si_code and address in traps:
                regs.pc = address  # written back by _let_go
                thread.inject = 0

    def _wait_stopped(self, thread: Thread) -> None:
        """Wait for the stop an interrupt causes; keep the signal it may stop for."""
        status = self._collect([thread]).get(thread)
        if status is None:
            if thread.state == State.RUNNING:
                thread.state = State.GONE  # a zombie leader, or no longer ours
            return
        self._note_stop_for_detach(thread, status)

    def _take_deferred(self, thread: Thread) -> int:
        for entry in self._deferred:
            if entry[0] == thread.tid:
                self._deferred.remove(entry)
                return entry[1]
        raise AssertionError(f"held thread {thread.tid} has no deferred stop")

    def _note_stop_for_detach(self, thread: Thread, status: int) -> None:
        if not os.WIFSTOPPED(status):
            self._on_death(thread, status)
            return
        thread.state = State.STOPPED
        thread.regs = None
        event, sig = kernel.event_of(status), os.WSTOPSIG(status)
        thread.jobctl_stop = event == kernel.PTRACE_EVENT_STOP
        if event == 0 and sig == signal.SIGTRAP and self._at_our_trap(thread):
            pass  # a hit of our trap (live or retired): PC rewound, no signal
        elif event == 0 and sig != SYSCALL_STOP and not (sig == signal.SIGTRAP and thread.stepping):
            thread.inject = sig  # a signal-delivery stop: the signal goes on at detach
        elif event in CLONE_EVENTS:
            # Its new child is traced already: let that one go too, once the
            # originals are back (_let_go_newborn).
            child = kernel.get_event_msg(thread.tid)
            if child not in self._threads and not self._take_stray(child):
                kernel.wait_tracee(child)
            known = self._threads.pop(child, None)
            if known is not None and known.process is not None:
                known.process.threads.pop(child, None)
            thread.process.born_while_detaching.append((child, thread.tid))

    def _at_our_trap(self, thread: Thread) -> bool:
        """Is this SIGTRAP stop a hit of one of our traps?  Rewind the PC if so."""
        process = thread.process
        if process is None or not (process.has_traps() or process.has_retired_traps()):
            return False
        try:
            info = kernel.get_siginfo(thread.tid)
            regs = self._registers(thread)
        except kernel.NoSuchProcessError:
            return False
        address = regs.pc - thread.arch.breakpoint_pc_offset
        table = process.breakpoints
        if info.code != thread.arch.breakpoint_si_code or not (
                table.trap_at(address) is not None or table.owes_hit(address)):
            return False
        regs.pc = address  # written back by _let_go
        return True

    def _kill_process(self, process: Process, sig: int) -> None:
        try:
            os.kill(process.pid, sig)
        except ProcessLookupError:
            pass

    def _close(self, kill: bool) -> None:
        for process in list(self._processes.values()):
            if kill:
                self._kill_process(process, signal.SIGKILL)
                self._wait_gone(process)
            else:
                self._detach_process(process)
        try:
            os.kill(self._waker, signal.SIGKILL)
            kernel.wait_tracee(self._waker)
        except (ProcessLookupError, ChildProcessError):
            pass
        try:
            self._exit_pidfd = os.pidfd_open(threading.get_native_id(), _PIDFD_THREAD)
        except OSError:
            pass  # before Linux 6.9: close() cannot wait for the thread's end in the kernel
        with self._lock:
            self._closed = True

    def _wait_thread_exit(self) -> None:
        """Wait (bounded) until the kernel has ended the tracer thread, after join().

        A zombie leader cannot be PTRACE_DETACHed; the kernel lets it go when
        its tracer thread exits.  join() returns a little before that (Python
        is told when the thread's last bytecode ran), so close() would return
        with the leader still traced (TracerPid) for a moment.  A thread's
        pidfd becomes readable once it has exited, ptrace links released.
        """
        fd, self._exit_pidfd = self._exit_pidfd, None
        if fd is not None:
            select.select([fd], [], [], 10.0)
            os.close(fd)

    def _wait_gone(self, process: Process) -> None:
        while process.pid in self._processes and process.threads:
            try:
                tid, status = kernel.wait_tracees()
            except ChildProcessError:
                return
            if tid != self._waker:
                self._on_status(tid, status)


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    """What to run and how, checked in the caller's thread before anything is forked."""

    path: str  # the program file
    argv: tuple[str | bytes, ...]
    env: Mapping[str | bytes, str | bytes] | None  # None: ours
    cwd: str | bytes | None
    fds: tuple[int | None, int | None, int | None]  # the program's 0, 1, 2 (None: ours)
    filter_program: seccomp.FilterProgram | None = None  # seccomp: installed before execve
    disable_randomization: bool = False  # personality(ADDR_NO_RANDOMIZE), as gdb's default


_STREAMS = ("stdin", "stdout", "stderr")


def prepare_launch(argv: object, env: object = None, cwd: object = None,
                   fds: tuple[object, object, object] = (None, None, None),
                   filter_program: seccomp.FilterProgram | None = None,
                   disable_randomization: bool = False) -> LaunchPlan:
    """Check the arguments of ``Tracer.launch``; a clear TypeError/ValueError/OSError if bad.

    Everything the child could fail on that can be known beforehand is
    refused here, in the caller's thread: a child that cannot even try its
    ``execve`` has nobody to tell.
    """
    if isinstance(argv, str | bytes | os.PathLike):
        raise TypeError(f"launch() takes the command as a list of arguments, not the string "
                        f"{argv!r}: use [{argv!r}]")
    try:
        args = tuple(os.fspath(arg) for arg in argv)  # type: ignore[union-attr]
    except TypeError:
        raise TypeError("launch(): every argument must be a str, bytes or path, got "
                        f"{argv!r}") from None
    if not args:
        raise ValueError("nothing to launch: empty command")
    for arg in args:
        _no_nul(arg, "argument")
    plan_env = None if env is None else _checked_env(env)
    plan_cwd = None if cwd is None else _checked_cwd(cwd)
    program = os.fsdecode(args[0])
    path = program if "/" in program else shutil.which(program)
    relative = plan_cwd is not None and not os.path.isabs(program)
    if path is None or not (relative or os.path.exists(path)):
        raise FileNotFoundError(errno.ENOENT, f"no such program: {program}")
    checked = tuple(_checked_fd(fd, name) for fd, name in zip(fds, _STREAMS, strict=True))
    return LaunchPlan(path, args, plan_env, plan_cwd, checked,  # type: ignore[arg-type]
                      filter_program, bool(disable_randomization))


def _no_nul(text: str | bytes, what: str) -> None:
    if ("\0" if isinstance(text, str) else b"\0") in text:
        raise ValueError(f"launch(): embedded NUL in {what} {text!r}")


def _checked_env(env: object) -> dict:
    if not isinstance(env, Mapping):
        raise TypeError(f"launch(): env must be a mapping of str to str, not {type(env).__name__}")
    checked = {}
    for key, value in env.items():
        for what, item in (("name", key), ("value", value)):
            if not isinstance(item, str | bytes):
                raise TypeError(f"launch(): env {what} {item!r} (for {key!r}) is a "
                                f"{type(item).__name__}, not a str")
            _no_nul(item, f"env {what}")
        if not key or ("=" if isinstance(key, str) else b"=") in key:
            raise ValueError(f"launch(): bad environment variable name {key!r}")
        checked[key] = value
    return checked


def _checked_cwd(cwd: object) -> str | bytes:
    try:
        path = os.fspath(cwd)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"launch(): cwd must be a path, not {type(cwd).__name__}") from None
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "launch(): no such directory", path)
    if not os.path.isdir(path):
        raise NotADirectoryError(errno.ENOTDIR, "launch(): not a directory", path)
    return path


def _checked_fd(fd: object, name: str) -> int | None:
    if fd is None:
        return None
    if not isinstance(fd, int) or isinstance(fd, bool):
        hint = "; pass its .fileno()" if hasattr(fd, "fileno") else ""
        raise TypeError(f"launch(): {name} must be a file descriptor (an int) or None, "
                        f"not {type(fd).__name__}{hint}")
    try:
        os.fstat(fd)
    except OSError:
        raise ValueError(f"launch(): {name}={fd} is not an open file descriptor") from None
    return fd


def _child(plan: LaunchPlan, go_r: int, err_w: int) -> None:
    """The forked child: clean signals, wait until seized, set up, exec; never returns.

    Any failure is written to ``err_w`` as ``STEP ERRNO`` (or ``STEP -1
    TEXT``) before the child exits with 127, so the parent can say what went
    wrong and where.
    """
    step = "signals"
    try:
        kernel.reset_signals()
        os.read(go_r, 1)
        os.close(go_r)
        step = "fds"
        for target, fd in enumerate(plan.fds):
            if fd is not None:
                os.dup2(fd, target)
        if plan.cwd is not None:
            step = "chdir"
            os.chdir(plan.cwd)
        if plan.disable_randomization:
            step = "personality"
            _no_randomization()
        if plan.filter_program is not None:
            # Last, so that our own calls above stop nowhere; a failure leaves the
            # full path (the parent sees no filter in /proc), as strace does.
            step = "seccomp"
            plan.filter_program.install()
        step = "exec"
        os.execve(plan.path, plan.argv, os.environ if plan.env is None else plan.env)
    except OSError as exc:
        os.write(err_w, f"{step} {exc.errno}".encode())
    except BaseException as exc:  # noqa: BLE001 -- whatever it is, say it and exit
        os.write(err_w, f"{step} -1 {exc!r}".encode(errors="replace"))
    finally:
        os._exit(127)


ADDR_NO_RANDOMIZE = 0x0040000  # linux/personality.h


def _no_randomization() -> None:
    """In the child: the program about to be exec'd gets no ASLR (kept across exec).

    Best effort, as gdb (which only warns): where the kernel or a seccomp
    policy refuses, the program runs randomized."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    current = libc.personality(0xFFFFFFFF)
    if current != -1:
        libc.personality(current | ADDR_NO_RANDOMIZE)


def _launch_failure(plan: LaunchPlan, failure: bytes) -> Exception:
    """The exception the child's failure report stands for."""
    step, _, rest = failure.decode(errors="replace").partition(" ")
    err_text, _, text = rest.partition(" ")
    try:
        err = int(err_text)
    except ValueError:
        return ChildProcessError(f"cannot execute {plan.path}: the child exited before execve")
    if err < 0:
        return RuntimeError(f"cannot execute {plan.path}: {step} failed: {text}")
    what = {"chdir": f"cannot change directory to {os.fsdecode(plan.cwd or '')}",
            "fds": f"cannot set up stdin/stdout/stderr for {plan.path}",
            "signals": f"cannot reset signals for {plan.path}"}.get(step,
                                                                  f"cannot execute {plan.path}")
    return OSError(err, f"{what}: {os.strerror(err)}")


def _exited_error(pid: int) -> kernel.NoSuchProcessError:
    """The kernel refuses to seize a zombie (EPERM): say what it is."""
    error = kernel.NoSuchProcessError(errno.ESRCH, "PTRACE_SEIZE", pid)
    error.strerror = f"process {pid} has exited (zombie)"
    return error


def _reap_tracee(pid: int) -> None:
    """Wait for a tracee child to die, letting it pass its exit stop."""
    while True:
        _, status = kernel.wait_tracee(pid)
        if not os.WIFSTOPPED(status):
            return
        kernel.cont(pid, 0)


