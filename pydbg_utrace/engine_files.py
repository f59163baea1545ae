"""Engines from Python files: load one, attach it the way it asks.

A scripted engine is a Python file defining exactly one :class:`Engine`
subclass, instantiated without arguments.  It says what it wants either with
an ``attach_to(thread)`` method or an ``events`` attribute (or method) --
the same contract as the REPL's ``engine load``, so one file serves both
the REPL and ``pydbg-utrace gdbserver --engine``.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path

from .engine import Engine
from .events import Event
from .process import Thread


class EngineFileError(ValueError):
    """The file cannot be loaded as an engine (the message says why, in one line)."""


def load_engine(path: str | Path) -> Engine:
    """Run ``path`` as a module and instantiate its one Engine subclass."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise EngineFileError(f"{path}: No such file.")
    module_name = f"pydbg_utrace_loaded_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise EngineFileError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise EngineFileError(f"{path}: {type(exc).__name__}: {exc}") from None
    classes = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
               if issubclass(cls, Engine) and cls is not Engine
               and cls.__module__ == module_name]
    if len(classes) != 1:
        raise EngineFileError(f"{path} must define exactly one Engine subclass "
                              f"(found {len(classes)})")
    try:
        return classes[0]()
    except Exception as exc:
        raise EngineFileError(f"{classes[0].__name__}(): {exc}") from None


def attach_engine(engine: Engine, thread: Thread) -> None:
    """Attach a loaded engine to ``thread`` the way it asks to be attached."""
    attach_to = getattr(engine, "attach_to", None)
    if callable(attach_to):
        attach_to(thread)
        return
    events = getattr(engine, "events", Event.NONE)
    if callable(events):
        events = events()
    thread.attach(engine).set_events(Event(events))
