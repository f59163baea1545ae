"""The tracer's lifecycle half: launching, attaching to, and detaching from programs.

A mixin of :class:`pydbg_utrace.tracer.Tracer` (it uses the tracer's state and
runs on the tracer thread only).  Nothing is left stopped or changed when it
detaches: traps are written back, a stopped thread gets its signal back.
"""

from __future__ import annotations

import os
import shutil
import signal

from . import kernel, watchpoints
from .process import Process, State, Thread
from .stopkinds import CLONE_EVENTS, LAUNCH_HOLD, SYSCALL_STOP, TRACE_OPTIONS


class Lifecycle:
    """Launch, attach, detach and close, for the tracer."""

    # -- launching and attaching -----------------------------------------------------
    def _launch(self, argv: list[str], env: dict[str, str] | None, cwd: str | None,
                kill_on_exit: bool, fds: tuple[int | None, ...]) -> Process:
        if not argv:
            raise ValueError("nothing to launch: empty command")
        path = argv[0] if "/" in argv[0] else shutil.which(argv[0])
        if path is None or not os.path.exists(path):
            raise FileNotFoundError(f"no such program: {argv[0]}")
        go_r, go_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: wait until seized, then exec (no other Python runs here)
            try:
                os.close(go_w)
                os.read(go_r, 1)
                for target, fd in enumerate(fds):
                    if fd is not None:
                        os.dup2(fd, target)
                if cwd is not None:
                    os.chdir(cwd)
                os.execve(path, argv, os.environ if env is None else env)
            except OSError as exc:
                os.write(err_w, str(exc.errno).encode())
            finally:
                os._exit(127)
        os.close(go_r)
        os.close(err_w)
        options = TRACE_OPTIONS | (kernel.PTRACE_O_EXITKILL if kill_on_exit else 0)
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
        # One read: EOF means execve succeeded (CLOEXEC closed the pipe); digits
        # are its errno.  Never read to EOF: a failed child sits in its exit stop
        # with the pipe still open until we let it go.
        failure = os.read(err_r, 16)
        os.close(err_r)
        if failure:
            _reap_tracee(pid)
            err = int(failure)
            raise OSError(err, f"cannot execute {path}: {os.strerror(err)}")
        self._wait_for_exec(pid)
        process = Process(self, pid, is_child=True)
        thread = Thread(self, pid, process)
        thread.born = True
        thread.state = State.STOPPED
        thread.holds.add(LAUNCH_HOLD)
        process.threads[pid] = thread
        self._threads[pid] = thread
        self._processes[pid] = process
        return process

    @staticmethod
    def _wait_for_exec(pid: int) -> None:
        while True:
            _, status = kernel.wait_tracee(pid)
            if not os.WIFSTOPPED(status):
                raise ChildProcessError(f"process {pid} died before its exec completed")
            if kernel.event_of(status) == kernel.PTRACE_EVENT_EXEC:
                return
            sig = os.WSTOPSIG(status) if kernel.event_of(status) == 0 else 0
            kernel.cont(pid, sig)  # a signal before exec: pass it on

    def _attach_process(self, pid: int) -> Process:
        if pid in self._processes:
            return self._processes[pid]
        if pid in (os.getpid(), self._waker) or pid <= 0:
            raise kernel.NotPermittedError(1, "PTRACE_SEIZE", pid)
        if not os.path.exists(f"/proc/{pid}/task"):
            raise kernel.NoSuchProcessError(3, "attach", pid)
        if _tgid(pid) != pid:
            raise ValueError(f"{pid} is a thread of process {_tgid(pid)}: attach to that")
        process = Process(self, pid, is_child=False)
        seized: set[int] = set()
        try:
            while True:  # threads may be created while we attach: until no new one
                new = set(_task_ids(pid)) - seized
                if not new:
                    break
                for tid in sorted(new):
                    seized.add(tid)
                    self._seize_thread(process, tid)
            self._take_attach_traps(process)
        except BaseException:
            self._detach_process(process)  # leave nothing half-attached
            raise
        if not process.threads:
            raise kernel.NoSuchProcessError(3, "attach", pid)
        self._processes[pid] = process
        return process

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
            if _state_of(process.pid, thread.tid) != "t":
                continue
            tid, status = kernel.wait_tracee(thread.tid)
            self._on_status(tid, status)

    def _seize_thread(self, process: Process, tid: int) -> None:
        try:
            kernel.seize(tid, TRACE_OPTIONS)
        except kernel.NoSuchProcessError:
            return  # exited meanwhile
        except kernel.NotPermittedError as exc:
            tracer = _tracer_of(tid)
            if tracer == self._native_id:
                return  # auto-attached through a thread we seized: its clone event says so
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
        if process.has_traps():
            process.breakpoints.restore_all()  # leave the program its own code
        for thread in list(process.threads.values()):
            self._detach_thread(thread)
        self._processes.pop(process.pid, None)
        if process.is_child and process.status is None:
            self._let_go_children[process.pid] = process

    def _detach_thread(self, thread: Thread) -> None:
        if thread.state == State.HELD:
            status = self._take_deferred(thread)
            thread.state = State.STOPPED
            self._note_stop_for_detach(thread, status)
        if thread.state in (State.RUNNING, State.LISTENING):
            try:
                kernel.interrupt(thread.tid)
            except kernel.NoSuchProcessError:
                self._reap_silently(thread)
                return
            self._wait_stopped(thread)
        if thread.state == State.STOPPED:
            self._let_go(thread)
        else:
            self._reap_silently(thread)

    def _wait_stopped(self, thread: Thread) -> None:
        """Wait for the stop an interrupt causes; keep the signal it may stop for."""
        try:
            _, status = kernel.wait_tracee(thread.tid)
        except ChildProcessError:
            thread.state = State.GONE
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
        event, sig = kernel.event_of(status), os.WSTOPSIG(status)
        if event == 0 and sig != SYSCALL_STOP and not (sig == signal.SIGTRAP and thread.stepping):
            thread.inject = sig  # a signal-delivery stop: the signal goes on at detach
        elif event in CLONE_EVENTS:
            # Its new child is traced already: let that one go too.
            child = kernel.get_event_msg(thread.tid)
            if child not in self._threads:
                kernel.wait_tracee(child)
            try:
                kernel.detach(child, 0)
            except kernel.NoSuchProcessError:
                pass
            self._threads.pop(child, None)

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
        with self._lock:
            self._closed = True

    def _wait_gone(self, process: Process) -> None:
        while process.pid in self._processes and process.threads:
            try:
                tid, status = kernel.wait_tracees()
            except ChildProcessError:
                return
            if tid != self._waker:
                self._on_status(tid, status)


def _reap_tracee(pid: int) -> None:
    """Wait for a tracee child to die, letting it pass its exit stop."""
    while True:
        _, status = kernel.wait_tracee(pid)
        if not os.WIFSTOPPED(status):
            return
        kernel.cont(pid, 0)


def _tgid(tid: int) -> int:
    try:
        with open(f"/proc/{tid}/status") as status:
            for line in status:
                if line.startswith("Tgid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return tid


def _state_of(pid: int, tid: int) -> str:
    """The one-letter state in /proc/PID/task/TID/stat ('' once it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as stat:
            data = stat.read()
    except OSError:
        return ""
    return data[data.rindex(")") + 2]


def _tracer_of(tid: int) -> int:
    try:
        with open(f"/proc/{tid}/status") as status:
            for line in status:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _task_ids(pid: int) -> list[int]:
    try:
        return [int(name) for name in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []
