"""Syscall counts per task, from ``strace -ff`` logs and from ``trace -f --json``, and their tree.

Tasks are matched between two runs by their place in the process tree, not
by tid (tids differ between runs, and with ``make -j2`` the grandchildren of
two jobs take tids in either order): a task's key is the path of clone
ordinals from the first task (the root is ``()``, its second child ``(1,)``).
The parent-child links come from the results of the parent's ``clone``,
``clone3``, ``fork`` and ``vfork`` calls in its own log.

A call interrupted by a signal and restarted by the kernel (``= ?
ERESTARTNOINTR``) is not counted: whether a signal lands in the middle of a
call is a race of the run, under either tracer (a shell's second ``clone``
when its first child's SIGCHLD comes); the call made again is counted.

Nor is ``getrandom``: how many times a program asks depends on the bytes it
gets (glibc's temp-file names, from gnulib's tempname.c, draw again when a
draw falls in the biased top range, ``while (unfair_min <= v)``): gcc's driver
made 2 calls instead of 1 in one of eight ``strace -ff make -j2`` runs alone.

Nor are the ``wait4`` calls that reaped nothing (``WNOHANG`` finding no
child done yet, ``ECHILD``): how often ``make -j2`` looks before a job is done
is a race; the calls that reap a child are counted.

Both tracers run the program the same way: address-space randomisation off
(``setarch -R``, inherited through both tracers' fork and exec) and
``PYTHONHASHSEED=0``, because allocation patterns follow addresses and hash
seeds (gcc's pointer-keyed hash tables: cc1 made 15 or 17 ``brk`` calls;
Python: 42 or 43 ``mmap`` calls), and those differ from run to run under any
tracer.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

CLONES = {"clone", "clone3", "fork", "vfork"}
UNCOUNTED = {"getrandom"}  # see the module doc
CALL = re.compile(r"^(\w+)\(")
RESULT = re.compile(r"\) += (\d+)(?: <[^>]*>)?$")
CLI = [sys.executable, "-m", "pydbg_utrace"]


class Task:
    def __init__(self, tid: int) -> None:
        self.tid = tid
        self.counts: Counter[str] = Counter()
        self.children: list[int] = []  # tids, in the order the clones returned

    def note(self, name: str, child: int | None) -> None:
        """One call; ``child``: its result if it succeeded (a clone's or wait4's child)."""
        if name in UNCOUNTED or (name == "wait4" and not child):
            return
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
            if " = ? ERESTART" in line:
                continue  # see the module doc
            result = RESULT.search(line)
            task.note(call.group(1), int(result.group(1)) if result else None)
    return tasks


def json_tasks(path: Path) -> dict[int, Task]:
    """``trace -f --json -o PATH``: tid -> Task."""
    tasks: dict[int, Task] = {}
    for line in path.read_text().splitlines():
        call = json.loads(line)
        task = tasks.setdefault(call["tid"], Task(call["tid"]))
        if (call["errno"] or "").startswith("ERESTART"):
            continue  # see the module doc
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


SAME_RUN = ["setarch", platform.machine(), "-R"]  # see the module doc
SAME_ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def run_strace(argv: list[str], out: Path, cwd: Path, timeout: float) -> tuple[int, dict]:
    prefix = out / "strace"
    done = subprocess.run([*SAME_RUN, "strace", "-f", "-ff", "-qq", "-o", str(prefix), *argv],
                          cwd=cwd, capture_output=True, timeout=timeout, env=SAME_ENV)
    return done.returncode, by_place(strace_tasks(prefix))


def run_ours(argv: list[str], out: Path, cwd: Path, timeout: float) -> tuple[int, dict]:
    log = out / "ours.json"
    done = subprocess.run([*SAME_RUN, *CLI, "trace", "-f", "-qq", "--json", "-o", str(log),
                           "--", *argv], cwd=cwd, capture_output=True, timeout=timeout,
                          env=SAME_ENV)
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
