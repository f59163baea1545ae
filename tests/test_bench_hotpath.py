"""bench/hotpath.py runs: it times the core's own objects, so it breaks when they change.

Timing goals live in bench/, never here: this only proves that the script
still builds its pieces and prints a row for each (it once failed at HEAD
because its fake thread lacked a field the tracer had grown).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOTPATH = ROOT / "bench" / "hotpath.py"


@pytest.mark.live
def test_hotpath_prints_a_row_for_every_piece():
    done = subprocess.run([sys.executable, str(HOTPATH), "--loops", "50"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["piece", "µs/call"]
    rows = lines[1:]
    assert len(rows) >= 10, done.stdout
    for row in rows:
        assert float(row.rsplit(maxsplit=1)[1]) >= 0, row


@pytest.mark.live
def test_steps_counts_what_one_stop_runs():
    # Counts, not times: one engine's stop waits once and resumes once, and
    # its bytecodes are those of the lane (the driver's own are not counted).
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "steps.py"), "--engines", "1",
                           "--calls", "50"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| checkout |")]
    assert len(rows) == 1, done.stdout
    _, core, engines, bytecodes, calls, top, _ = rows[0].split("|")
    assert engines.strip() == "1" and float(bytecodes) > 0
    per_stop = {name: float(n) for name, n in (c.split() for c in calls.split(","))}
    # (50 calls: the start-up's few stops of other kinds show in the second digit)
    assert abs(per_stop["wait_tracees"] - 1) < 0.1, calls
    assert abs(per_stop["resume_syscall"] - 1) < 0.1, calls
    # (the lane's handler: tracer/fastlane.py's FastLane.on_syscall)
    assert " on_syscall " in top and "counting_wait" not in top, top


@pytest.mark.live
def test_steps_counts_the_loggers_stop_too():
    # ``log``: the trace command's logger, which reads the syscall info at each stop
    # (one GET_SYSCALL_INFO, decoded in place) and formats its line.
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "steps.py"), "--engines", "log",
                           "--calls", "50", "--top", "30"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| checkout |")]
    assert len(rows) == 1, done.stdout
    _, core, engines, bytecodes, calls, top, _ = rows[0].split("|")
    assert engines.strip() == "log" and float(bytecodes) > 0
    per_stop = {name: float(n) for name, n in (c.split() for c in calls.split(","))}
    assert abs(per_stop["wait_tracees"] - 1) < 0.1, calls
    assert abs(per_stop["get_syscall_info"] - 1) < 0.1, calls
    assert " report_syscall_entry " in top or " report_syscall_exit " in top, top
