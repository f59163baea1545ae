"""Verdicts, checks and /proc readers shared by every scenario.

A scenario passes by returning; it fails by raising :class:`Fail` (or any
exception: a crash is a failure too) and skips by raising :class:`Skip`.
"""

from __future__ import annotations

import os
import sys
import threading
import time

# Emulated guests run many times slower: every bound is stretched alike.
TIMEOUT_SCALE = float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))

VERBOSE = False


class Fail(Exception):
    """The scenario saw the wrong behaviour; the message says what."""


class Skip(Exception):
    """The scenario does not apply here; the message says why."""


def log(msg: str) -> None:
    """A progress note, shown with ``-v``.

    On stderr: ``ptlib.ut.launch`` points fd 1 at a tracee's pipe for a moment.
    """
    if VERBOSE:
        print(f"  | {msg}", file=sys.stderr, flush=True)


def check(cond: object, msg: str) -> None:
    if not cond:
        raise Fail(msg)


def equal(got: object, want: object, what: str) -> None:
    if got != want:
        raise Fail(f"{what}: got {got!r}, want {want!r}")


def proc_state(pid: int, tid: int | None = None) -> str:
    """One-letter state from /proc/PID[/task/TID]/stat ('' once it is gone)."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        with open(path) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return data[data.rindex(")") + 2]


def proc_status_field(pid: int, field: str) -> str:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    raise Fail(f"/proc/{pid}/status has no {field}")


def wait_proc_state(pid: int, states: str, tid: int | None = None, limit: float = 5.0) -> str:
    """Poll /proc until the thread is in one of ``states``.

    Only for what the kernel reports through no event at all (a task going to
    sleep inside a syscall, a non-child's zombie being reaped): bounded, and
    each caller says why it has no event to wait for.
    """
    deadline = time.monotonic() + limit * TIMEOUT_SCALE
    while True:
        st = proc_state(pid, tid)
        if st in states or (st == "" and "" in states):
            return st
        if time.monotonic() > deadline:
            raise Fail(f"pid {tid or pid} stayed in state {st!r}, expected one of {states!r}")
        time.sleep(0.001)


def threads_of(pid: int) -> list[int]:
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def arm_watchdog(seconds: float, verdict) -> threading.Timer:
    """Turn a hang into a FAIL verdict that says where the main thread was stuck.

    A timer thread, not SIGALRM: with the tracer's thread around, the signal
    may land on that thread and never wake a main thread blocked on a lock.
    ``verdict(message)`` prints the verdict and ends the process.  The runner
    kills the whole session a little later anyway; this makes the verdict
    readable.
    """
    main = threading.main_thread().ident

    def fire():
        where = []
        f = sys._current_frames().get(main)
        while f is not None and len(where) < 4:
            where.append(f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}")
            f = f.f_back
        verdict(f"timed out after {seconds:.0f}s at {' < '.join(where)}")

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer
