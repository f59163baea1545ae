"""The gdb server reads the core's tables only through the tracer thread.

``Process.threads`` belongs to the tracer thread (docs/architecture.md, "Who
owns what").  The gdb engine used to list a process's threads from the
connection's thread and then attach to each, one round trip to the tracer
at a time: a thread that created another in between (before we were on it)
made one we never heard of, which ran on while gdb was told everything had
stopped.  tests/tracees/gdb_relay.c makes that likely: chains of threads,
each creating its successor and exiting, so a chain we miss once is missed
for good.  All-stop is checked against the kernel: every live task of the
process is in gdb's thread list and in a tracing stop.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import build_tracee
from gdbclient import TIMEOUT, Raw, Server

pytestmark = pytest.mark.live

ROUNDS = 3  # each a fresh server attaching to a fresh program: the race gets 3 chances


def _tasks(pid: int) -> dict[int, str]:
    """Every task of ``pid`` that has not exited yet: tid -> its state letter."""
    states = {}
    for entry in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = Path(f"/proc/{pid}/task/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        state = stat.rpartition(")")[2].split()[0]
        if state not in ("Z", "X"):  # (exited, not yet reaped)
            states[int(entry)] = state
    return states


def _thread_list(raw: Raw) -> set[int]:
    tids: set[int] = set()
    reply = raw.ask(b"qfThreadInfo")
    while reply is not None and reply.startswith(b"m"):
        tids.update(int(item.rpartition(b".")[2], 16) for item in reply[1:].split(b","))
        reply = raw.ask(b"qsThreadInfo")
    assert reply == b"l", reply
    return tids


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_attach_holds_every_thread_while_threads_keep_handing_over(tmp_path, round_):
    """`-p PID` on a process whose threads keep replacing each other: once gdb has its
    first stop reply, every live thread is in gdb's thread list and stopped ('t')."""
    binary = build_tracee("gdb_relay")
    program = subprocess.Popen([binary, "3"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    server = None
    try:
        assert program.stdout.readline() == "ready\n"
        server = Server("-p", str(program.pid), cwd=str(tmp_path))
        raw = Raw(server.port)
        assert raw.ask(b"qSupported:multiprocess+") is not None
        stop = raw.ask(b"?")
        assert stop is not None and re.match(rb"T[0-9a-f]{2}", stop), stop
        listed = _thread_list(raw)
        tasks = _tasks(program.pid)
        unknown = sorted(set(tasks) - listed)
        running = sorted(tid for tid, state in tasks.items() if state != "t")
        assert not unknown and not running, (
            f"gdb was told all stopped; threads it does not know: {unknown}, threads not "
            f"stopped: {running} (states {tasks}, listed {sorted(listed)})")
        assert raw.ask(b"D") == b"OK"
        raw.close()
        status, _, log = server.finish()
        assert status is not None, log
    finally:
        if server is not None:
            server.kill()
        program.stdin.close()
        try:
            assert program.wait(TIMEOUT) == 0
        finally:
            if program.poll() is None:
                program.kill()
                program.wait()
