"""``trace`` on bad input (issue 13): one clear line, a non-zero exit, nothing left stopped.

A bad option is refused before anything runs (the program's marker file is
never made); a bad ``-p`` among good ones leaves the good ones running and
untraced.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.live
CLI = [sys.executable, "-m", "pydbg_utrace"]
TIMEOUT = 60


def one_line_error(*args):
    result = subprocess.run([*CLI, "trace", *args], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pydbg-utrace: "), lines
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("options, words", [
    (["-e", "trace=nosuchcall"], "invalid system call 'nosuchcall'"),
    (["-e", "trace=open,nosuchcall"], "invalid system call 'nosuchcall'"),
    (["-e", "trace=%nosuchclass"], "invalid system call '%nosuchclass'"),
    (["-e", "inject=openat:error=ENOSUCHERRNO"],
     "invalid inject argument 'openat:error=ENOSUCHERRNO'"),
    (["-e", "inject=openat:when=0:error=ENOENT"], "invalid inject argument"),
    (["-e", "inject=nosuchcall:error=ENOENT"], "invalid system call 'nosuchcall'"),
    (["-o", "/no/such/directory/log"],
     "Can't fopen '/no/such/directory/log': No such file or directory"),
    (["-ff", "-o", "/no/such/directory/log"], "Can't fopen '/no/such/directory/log.PID'"),
    (["-K"], "invalid option -- 'K'"),
    (["-c", "-C"], "-c/--summary-only and -C/--summary are mutually exclusive"),
    (["-c", "-ff", "-o", "x"], "mutually exclusive"),
    (["-s", "many"], "invalid -s argument: 'many'"),
    (["-e", "signal=SIGNOSUCH"], "invalid signal 'SIGNOSUCH'"),
    (["-e", "status=sometimes"], "invalid status 'sometimes'"),
    (["-e", "trace=/["], "regcomp: ["),
])
def test_bad_option_is_one_line_and_nothing_runs(options, words, tmp_path):
    marker = tmp_path / "ran"
    line = one_line_error(*options, "--", "sh", "-c", f"touch {marker}")
    assert words in line
    assert not marker.exists()


def test_dead_pid():
    gone = subprocess.Popen(["true"])
    gone.wait()
    line = one_line_error("-p", str(gone.pid))
    assert line == f"pydbg-utrace: attach: ptrace(PTRACE_SEIZE, {gone.pid}): No such process"


def status_of(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


@pytest.mark.parametrize("spelling", ["comma", "repeated"])
def test_dead_pid_after_a_live_one_leaves_the_live_one_running(tracee, spelling):
    live = subprocess.Popen([tracee("echo_threads"), "2"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert live.stdout.readline() == "ready\n"
        gone = subprocess.Popen(["true"])
        gone.wait()
        pids = ["-p", f"{live.pid},{gone.pid}"] if spelling == "comma" else \
            ["-p", str(live.pid), "-p", str(gone.pid)]
        result = subprocess.run([*CLI, "trace", "-f", "-o", "/dev/null", *pids],
                                capture_output=True, text=True, timeout=TIMEOUT)
        assert result.returncode != 0
        last = result.stderr.splitlines()[-1]
        assert last == f"pydbg-utrace: attach: ptrace(PTRACE_SEIZE, {gone.pid}): No such process"
        for tid in (int(t) for t in os.listdir(f"/proc/{live.pid}/task")):
            status = status_of(tid)
            assert status["TracerPid"] == "0", (tid, status)
            assert not status["State"].startswith(("t", "T")), (tid, status)
        live.stdin.write("still here\n")  # it runs: it echoes
        assert live.stdout.readline() == "still here\n"
    finally:
        live.stdin.close()
        assert live.wait(TIMEOUT) == 0


def test_help_is_no_error():
    result = subprocess.run([*CLI, "trace", "-h"], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: pydbg-utrace trace ")
