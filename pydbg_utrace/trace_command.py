"""``pydbg-utrace trace``: strace's command line on the multiplexer.

The options are parsed by :mod:`pydbg_utrace.strace_options` (pure); this
module is the edge: it opens the output, builds the engines the options ask
for (the injector first, then the log or the JSON, then the summary), runs
or attaches, and ends with the program's exit status.  Every error a user
can cause is one line on stderr and a non-zero status, with nothing left
stopped: the tracer is closed (detaching from whatever it holds) on the
way out.  A program killed by a signal ends the command by the same signal,
as strace does.
"""

from __future__ import annotations

import os
import queue
import resource
import signal
import sys
from collections.abc import Callable
from typing import TextIO

from . import NoSuchThreadError, Tracer
from . import arch as arches
from .frontends import describe, wait_interruptibly
from .kernel import NoSuchProcessError
from .strace_options import HelpRequested, TraceRequest, UsageError, parse, traced_numbers

PROG = "pydbg-utrace"


class PerProcessFiles:
    """``-ff -o FILE``: ``FILE.PID`` for each process (thread) that writes, opened on first use."""

    def __init__(self, prefix: str, mode: str = "w") -> None:
        self.prefix = prefix
        self.mode = mode
        self.files: dict[int, TextIO] = {}

    def __call__(self, pid: int) -> TextIO:
        out = self.files.get(pid)
        if out is None:
            out = self.files[pid] = open(f"{self.prefix}.{pid}", self.mode)  # noqa: SIM115
        return out

    def close(self) -> None:
        for out in self.files.values():
            out.close()


def main(argv: list[str]) -> int:
    """Run ``trace ARGV``; the exit status (the program's, as strace passes it on)."""
    try:
        request = parse(argv)
    except HelpRequested as exc:
        print(exc)
        return 0
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    for warning in request.warnings:
        print(f"{PROG}: {warning}", file=sys.stderr)
    try:
        return run(request)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1


def open_output(request: TraceRequest) -> tuple[TextIO | PerProcessFiles, Callable[[], None]]:
    """The log's destination and how to close it; strace's one line if it cannot be opened."""
    path = request.output
    if path is None:
        return sys.stderr, lambda: sys.stderr.flush()
    if request.options.follow_files:
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory) or not os.access(directory, os.W_OK | os.X_OK):
            reason = "No such file or directory" if not os.path.isdir(directory) else \
                "Permission denied"
            raise UsageError(f"Can't fopen '{path}.PID': {reason}")
        files = PerProcessFiles(path, "a" if request.append else "w")
        return files, files.close
    try:
        out = open(path, "a" if request.append else "w")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"Can't fopen '{path}': {exc.strerror}") from None
    return out, out.close


def build_engines(request: TraceRequest, out) -> dict:
    """The engines of this run, by role, in attach order (the injector first: see its doc)."""
    options = request.options
    engines: dict = {}
    if options.injections:
        from .engines.syscall_inject import SyscallInjector

        engines["inject"] = SyscallInjector(options.injections, follow=options.follow)
    if options.summary != "c":
        if options.json:
            from .engines.syscall_json import SyscallJson

            engines["log"] = SyscallJson(out, follow=options.follow, options=options)
        else:
            engines["log"] = _syscall_logger(out, options)
    if options.summary:
        from .engines.syscall_summary import SyscallSummary

        engines["summary"] = SyscallSummary(follow=options.follow, names=options.trace,
                                            sort_by=options.summary_sort,
                                            wall_clock=options.summary_wall,
                                            paths=options.paths)
    return engines


def _syscall_logger(out, options):
    # Imported only when asked: python-ptrace's prototypes do not import everywhere (s390x).
    from .engines.syscall_log import SyscallLogger

    return SyscallLogger(out, follow=options.follow, options=options)


def narrow_to_traced_syscalls(engines: dict, numbers: frozenset[int]) -> None:
    """THE SECCOMP HOOK, part 2: every attachment of every engine wants only ``numbers``.

    ``numbers`` is what ``-e trace=`` and ``-e inject=`` select, for the
    tracee's arch (:func:`traced_numbers`); the launch got the same set as
    its kernel filter (part 1, in :func:`_launch`).  A thread stays on the
    fast path only while each of its attachments is narrowed, followed
    children included: so the narrowing is in every engine's ``attach_to``
    (engines/following.py), which its ``report_clone`` uses for them.
    """
    for engine in engines.values():
        engine.syscall_filter = numbers  # FollowingEngine.attach_to narrows each attachment


