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
