#!/usr/bin/env python3
"""The torture driver: one seed of one mode, as one verdict line.

    python3 tests/torture/driver.py --mode MODE --seed N [--storm PATH] [--deadline S]

Prints ``@@torture@@ {json}`` (seed, mode, ok, problems, notes, seconds) on
stdout and exits 0 (pass) or 1 (fail).  A watchdog turns a hang into a
verdict: past the deadline it reports where the driver was and what /proc
says of every thread (state, tracer, wchan), then ends the process at once.
Meant to run in its own process group (``run`` and tests/test_torture.py
kill the group afterwards, so nothing is left behind).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent.parent))  # the project, when not installed

import procfs  # noqa: E402
from harness import SCALE, Abandon, Run, storm_binary  # noqa: E402
from modes import MODES  # noqa: E402

MARK = "@@torture@@ "
DEADLINE = 30.0  # seconds per seed on x86_64 (scaled by PYDBG_UTRACE_TIMEOUT_SCALE)


def verdict(run: Run, extra: list[str] | None = None) -> dict:
    problems = run.problems + (extra or [])
    return {"seed": run.seed, "mode": run.mode, "ok": not problems, "problems": problems,
            "notes": run.notes, "seconds": round(time.monotonic() - run.started, 2)}


def emit(result: dict) -> None:
    sys.stdout.write(MARK + json.dumps(result) + "\n")
    sys.stdout.flush()


def python_stacks() -> str:
    """Where each of our Python threads is (the tracer thread's frames say what it waits for)."""
    with tempfile.TemporaryFile("w+") as out:
        faulthandler.dump_traceback(out, all_threads=True)
        out.seek(0)
        return "python threads:\n" + out.read()


def watchdog(run: Run, deadline: float) -> threading.Timer:
    def fire() -> None:
        dump = procfs.dump(run.pid, run.tracer_view) + "\n" + python_stacks()
        logged = [f"logged: {line}" for line in run.log.lines[:3]]
        emit(verdict(run, [f"hang: still in '{run.phase}' after {deadline:.0f} s", *logged])
             | {"dump": dump})
        os._exit(1)  # the tracer thread may be wedged: no clean exit possible

    timer = threading.Timer(deadline, fire)
    timer.daemon = True
    timer.start()
    return timer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", required=True, choices=sorted(MODES))
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--storm", help="the storm binary (default: build tests/tracees/"
                                        "torture_storm.c, or PYDBG_UTRACE_TRACEES)")
    parser.add_argument("--deadline", type=float, default=DEADLINE * SCALE)
    args = parser.parse_args()
    run = Run(args.seed, args.mode, args.storm or storm_binary())
    watchdog(run, args.deadline)
    try:
        MODES[args.mode](run)
    except Abandon:
        pass  # the hang is already a problem
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        at = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
        run.problem(f"driver error in '{run.phase}': {type(exc).__name__}: {exc}{at}")
    result = verdict(run)
    emit(result)
    os._exit(0 if result["ok"] else 1)  # never block in atexit on a wedged tracer


if __name__ == "__main__":
    sys.exit(main())