def _launch(tracer: Tracer, request: TraceRequest, engines: dict):
    """THE SECCOMP HOOK, part 1: the launch installs the filter between fork and exec.

    With ``--seccomp-bpf`` (and ``-f``, checked by the parser, as strace does)
    the kernel stops the program only at the traced calls; without a
    ``-e trace=`` there is nothing to filter and every call stops.
    """
    argv = list(request.command)
    env = request.environment(dict(os.environ))  # -E (None: ours as it is)
    numbers = traced_numbers(request.options, arches.host())
    if not request.options.seccomp_bpf or numbers is None:
        return tracer.launch(argv, env=env)
    narrow_to_traced_syscalls(engines, numbers)
    return tracer.launch(argv, env=env, syscall_filter=numbers)


#: strace's fatal signals: they end an interactive trace (TraceRequest.interactive), and
#: are ignored otherwise.
FATAL_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM)


class Interrupted(Exception):
    """One of :data:`FATAL_SIGNALS` came: detach, write what is owed, die of it (strace)."""

    def __init__(self, signo: int) -> None:
        super().__init__(signo)
        self.signo = signo


def _interrupt(signo: int, frame: object) -> None:
    raise Interrupted(signo)


def take_fatal_signals(interactive: bool) -> None:
    """strace's handlers: caught (the trace ends) when interactive, else ignored.

    Set whatever they were inherited as (under nohup SIGHUP is ignored), as
    strace does, and after the launch: a signal ignored by whoever started us
    stays ignored in the program (kernel.reset_signals), one we ignore does not.
    """
    for signo in FATAL_SIGNALS:
        signal.signal(signo, _interrupt if interactive else signal.SIG_IGN)


