"""Calls on threads and processes that have exited (torture FOUND E).

The kernel's answers for an exited task become the API's: attaching to a
zombie says so, control() on a thread past its exit is NoSuchThreadError
(utrace's -ESRCH for a task with exit_state).  (A breakpoint call on a
process that has just died is NoSuchThreadError too, not a memory error:
that window -- between the exit stop's resume and the death report -- cannot
be hit on purpose here, since this kernel holds even a SIGKILLed tracee in its
exit stop until the tracer lets it go; the torture chaos meets it.)
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pydbg_utrace import Engine, Event, NoSuchThreadError, Resume

pytestmark = pytest.mark.live
TIMEOUT = 30 * float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))


@pytest.fixture
def zombie():
    """A child that has exited and is not reaped (waitid WNOWAIT waits for its end)."""
    child = subprocess.Popen(["true"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    yield child.pid
    child.wait()


def test_attaching_to_a_zombie_says_it_has_exited(tracer, zombie):
    with pytest.raises(ProcessLookupError, match=f"process {zombie} has exited \\(zombie\\)"):
        tracer.attach_process(zombie)


def test_trace_p_of_a_zombie_says_it_has_exited(zombie):
    result = subprocess.run([sys.executable, "-m", "pydbg_utrace", "trace", "-p", str(zombie)],
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 1
    assert result.stderr == f"pydbg-utrace: process {zombie} has exited (zombie)\n"


def test_control_stop_on_a_zombie_leader_is_no_such_thread(tracer, tracee):
    # Launched, not the host's own child (whose leader is let go at its exit stop).
    to_program, program_in = os.pipe()
    program_out, from_program = os.pipe()
    process = tracer.launch([tracee("trapchurn")], stdin=to_program, stdout=from_program)
    os.close(to_program)
    os.close(from_program)
    commands, answers = os.fdopen(program_in, "w", buffering=1), os.fdopen(program_out)
    att = process.main_thread.attach(Engine())
    att.set_events(Event.EXIT)
    process.start()
    answers.readline()  # "ADDRESS PID"
    commands.write("main-exit\n")
    # Answered once the leader is a zombie: its exit stop was seen and let go.
    assert answers.readline() == "main gone\n"
    assert _state(process.pid) == "Z"
    with pytest.raises(NoSuchThreadError, match="has exited"):
        att.control(Resume.STOP)  # (it raised InProgressError, and never stopped)
    att.control(Resume.DETACH)  # still allowed, as in utrace
    commands.close()
    assert process.wait(TIMEOUT) == 0


def _state(tid: int) -> str:
    with open(f"/proc/{tid}/stat") as stat:
        data = stat.read()
    return data[data.rindex(")") + 2]
