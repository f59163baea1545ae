"""Syscall counts per task, from ``strace -ff`` logs and from ``trace -f --json``, and their tree.

Tasks are matched between two runs by their place in the process tree, not
by tid (tids differ between runs, and with ``make -j2`` the grandchildren of
two jobs take tids in either order): a task's key is the path of clone
ordinals from the first task (the root is ``()``, its second child ``(1,)``).
The parent-child links come from the results of the parent's ``clone``,
``clone3``, ``fork`` and ``vfork`` calls in its own log.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

CLONES = {"clone", "clone3", "fork", "vfork"}
CALL = re.compile(r"^(\w+)\(")
RESULT = re.compile(r"\) += (\d+)(?: <[^>]*>)?$")
CLI = [sys.executable, "-m", "pydbg_utrace"]


class Task:
    def __init__(self, tid: int) -> None:
        self.tid = tid
        self.counts: Counter[str] = Counter()
        self.children: list[int] = []  # tids, in the order the clones returned

    def note(self, name: str, child: int | None) -> None:
        self.counts[name] += 1
        if name in CLONES and child:
            self.children.append(child)


def strace_tasks(prefix: Path) -> dict[int, Task]:
    """``strace -ff -o PREFIX``'s files: tid -> Task."""
    tasks = {}
    for path in prefix.parent.glob(prefix.name + ".*"):
        tid = int(path.suffix[1:])
        task = tasks[tid] = Task(tid)
        for line in path.read_text(errors="replace").splitlines():
            call = CALL.match(line)
            if call is None:
                continue  # +++ exited, --- SIGCHLD, <... resumed>
            result = RESULT.search(line)
            task.note(call.group(1), int(result.group(1)) if result else None)
    return tasks


def json_tasks(path: Path) -> dict[int, Task]:
    """``trace -f --json -o PATH``: tid -> Task."""
    tasks: dict[int, Task] = {}
    for line in path.read_text().splitlines():
        call = json.loads(line)
        task = tasks.setdefault(call["tid"], Task(call["tid"]))
        result = call["result"] if call["errno"] is None else None
        task.note(call["name"], result)
    return tasks


def by_place(tasks: dict[int, Task]) -> dict[tuple[int, ...], Counter[str]]:
    """Counts keyed by place in the tree (see the module doc); the root is the task no one made."""
    made = {child for task in tasks.values() for child in task.children}
    roots = [tid for tid in tasks if tid not in made]
    assert len(roots) == 1, f"not one root task: {sorted(roots)} of {sorted(tasks)}"
    places: dict[tuple[int, ...], Counter[str]] = {}
    todo = [((), roots[0])]
    while todo:
        place, tid = todo.pop()
        task = tasks.get(tid)
        if task is None:
            continue  # a child that made no system call we saw
        places[place] = task.counts
        todo.extend((place + (i,), child) for i, child in enumerate(task.children))
    return places


def run_strace(argv: list[str], out: Path, cwd: Path, timeout: float) -> tuple[int, dict]:
    prefix = out / "strace"
    done = subprocess.run(["strace", "-f", "-ff", "-qq", "-o", str(prefix), *argv], cwd=cwd,
                          capture_output=True, timeout=timeout)
    return done.returncode, by_place(strace_tasks(prefix))


def run_ours(argv: list[str], out: Path, cwd: Path, timeout: float) -> tuple[int, dict]:
    log = out / "ours.json"
    done = subprocess.run([*CLI, "trace", "-f", "-qq", "--json", "-o", str(log), "--", *argv],
                          cwd=cwd, capture_output=True, timeout=timeout)
    return done.returncode, by_place(json_tasks(log))


def differences(theirs: dict, ours: dict) -> list[str]:
    """One line per task place and call name whose counts differ."""
    lines = []
    for place in sorted(set(theirs) | set(ours)):
        a, b = theirs.get(place, Counter()), ours.get(place, Counter())
        for name in sorted(set(a) | set(b)):
            if a[name] != b[name]:
                lines.append(f"task {place}: {name} strace {a[name]} ours {b[name]}")
    return lines
