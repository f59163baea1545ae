"""The loop and the waker: the tracer thread waits for stops and takes requests.

The kernel ties a tracee to the *thread* that attached it, so one Python
thread makes every ptrace request.  It blocks in ``waitpid(__WALL |
__WNOTHREAD)`` -- only its own tracees and children, never the host
program's -- and hands each status to the fast lane (a plain syscall stop)
or to the stop handlers.

Other Python threads (a REPL, a gdb socket, a script) reach it through
:meth:`Loop.call`: the request is queued and the tracer woken by a signal to
a *waker*, a sleeping child process that the tracer itself traces, so the
signal becomes a ptrace stop that ends the ``waitpid``.  No polling, no
signal handler in the host program.
"""

from __future__ import annotations

import collections
import logging
import os
import select
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from .. import kernel
from ..process import State
from ..stopkinds import LANE_STATUS, WAKE_SIGNAL
from . import ports
from .tables import Tables

PIDFD_THREAD = os.O_EXCL  # pidfd_open(2): a pidfd for one thread, readable once it exits

log = logging.getLogger("pydbg_utrace")


class FastLane(Protocol):
    def on_syscall(self, thread: Any) -> bool: ...
    def something_ran(self) -> None: ...


class Loop:
    """The tracer thread's loop, its request queue and its waker."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.requests: collections.deque = collections.deque()
        self.lock = threading.Lock()
        self.closed = False
        self.stopped = False  # the tracer thread left its loop (closed or died)
        self.failure: BaseException | None = None  # what killed the tracer thread
        self.waker = 0
        self.native_id = 0
        self.ready = threading.Event()
        self.startup_error: BaseException | None = None
        self.thread: threading.Thread | None = None
        self.exit_pidfd: int | None = None  # the tracer thread's own pidfd, opened as it leaves

    def connect(self, stops: ports.StopHandling, fast: FastLane) -> None:
        self.stops = stops
        self.fast = fast

    def start(self, main: Callable[[], None]) -> None:
        """Start the tracer thread (its body: ``main``, which calls :meth:`main`)."""
        self.thread = threading.Thread(target=main, name="pydbg-utrace tracer", daemon=True)
        self.thread.start()
        self.ready.wait()
        if self.startup_error is not None:
            raise self.startup_error

    def mark_closed(self) -> None:
        """No request is taken after this (close() ran on the tracer thread)."""
        with self.lock:
            self.closed = True

    # -- marshalling to the tracer thread ------------------------------------------
    def submit(self, fn: Callable, args: tuple) -> Future:
        """Queue ``fn(*args)`` for the tracer thread (the caller then wakes it)."""
        future: Future = Future()
        with self.lock:
            if self.closed or self.stopped:
                raise self.gone_error()
            self.requests.append((fn, args, future))
        return future

    def gone_error(self) -> RuntimeError:
        """Why no request can be carried out any more."""
        if self.failure is not None:
            return RuntimeError(f"the tracer thread died: {self.failure!r}")
        return RuntimeError("the tracer is closed")

    def wake(self) -> None:
        try:
            os.kill(self.waker, WAKE_SIGNAL)
        except ProcessLookupError:
            pass  # the tracer is replacing it; it drains the queue anyway

    def drain(self) -> None:
        self.fast.something_ran()
        while self.requests:
            fn, args, future = self.requests.popleft()
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to the caller, who raises it
                future.set_exception(exc)

    def wait_exited(self) -> None:
        """Wait (bounded) until the kernel has ended the tracer thread that left its loop.

        The kernel lets the thread's tracees go (a zombie leader too, which
        PTRACE_DETACH cannot) only as the thread itself exits.  join() and
        is_alive() tell a little before that (Python is told when the thread's
        last bytecode ran): a waitpid() meanwhile, from any thread of ours,
        may still be handed a tracee's ptrace stop.  The thread's pidfd becomes
        readable once it has exited, its ptrace links released.
        """
        fd, self.exit_pidfd = self.exit_pidfd, None
        if fd is not None:
            select.select([fd], [], [], 10.0)
            os.close(fd)

    # -- the loop --------------------------------------------------------------------
    def main(self) -> None:
        """The tracer thread's body: start the waker, then the loop until closed."""
        self.native_id = threading.get_native_id()
        try:
            self.start_waker()
        except BaseException as exc:
            self.startup_error = exc
            self.ready.set()
            return
        self.ready.set()
        try:
            self.run()
        except BaseException as exc:  # a bug of ours: say so, and fail every caller at once
            self.failure = exc
            log.critical("the tracer thread died; every traced thread is let go by the kernel",
                         exc_info=exc)
        finally:
            self.stop()

    def stop(self) -> None:
        """The tracer thread is leaving: no request is taken or left waiting after this."""
        try:
            self.exit_pidfd = os.pidfd_open(threading.get_native_id(), PIDFD_THREAD)
        except OSError:
            pass  # before Linux 6.9: wait_exited() cannot wait for the thread's end in the kernel
        with self.lock:
            self.stopped = True
            requests = list(self.requests)
            self.requests.clear()
        for _fn, _args, future in requests:
            future.set_exception(self.gone_error())
        for process in [*self.tables.processes.values(), *self.tables.let_go_children.values()]:
            process.record_tracer_gone()  # wake whoever waits for it: wait() raises now

    def run(self) -> None:
        """Requests first, then strays, deferred stops, and the next wait's status."""
        # (These tables are never replaced: bound once, a lookup less a stop.)
        requests, deferred, strays = self.requests, self.tables.deferred, self.tables.strays
        threads_get = self.tables.threads.get
        on_syscall = self.fast.on_syscall
        while not self.closed:
            if requests:
                self.drain()
                if self.closed:
                    break
            if strays:  # (first: step-overs can refill `deferred` for ever, FOUND I)
                tid, status = strays.popleft()
            elif deferred:
                tid, status = deferred.popleft()
                thread = threads_get(tid)
                if thread is None or thread.state != State.HELD:
                    continue  # detached or reaped meanwhile
                thread.state = State.RUNNING
            else:
                try:
                    tid, status = kernel.wait_tracees()
                except ChildProcessError:
                    self.start_waker()
                    continue
            try:
                # A syscall stop: the fast lane, if it may.  (Before the waker's
                # test: the waker, never resumed with PTRACE_SYSCALL, makes none.)
                if status == LANE_STATUS:
                    thread = threads_get(tid)
                    if thread is not None and on_syscall(thread):
                        continue
            except BaseException:  # a bug of ours must not stop every tracee
                log.exception("while handling status %#x of thread %d", status, tid)
                continue
            if tid == self.waker:
                self.on_waker(status)
                continue
            try:
                self.fast.something_ran()
                self.stops.on_status(tid, status)
            except BaseException:  # a bug of ours must not stop every tracee
                log.exception("while handling status %#x of thread %d", status, tid)

    def start_waker(self) -> None:
        """A sleeping child, seized: a signal to it is a ptrace stop that wakes the wait."""
        sleep = shutil.which("sleep") or "/bin/sleep"
        self.waker = os.posix_spawn(
            sleep, ["sleep", "2147483647"], os.environ,
            file_actions=[(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)],
            setpgroup=0,
        )
        kernel.seize(self.waker, kernel.PTRACE_O_EXITKILL)

    def on_waker(self, status: int) -> None:
        if os.WIFSTOPPED(status):
            kernel.cont(self.waker, 0)  # swallow the wake-up signal
        else:
            self.start_waker()  # someone killed it
