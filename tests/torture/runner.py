"""Run one seed of one mode in its own process group, bounded; return its verdict.

Used by ``tests/torture/run`` (the long run) and ``tests/test_torture.py``
(the short one).  The driver runs in a new session, so that afterwards its
whole process group -- the storm, its children, whatever a wedged tracer
left behind -- is killed, whatever happened.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

DRIVER = Path(__file__).resolve().parent / "driver.py"
MARK = "@@torture@@ "
# The modes of modes.py, in the order a run goes through them (kept here so the
# pytest process need not import the driver's modules).
MODES = (
    "plain", "attach-detach", "hold", "step", "breakpoint-churn", "vfork-breakpoints",
    "step-breakpoints", "close-midway",
    "zombie-leader", "sigstop", "exec-thread", "engine-detach", "faults", "launch",
    "attach", "cli-attach", "kill-debugger", "storm",
)


def timeout_scale() -> float:
    """PYDBG_UTRACE_TIMEOUT_SCALE, or 4 inside the qemu guests (emulation is slow)."""
    default = "4" if os.environ.get("PYDBG_UTRACE_VM") else "1"
    return float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", default))


def run_one(mode: str, seed: int, deadline: float = 30.0, storm: str | None = None) -> dict:
    """The driver's verdict for (mode, seed): ``ok``, ``problems``, ``notes``, maybe ``dump``.

    ``deadline`` (seconds, before scaling) is the driver's own watchdog; the
    process is killed 15 s (scaled) after it if it has not reported.
    """
    scale = timeout_scale()
    cmd = [sys.executable, str(DRIVER), "--mode", mode, "--seed", str(seed),
           "--deadline", str(deadline * scale)]
    if storm:
        cmd += ["--storm", storm]
    env = dict(os.environ, PYDBG_UTRACE_TIMEOUT_SCALE=str(scale))
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True,
                                start_new_session=True, env=env)
        try:
            out, _ = proc.communicate(timeout=(deadline + 15) * scale)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            out, _ = proc.communicate()
            out += "\n" + MARK + json.dumps({"ok": False, "problems": [
                f"the driver did not report within {(deadline + 15) * scale:.0f} s"]})
        finally:
            _kill_group(proc.pid)
        errors.seek(0)
        stderr = errors.read()
    for line in out.splitlines():
        if line.startswith(MARK):
            result = json.loads(line[len(MARK):])
            break
    else:
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        result = {"ok": False, "problems": [f"the driver died (exit {proc.returncode}) "
                                            f"without a verdict: {tail}"]}
    result.setdefault("seed", seed)
    result.setdefault("mode", mode)
    result["stderr"] = stderr
    return result


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def summary(result: dict) -> str:
    """``PASS: seed 17 (mode, notes)`` or ``FAIL: seed 17 (mode: why)``."""
    seed, mode = result["seed"], result["mode"]
    if result["ok"]:
        notes = ", ".join(f"{k} {v}" for k, v in result.get("notes", {}).items())
        return f"PASS: seed {seed} ({mode}{', ' if notes else ''}{notes}, " \
               f"{result.get('seconds', '?')} s)"
    return f"FAIL: seed {seed} ({mode}: {'; '.join(result['problems'])})"