def say(message: str) -> None:
    """One of strace's messages on stderr, with our name where strace has ``strace:``."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def run(request: TraceRequest) -> int:
    out, close_out = open_output(request)
    engines = build_engines(request, out)
    if request.notices and request.options.follow:
        from .engines.following import AttachNotices

        engines["notices"] = AttachNotices(say, held=bool(request.pids))
    if request.options.detach_on_execve:  # last: the others hear of the exec first
        from .engines.following import DetachOnExec

        engines["detach"] = DetachOnExec(follow=request.options.follow)
    tracer = Tracer()
    started = False
    processes: list = []
    signo = 0
    try:
        try:
            _start(tracer, request, engines, processes)
            started = True
            statuses = _wait(tracer, request, processes, engines)
        except KeyboardInterrupt:  # (the handlers were not in yet)
            signo = signal.SIGINT
        except Interrupted as exc:
            signo = exc.signo
        finally:
            for fatal in FATAL_SIGNALS:  # nothing interrupts the clean-up
                signal.signal(fatal, signal.SIG_IGN)
            if "inject" in engines:
                engines["inject"].release_all()  # held calls go on before we let go
            if signo:
                _let_go(tracer, request, processes, engines, signo)
            tracer.close()
            # After Ctrl-C or SIGTERM too, as strace (one may come before _start returned:
            # its handlers are in from the attach or the launch on).
            if (started or signo) and "summary" in engines:
                (sys.stderr if callable(out) else out).write(engines["summary"].table())
    finally:
        close_out()
    if signo:
        die_like(signo)
        return 128 + signo
    if request.pids:
        return 0
    if os.WIFSIGNALED(statuses[0]):
        die_like(signo := os.WTERMSIG(statuses[0]))
        return 128 + signo
    return _exit_code(statuses[0])


def _wait(tracer: Tracer, request: TraceRequest, processes: list, engines: dict) -> list[int]:
    """Each process's wait status once it ended; with ``-b execve``, 0 for one let go at an
    exec (strace's: it no longer sees the program's status), after the program we launched
    ended all the same (strace waits for its child)."""
    detacher = engines.get("detach")
    if detacher is None:
        return [wait_interruptibly(process) for process in processes]
    let_go: set[int] = set()
    while not all(p.status is not None or p.pid in let_go for p in processes):
        try:
            thread = detacher.requests.get(timeout=0.5)  # (slices: Ctrl-C comes through)
        except queue.Empty:
            continue
        if thread is not None:
            let_go.add(thread.process.pid)
            tracer.call(_detach_at_exec, request, engines, thread)
    for process in processes:
        if process.pid in let_go and process.is_child:  # (-p: not ours to wait for)
            wait_interruptibly(process)
    return [0 if p.pid in let_go else p.status for p in processes]


def _detach_at_exec(request: TraceRequest, engines: dict, thread) -> None:
    """-b execve, on the tracer thread: the process goes, then strace's message, and its
    execve line (if still open) ends in `` <detached ...>``."""
    try:
        thread.process.detach()
    except (NoSuchThreadError, NoSuchProcessError):
        return  # killed meanwhile: its death is logged as any other
    if request.notices:
        say(f"Process {thread.tid} detached")
    log = engines.get("log")
    if hasattr(log, "detached"):
        log.detached(thread.tid)


def _let_go(tracer: Tracer, request: TraceRequest, processes: list, engines: dict,
            signo: int) -> None:
    """Interrupted: as strace's cleanup, every thread detached ("Process N detached"), a
    line left open ends in `` <detached ...>``, and the program we launched gets the
    signal (after the detach: its end is not ours to log)."""
    if request.options.follow:  # every thread we trace; else those we started with
        traced = tracer.processes
        tids = tracer.call(lambda: [tid for process in traced for tid in process.threads])
    else:
        tids = [process.pid for process in processes]
    tracer.close()
    log = engines.get("log")
    for tid in tids:  # strace's order: the message, then the line it cuts
        if request.notices:
            say(f"Process {tid} detached")
        if hasattr(log, "detached"):
            log.detached(tid)
    launched = processes[0] if processes and not request.pids else None
    if launched is not None and launched.status is None:
        for sent in (signal.SIGCONT, signo):
            os.kill(launched.pid, sent)


def _start(tracer: Tracer, request: TraceRequest, engines: dict, processes: list) -> None:
    """Launch or attach, with every engine on every thread, into ``processes``.

    Each one is in the list as soon as it is traced: a fatal signal may come
    while the next is attached (or right after the message), and the clean-up
    lets go of -- and says "detached" for -- each one the list holds.
    """
    options = request.options
    if request.pids:
        take_fatal_signals(request.interactive)  # (before a message says we trace)
        for pid in request.pids:
            try:
                process = tracer.attach_process(pid)
            except OSError as exc:
                raise UsageError(_attach_error(pid, exc)) from None
            processes.append(process)
            threads = len(process.thread_list()) if options.follow else 1
            _attach_all(process, engines, whole=options.follow)  # (no seccomp with -p: strace's)
            if request.notices:  # strace's words, once its calls are traced
                say(f"Process {pid} attached" + (f" with {threads} threads"
                                                 if threads > 1 else ""))
        if "notices" in engines:  # the threads born meanwhile, after strace's first words
            engines["notices"].open()
        return
    try:
        process = _launch(tracer, request, engines)
    except (OSError, ValueError, RuntimeError) as exc:  # no such program, not executable
        raise UsageError(describe(exc)) from None
    _attach_all(process, engines, whole=False)
    # After the launch, as strace: the program inherits our dispositions as they were.
    take_fatal_signals(request.interactive)
    process.start()
    processes.append(process)


def _attach_all(process, engines: dict, whole: bool) -> list:
    attachments = []
    for engine in engines.values():
        if whole:
            attachments.extend(engine.attach_to_process(process))
        else:
            attachments.append(engine.attach_to(process.main_thread))
    return attachments


def _attach_error(pid: int, exc: OSError) -> str:
    from . import kernel

    if isinstance(exc, kernel.NoSuchProcessError):
        if exc.strerror and "(zombie)" in exc.strerror:  # the core's words beat EPERM's
            return exc.strerror
        return f"attach: ptrace(PTRACE_SEIZE, {pid}): No such process"
    if isinstance(exc, kernel.NotPermittedError) and "already traced" in str(exc):
        return f"cannot attach: {exc.strerror}"
    return f"attach: ptrace(PTRACE_SEIZE, {pid}): {describe(exc)}"


def die_like(signo: int) -> None:
    """End as the program ended: killed by ``signo``, as strace does (its ``terminate()``).

    A shell sees 128+N either way; a parent that reads the wait status sees
    the signal.  No core file of ours: RLIMIT_CORE is 0 first.  If the signal
    does not kill us after all, the caller exits with 128+N.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signo, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signo})
    os.kill(os.getpid(), signo)


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


