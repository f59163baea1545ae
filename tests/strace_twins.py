"""Run a command under strace 6.1 and under ``pydbg-utrace trace``, both with the same
flags and under ``setarch -R`` (no address randomisation), for tests that compare
the two logs line by line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

STRACE = shutil.which("strace")
SETARCH = shutil.which("setarch")
needs_tools = pytest.mark.skipif(
    STRACE is None or SETARCH is None,
    reason="strace or setarch is not installed (apt-get install strace util-linux): "
           "nothing to compare with")
TIMEOUT = 120 * float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))
OURS = [sys.executable, "-m", "pydbg_utrace", "trace"]


def logs_of_both(flags: list[str], command: list[str], tmp_path: Path, status: int,
                 cwd: Path | None = None) -> tuple[str, str]:
    """strace's log and ours of ``command`` (each exiting ``status``), as written."""
    logs = []
    for tool, name in (([STRACE], "strace"), (OURS, "ours")):
        log = tmp_path / f"{name}.log"
        done = subprocess.run([SETARCH, "-R", *tool, *flags, "-o", str(log), *command],
                              capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd)
        assert done.returncode == status, (tool, done.stderr)
        logs.append(log.read_text())
    return logs[0], logs[1]
