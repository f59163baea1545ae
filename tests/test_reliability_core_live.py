"""Issue 14 (reliability), the core's points: each a real process showing what used to fail.

Every wait is bounded (TIMEOUT) so that a hang becomes a failure.
"""

from __future__ import annotations

import os
import signal

import pytest

from pydbg_utrace import Tracer

pytestmark = pytest.mark.live
TIMEOUT = 30


def finish(process):
    status = process.wait(TIMEOUT)
    assert status is not None, f"{process} did not finish within {TIMEOUT}s"
    return status


def status_fields(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


# -- 5: a launched program starts with default dispositions and an empty mask ---------------
def test_launched_program_starts_with_no_ignored_and_no_blocked_signal():
    # Python ignores SIGPIPE and SIGXFSZ; the tracer thread inherits the mask
    # of the thread that made it (here: SIGUSR1 blocked).
    assert int(status_fields(os.getpid())["SigIgn"], 16) != 0
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        tracer = Tracer()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    try:
        process = tracer.launch(["/bin/sleep", "1000"])  # held just after its execve
        fields = status_fields(process.pid)
        assert int(fields["SigIgn"], 16) == 0, fields["SigIgn"]
        assert int(fields["SigBlk"], 16) == 0, fields["SigBlk"]
    finally:
        tracer.close(kill=True)
