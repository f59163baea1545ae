#!/usr/bin/env python3
"""bench/seccomp.py: a filtered trace with the seccomp-bpf fast path, beside its peers.

    bench/seccomp.py [--calls N] [--opens M] [--repeat R] [--cpu C] [--json FILE]

The tracee (``bench/seccomp_tracee.c``, compiled with ``cc -O2`` into
``bench/_build/``) makes N raw ``getppid`` and M ``openat`` spread among
them, and prints the wall time of its own loop (``work_ns``).  Rows, each
``-e trace=openat`` with ``-f``:

* ``untraced``: the tracee alone;
* ``filter-only``: the tracee under a filter of the same shape (one traced
  number, ``kexec_load``, that it never calls) and no tracer: what the filter
  alone costs every call, the floor of any seccomp row;
* ``ours-seccomp``: ``pydbg-utrace trace -f -e trace=openat --seccomp-bpf``;
* ``strace-seccomp``: ``strace -f --seccomp-bpf -e trace=openat``;
* ``ours-full``: ``pydbg-utrace trace -f -e trace=openat`` (no filter: every call stops);
* ``strace-full``: ``strace -f -e trace=openat`` (for reference).

Pinned (``taskset -c C``: tracer and tracee on one CPU), paired (every round
runs every row once, so a slow patch of a shared machine hits all rows
alike), best of R rounds per row, in one run.  Two figures per row: the
program's own time for its loop (``work``), and the command's wall time
with its fixed cost removed (the same command with 0 calls: interpreter
start, exec, exit), as bench/run does.  Ratios to untraced, not verdicts:
nothing fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = HERE / "_build"
TRACEE = BUILD / "seccomp_tracee"


@dataclass
class Row:
    name: str
    what: str
    argv: list[str]  # the tracer's command; the tracee and its arguments follow
    needs: str | None = None
    works: list[float] = field(default_factory=list)  # seconds, the program's own loop
    walls: list[float] = field(default_factory=list)  # seconds, the whole command
    fixed: list[float] = field(default_factory=list)  # seconds, the command with 0 calls
    skipped: str | None = None


def rows() -> list[Row]:
    cli = shutil.which("pydbg-utrace")
    ours = [cli] if cli else [sys.executable, "-m", "pydbg_utrace"]
    trace = [*ours, "trace", "-f", "-e", "trace=openat", "-o", os.devnull]
    strace = ["strace", "-f", "-e", "trace=openat", "-o", os.devnull]
    return [
        Row("untraced", "the tracee alone", []),
        Row("filter-only", "a filter of the same shape, no tracer (no stops)",
            [sys.executable, str(Path(__file__).resolve()), "--exec-filtered", "kexec_load"]),
        Row("ours-seccomp", "pydbg-utrace trace -f -e trace=openat --seccomp-bpf",
            [*trace, "--seccomp-bpf", "--"]),
        Row("strace-seccomp", "strace -f --seccomp-bpf -e trace=openat",
            [*strace, "--seccomp-bpf"], needs="strace"),
        Row("ours-full", "pydbg-utrace trace -f -e trace=openat (every call stops)",
            [*trace, "--"]),
        Row("strace-full", "strace -f -e trace=openat (every call stops)", strace,
            needs="strace"),
    ]


def compile_tracee() -> None:
    source = HERE / "seccomp_tracee.c"
    if TRACEE.exists() and TRACEE.stat().st_mtime >= source.stat().st_mtime:
        return
    BUILD.mkdir(exist_ok=True)
    command = [os.environ.get("CC", "cc"), "-O2", "-Wall", "-o", str(TRACEE), str(source)]
    print("compile: " + " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True)


def run_once(row: Row, pin: list[str], calls: int, opens: int) -> tuple[float, float]:
    """(the program's own seconds, the command's wall seconds) of one run."""
    argv = [*pin, *row.argv, str(TRACEE), str(calls), str(opens)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0 or "work_ns" not in done.stdout:
        raise RuntimeError(f"{row.name}: {' '.join(argv)} exited with {done.returncode}:\n"
                           + done.stderr[-2000:])
    if "not enabled" in done.stderr or "unavailable" in done.stderr:
        raise RuntimeError(f"{row.name}: the seccomp filter was not used:\n{done.stderr}")
    work = int(done.stdout.split("work_ns")[1].split()[0]) / 1e9
    return work, wall


def measure(table: list[Row], pin: list[str], calls: int, opens: int, repeat: int) -> None:
    for row in table:
        if row.needs and shutil.which(row.needs) is None:
            row.skipped = f"{row.needs} not installed"
    for round_ in range(repeat):
        for row in table:
            if row.skipped:
                continue
            work, wall = run_once(row, pin, calls, opens)
            _, fixed = run_once(row, pin, 0, 0)
            row.works.append(work)
            row.walls.append(wall)
            row.fixed.append(fixed)
            print(f"round {round_ + 1}/{repeat} {row.name}: work {work * 1e3:.1f} ms, "
                  f"wall {wall:.3f} s, fixed {fixed:.3f} s", file=sys.stderr, flush=True)


def format_table(table: list[Row]) -> str:
    base = next(row for row in table if row.name == "untraced")
    base_work = min(base.works)
    base_marginal = min(base.walls) - min(base.fixed)
    lines = ["| row | what | work ms | × untraced | wall − fixed ms | × untraced | wall s |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in table:
        if row.skipped:
            lines.append(f"| {row.name} | {row.what} | skipped: {row.skipped} | | | | |")
            continue
        work = min(row.works)
        marginal = min(row.walls) - min(row.fixed)
        lines.append(f"| {row.name} | {row.what} | {work * 1e3:.1f} | {work / base_work:.2f} "
                     f"| {marginal * 1e3:.1f} | {marginal / base_marginal:.2f} "
                     f"| {min(row.walls):.3f} |")
    return "\n".join(lines)


def exec_filtered(name: str, argv: list[str]) -> int:
    sys.path[0] = str(ROOT)  # not bench/: this file is a "seccomp" module too
    from pydbg_utrace import arch, seccomp

    program = seccomp.compile_filter({arch.host().syscall_number_of(name)})
    err = program.install()
    if err:
        print(f"cannot install the filter: {os.strerror(err)}", file=sys.stderr)
        return 1
    os.execv(argv[0], argv)
    return 127


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000, help="getppid calls (200000)")
    parser.add_argument("--opens", type=int, default=100, help="openat calls (100)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; best of them (5)")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to (0); -1: none")
    parser.add_argument("--json", help="also write every run's times to FILE")
    parser.add_argument("--exec-filtered", metavar="NAME", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.exec_filtered:  # the filter-only row: install the filter, become the tracee
        return exec_filtered(args.exec_filtered, rest)
    compile_tracee()
    pin = [] if args.cpu < 0 else ["taskset", "-c", str(args.cpu)]
    table = rows()
    measure(table, pin, args.calls, args.opens, args.repeat)
    print(f"{args.calls} getppid + {args.opens} openat, best of {args.repeat} paired rounds, "
          f"{'unpinned' if not pin else 'pinned to CPU ' + str(args.cpu)}:\n")
    print(format_table(table))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({row.name: {"work": row.works, "wall": row.walls, "fixed": row.fixed,
                                  "skipped": row.skipped} for row in table}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
