"""A process gone before its arch was first asked for (torture FOUND N): a unit, no process."""

from __future__ import annotations

import pytest

from pydbg_utrace import arch
from pydbg_utrace.errors import NoSuchThreadError
from pydbg_utrace.process import Process, Thread

PID = 4242


def test_the_arch_of_a_process_that_has_exited_is_no_such_thread(monkeypatch):
    """Seen in the storm: control(SINGLESTEP) on an exiting fork child raised the lookup's
    ProcessLookupError ('/proc/PID/exe missing'), which no engine expects of the API."""
    def gone(pid):
        raise ProcessLookupError(f"no such process {pid} (/proc/{pid}/exe missing)")

    monkeypatch.setattr(arch, "for_pid", gone)
    thread = Thread(None, PID, Process(None, PID, is_child=False))
    with pytest.raises(NoSuchThreadError, match=f"process {PID} has exited"):
        thread.arch  # noqa: B018 -- the property's lookup is the unit
