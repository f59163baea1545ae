"""What /proc says about a program: thread states, tracer, code bytes, a hang dump.

The checks read the kernel's view, never the tracer's: "nothing left
stopped or trapped" means the kernel's ``State`` and ``TracerPid`` lines and
the bytes of ``/proc/PID/mem`` say so.
"""

from __future__ import annotations

import os
from collections.abc import Callable


def status_fields(path: str) -> dict[str, str]:
    """``/proc/.../status`` as a dict (empty if the task is gone)."""
    try:
        with open(f"{path}/status") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:
        return {}


def tasks(pid: int) -> list[int]:
    try:
        return sorted(int(name) for name in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return []


def task_states(pid: int) -> dict[int, tuple[str, int]]:
    """tid -> (State letter, TracerPid) for every thread of ``pid``."""
    states = {}
    for tid in tasks(pid):
        fields = status_fields(f"/proc/{pid}/task/{tid}")
        if fields:
            states[tid] = (fields.get("State", "?")[:1], int(fields.get("TracerPid", "0")))
    return states


def read_code(pid: int, address: int, size: int) -> bytes:
    """The bytes really in the program's memory (our traps included)."""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        return os.pread(mem.fileno(), size, address)


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the storm's fork children)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and status_fields(f"/proc/{name}").get("PPid") == str(pid):
            found.append(int(name))
    return sorted(found)


def _task_line(path: str, tid: int, view: Callable[[int], str] | None = None) -> str:
    fields = status_fields(path)
    try:
        with open(f"{path}/wchan") as fh:
            wchan = fh.read().strip() or "-"
    except OSError:
        wchan = "?"
    seen = f"; tracer: {view(tid)}" if view else ""
    return (f"  {tid} {fields.get('Name', '?')}: {fields.get('State', '?')}, "
            f"TracerPid {fields.get('TracerPid', '?')}, wchan {wchan}{seen}")


def dump(pid: int | None, view: Callable[[int], str] | None = None) -> str:
    """Every thread of the program, its children, and of ourselves: state and wchan.

    ``view(tid)`` adds what the tracer believes of each traced thread.
    """
    lines = []
    pids = [pid, *children(pid)] if pid else []
    for proc in pids:
        lines.append(f"process {proc}:")
        lines += [_task_line(f"/proc/{proc}/task/{tid}", tid, view) for tid in tasks(proc)]
    me = os.getpid()
    lines.append(f"the driver {me}:")
    lines += [_task_line(f"/proc/{me}/task/{tid}", tid) for tid in tasks(me)]
    return "\n".join(lines)
