#!/usr/bin/env python3
"""bench/close.py: how long ``tracer.close()`` takes on a process with many busy threads.

    python3 bench/close.py [--threads 10,100] [--repeat R] [--cpu N|none] [--breakpoint]

Compiles ``bench/busy_threads.c`` (N threads spinning until EOF on stdin) into
``bench/_build/``, starts it with ``subprocess``, and per round: a new
``Tracer``, ``attach_process`` (every thread), optionally one breakpoint planted
on ``spin`` (so that close has originals to restore), then ``close()`` timed.
close() must stop every thread before it writes a byte back (docs/services.md:
"Detach restores every byte"), so the figure is dominated by bringing N busy
threads into a ptrace stop.  Reports best / median / worst of ``--repeat``
rounds per thread count, and the attach time beside it for scale.

Pinned by default (``--cpu 0``: this process, the tracer thread and the
program on one CPU, as bench/run does); ``--cpu none`` lets them spread.
It reports numbers, not verdicts.  To compare two versions of the core, run
it with ``PYTHONPATH`` pointing at each tree's copy of the package.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pydbg_utrace
from pydbg_utrace import Engine, Tracer
from pydbg_utrace.symbols import Symbols

HERE = Path(__file__).resolve().parent
BUILD = HERE / "_build"
TRACEE = BUILD / "busy_threads"


def build() -> None:
    BUILD.mkdir(exist_ok=True)
    source = HERE / "busy_threads.c"
    if not TRACEE.exists() or TRACEE.stat().st_mtime < source.stat().st_mtime:
        subprocess.run(["cc", "-O2", "-pthread", "-o", str(TRACEE), str(source)], check=True)


class Quiet(Engine):
    """Owns the breakpoint; hears nothing (the busy threads never call spin again)."""


def one_row(threads: int, repeat: int, breakpoint: bool) -> dict:
    program = subprocess.Popen([str(TRACEE), str(threads)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    pid = int(program.stdout.readline().split()[1])
    address = Symbols(pid).address_of("spin") if breakpoint else None
    attach_s, close_s = [], []
    try:
        for _ in range(repeat):
            tracer = Tracer()
            start = time.perf_counter()
            process = tracer.attach_process(pid)
            attach_s.append(time.perf_counter() - start)
            if len(process.threads) != threads + 1:
                raise SystemExit(f"attached {len(process.threads)} threads, not {threads + 1}")
            if address is not None:
                process.main_thread.attach(Quiet()).insert_breakpoint(address)
            start = time.perf_counter()
            tracer.close()
            close_s.append(time.perf_counter() - start)
    finally:
        program.stdin.close()
        code = program.wait(timeout=60)
    if code != 0:
        raise SystemExit(f"busy_threads exited {code} (a thread let go badly?)")
    return {"threads": threads, "attach": statistics.median(attach_s),
            "best": min(close_s), "median": statistics.median(close_s), "worst": max(close_s)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="10,100", help="comma-separated thread counts")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cpu", default="0", help="pin to this CPU ('none': do not pin)")
    parser.add_argument("--breakpoint", action="store_true", help="plant one trap first")
    args = parser.parse_args()
    if args.cpu != "none":
        os.sched_setaffinity(0, {int(args.cpu)})
    build()
    where = Path(pydbg_utrace.__file__).resolve().parent.parent
    print(f"pydbg_utrace from {where}; cpu {args.cpu}; repeat {args.repeat}"
          f"{'; one breakpoint planted' if args.breakpoint else ''}")
    print(f"{'threads':>8} {'attach s':>9} {'close best':>11} {'median':>8} {'worst':>8}")
    for count in (int(n) for n in args.threads.split(",")):
        row = one_row(count, args.repeat, args.breakpoint)
        print(f"{row['threads']:>8} {row['attach']:>9.3f} {row['best']:>11.3f} "
              f"{row['median']:>8.3f} {row['worst']:>8.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
