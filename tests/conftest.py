"""Shared fixtures: tracee programs compiled from tests/tracees, a tracer per test.

Tracees are built with the system C compiler (``-O0 -g -Wl,-z,now -pthread``,
see seed 001) into tests/_build.  In the qemu guests, where there is no
compiler, ``PYDBG_UTRACE_TRACEES=/dir`` names a directory of prebuilt ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pydbg_utrace import Engine, Event, Tracer

HERE = Path(__file__).parent
SOURCES = HERE / "tracees"
BUILD = HERE / "_build"


def build_tracee(name: str) -> str:
    """Path of the tracee ``name`` (tests/tracees/NAME.c), compiled if needed."""
    prebuilt = os.environ.get("PYDBG_UTRACE_TRACEES")
    if prebuilt:
        path = Path(prebuilt) / name
        if not path.exists():
            pytest.fail(f"PYDBG_UTRACE_TRACEES={prebuilt} has no prebuilt {name}")
        return str(path)
    source = SOURCES / f"{name}.c"
    binary = BUILD / name
    if binary.exists() and binary.stat().st_mtime >= source.stat().st_mtime:
        return str(binary)
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        pytest.fail(f"no C compiler {compiler!r} to build tracee {name} (apt-get install gcc)")
    BUILD.mkdir(exist_ok=True)
    tmp = binary.with_suffix(f".{os.getpid()}.tmp")
    subprocess.run([compiler, "-O0", "-g", "-Wl,-z,now", "-pthread", "-o", str(tmp),
                    str(source)], check=True)
    tmp.replace(binary)  # atomic: parallel test runs never see half a binary
    return str(binary)


@pytest.fixture
def tracee():
    return build_tracee


@pytest.fixture
def tracer():
    t = Tracer()
    yield t
    t.close(kill=True)


class Recorder(Engine):
    """Records every callback as ``(event name, tid, detail)``; answers ``answer``."""

    def __init__(self, events: Event = Event.NONE, answer=None):
        self.wanted = events
        self.answer = answer
        self.log: list[tuple] = []

    def attach_to(self, thread, **kw):
        att = thread.attach(self, **kw)
        att.set_events(self.wanted)
        return att

    def _note(self, name, att, report, detail=None):
        self.log.append((name, att.thread.tid, detail))
        return self.answer

    def report_quiesce(self, att, r):
        return self._note("quiesce", att, r, r.event)

    def report_signal(self, att, r):
        return self._note("signal", att, r, r.signo)

    def report_clone(self, att, r):
        return self._note("clone", att, r, (r.clone_kind, r.child.tid))

    def report_jctl(self, att, r):
        return self._note("jctl", att, r, r.jctl)

    def report_exec(self, att, r):
        return self._note("exec", att, r)

    def report_syscall_entry(self, att, r):
        return self._note("entry", att, r, r.syscall.nr)

    def report_syscall_exit(self, att, r):
        return self._note("exit_syscall", att, r, r.syscall.rval)

    def report_exit(self, att, r):
        return self._note("exit", att, r, r.exit_code)

    def report_death(self, att, r):
        return self._note("death", att, r, r.exit_code)

    def report_reap(self, att, r):
        self._note("reap", att, r)

    def report_step(self, att, r):
        return self._note("step", att, r)

    def names(self):
        return [entry[0] for entry in self.log]


@pytest.fixture
def recorder():
    return Recorder
