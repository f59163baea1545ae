"""Commands about engines: which are attached, and loading more beside the REPL.

A scripted engine is a Python file that defines an :class:`Engine` subclass;
``engine load`` instantiates it (no arguments) and attaches it to every thread
of the program, now and at each `run`.  It says what it wants either with an
``attach_to(thread)`` method or an ``events`` attribute (or method).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from pydbg_utrace import Engine, UtraceError
from pydbg_utrace.engine_files import EngineFileError, attach_engine, load_engine

from .commands import CommandError, command

if TYPE_CHECKING:
    from .context import Context

LOGGER_NAME = "syscall-log"


@command("info engines", "info engines")
def info_engines(dbg: Context, args: str) -> None:
    """Every engine on each thread, with its event mask."""
    session = dbg.session
    engines = session.on_tracer(_engines_by_thread, session.thread_list())
    for number, tid in session.threads():
        if tid not in engines:
            continue
        dbg.say(f"Thread {number} ({tid}):")
        for att in engines[tid]:
            mask = textwrap.wrap(_mask(att.events).replace("|", "| "), 62)
            dbg.say(f"  {att.engine.display_name():<16}{mask[0].replace('| ', '|')}")
            for more in mask[1:]:
                dbg.say(f"{'':<18}{more.replace('| ', '|')}")
    for name, engine in session.extras.items():
        status = getattr(engine, "status", None)
        if callable(status):
            dbg.say(f"{name}: {status()}")


def _engines_by_thread(threads: list) -> dict:
    """(Tracer thread: the owner of each thread's list of attachments.)"""
    return {thread.tid: list(thread.attachments) for thread in threads}


def _mask(events) -> str:
    names = [flag.name for flag in type(events) if flag & events and flag.name
             and bin(flag.value).count("1") == 1]
    return "|".join(names) or "NONE"


@command("engine load", "engine load FILE.py", complete="files")
def engine_load(dbg: Context, args: str) -> None:
    """Load the Engine subclass in FILE.py beside the REPL.

    It attaches to every thread of the program, now and at each `run`.

    A bare name (syscall_count) is looked up among the ready engines too.
    """
    path = _engine_path(args)
    engine = _instantiate(path)
    name = engine.display_name()
    session = dbg.session
    if name in session.extras:
        raise CommandError(f"An engine called {name} is loaded already (engine unload {name}).")
    if session.alive:
        for thread in session.thread_list():
            attach_engine(engine, thread)
    session.extras[name] = engine
    dbg.say(f"Engine {name} loaded from {path}"
            + ("" if session.alive else " (attached at `run`)"))


def _engine_path(args: str) -> Path:
    if not args:
        raise CommandError("Give a file: engine load FILE.py")
    path = Path(args).expanduser()
    if path.is_file():
        return path
    import pydbg_utrace.engines as ready

    candidate = Path(ready.__file__).parent / (args if args.endswith(".py") else args + ".py")
    if "/" not in args and candidate.is_file():
        return candidate
    raise CommandError(f"{args}: No such file.")


def _instantiate(path: Path) -> Engine:
    try:
        return load_engine(path)
    except EngineFileError as exc:
        raise CommandError(str(exc)) from None


@command("engine unload", "engine unload NAME", complete="engines")
def engine_unload(dbg: Context, args: str) -> None:
    """Detach loaded engine NAME (and show its summary)."""
    session = dbg.session
    engine = session.extras.pop(args, None)
    if engine is None:
        loaded = ", ".join(session.extras) or "none"
        raise CommandError(f"No loaded engine {args!r} (loaded: {loaded}).")
    _detach_everywhere(dbg, engine)
    summary = getattr(engine, "summary", None)
    if callable(summary):
        dbg.say(summary())
    dbg.say(f"Engine {args} unloaded")


def _detach_everywhere(dbg: Context, engine: Engine) -> None:
    from pydbg_utrace import Resume

    if not dbg.session.alive:
        return
    session = dbg.session
    engines = session.on_tracer(_engines_by_thread, session.thread_list())
    for atts in engines.values():
        for att in atts:
            if att.engine is engine:
                try:
                    att.control(Resume.DETACH)
                except UtraceError:
                    pass  # already gone with its thread


@command("trace syscalls", "trace syscalls on|off")
def trace_syscalls(dbg: Context, args: str) -> None:
    """Log every syscall beside the REPL (strace format)."""
    from pydbg_utrace.engines.syscall_log import SyscallLogger

    session = dbg.session
    if args == "on":
        if LOGGER_NAME in session.extras:
            raise CommandError("Syscall tracing is on already.")
        logger = SyscallLogger(dbg.out, follow=False)
        if session.alive:
            for thread in session.thread_list():
                logger.attach_to(thread)
        session.extras[LOGGER_NAME] = logger
        dbg.say("Syscall tracing on.")
    elif args == "off":
        logger = session.extras.pop(LOGGER_NAME, None)
        if logger is None:
            raise CommandError("Syscall tracing is off already.")
        _detach_everywhere(dbg, logger)
        dbg.say("Syscall tracing off.")
    else:
        raise CommandError("Usage: trace syscalls on|off")
