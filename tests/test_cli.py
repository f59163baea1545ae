"""The command line on real programs, and its answers to bad input."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import pytest

pytestmark = pytest.mark.live
CLI = [sys.executable, "-m", "pydbg_utrace"]
TIMEOUT = 60


def run_cli(*args, **kw):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=TIMEOUT, **kw)


def test_trace_logs_each_syscall_and_passes_the_exit_status(tmp_path):
    log = tmp_path / "log"
    result = run_cli("trace", "-o", str(log), "--", "/bin/sh", "-c", "echo hi; exit 3")
    assert result.returncode == 3
    assert result.stdout == "hi\n"
    lines = log.read_text().splitlines()
    # strace's column: the result starts at column 40 ("= " after padding)
    assert any(re.search(r'(^| )write\(1, "hi\\n", 3\) += 3$', line) for line in lines), lines
    assert re.search(r"exit_group\(3\) += \?$", lines[-2]), lines[-2]
    assert lines[-1].endswith("+++ exited with 3 +++")


def test_trace_follow_forks(tmp_path):
    log = tmp_path / "log"
    result = run_cli("trace", "-f", "-o", str(log), "--", "/bin/sh", "-c", "/bin/true; exit 0")
    assert result.returncode == 0
    tids = {line.split()[0] for line in log.read_text().splitlines()}
    assert len(tids) == 2
    assert 'execve("/bin/true"' in log.read_text()


def test_trace_without_follow_sees_only_the_first_process(tmp_path):
    log = tmp_path / "log"
    assert run_cli("trace", "-o", str(log), "--", "/bin/sh", "-c", "/bin/true; exit 0"
                   ).returncode == 0
    # Without -f strace prints no pid column, and the child's exec is never seen.
    text = log.read_text()
    assert text.startswith('execve("/bin/sh"'), text
    assert 'execve("/bin/true"' not in text, text


def test_trace_attached_process_until_it_exits(tmp_path, tracee):
    child = subprocess.Popen([tracee("echo_threads"), "2"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    assert child.stdout.readline() == "ready\n"
    log = tmp_path / "log"
    cli = subprocess.Popen([*CLI, "trace", "-f", "-p", str(child.pid), "-o", str(log)],
                           stderr=subprocess.PIPE, text=True)
    try:
        attached = f"pydbg-utrace: Process {child.pid} attached with 3 threads\n"
        assert cli.stderr.readline() == attached
        child.stdin.write("one\n")
        assert child.stdout.readline() == "one\n"
    finally:
        child.stdin.close()
    assert child.wait(TIMEOUT) == 0
    assert cli.wait(TIMEOUT) == 0, cli.stderr.read()
    assert re.search(r' write\(1, "one\\n", 4\) += 4\n', log.read_text())


def one_line_error(result):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pydbg-utrace: ")
    return lines[0]


def test_no_such_program():
    line = one_line_error(run_cli("trace", "--", "/no/such/program"))
    assert "no such program" in line


def test_program_not_executable(tmp_path):
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    line = one_line_error(run_cli("trace", "--", str(script)))
    assert "Permission denied" in line


def test_no_such_pid():
    gone = subprocess.Popen(["true"])
    gone.wait()
    line = one_line_error(run_cli("trace", "-p", str(gone.pid)))
    assert f"attach: ptrace(PTRACE_SEIZE, {gone.pid}): No such process" in line  # strace's


@pytest.mark.skipif(shutil.which("strace") is None,
                    reason="strace is not installed (apt-get install strace)")
def test_pid_already_traced_by_strace(tmp_path):
    ready = tmp_path / "ready"
    victim = subprocess.Popen(["strace", "-o", "/dev/null", "sh", "-c",
                               f"touch {ready}; exec sleep 100"])
    try:
        while not ready.exists():  # bounded by the test timeout; strace needs a moment
            if victim.poll() is not None:
                pytest.fail("strace exited early")
        sleeper = int(subprocess.run(["pgrep", "-P", str(victim.pid)], capture_output=True,
                                     text=True).stdout.split()[0])
        line = one_line_error(run_cli("trace", "-p", str(sleeper)))
        assert "already traced by pid" in line
        with open(f"/proc/{sleeper}/status") as f:
            assert f"TracerPid:\t{victim.pid}\n" in f.read()  # still strace's, untouched
    finally:
        victim.kill()
        victim.wait()


def test_neither_program_nor_pid():
    line = one_line_error(run_cli("trace"))
    assert "must have PROG [ARGS] or -p PID" in line  # strace's words


def test_help_lists_trace():
    result = run_cli("--help")
    assert result.returncode == 0 and "trace" in result.stdout
    assert os.path.basename(CLI[0])


def test_trace_gives_the_program_default_signal_dispositions(tmp_path):
    # `yes` dies of SIGPIPE (141) when `head` is done, as untraced: an ignored
    # SIGPIPE inherited from Python would make it exit 1 on EPIPE instead.
    script = 'yes | head -n1; echo "${PIPESTATUS[0]}"'
    untraced = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                              timeout=TIMEOUT, preexec_fn=_default_sigpipe)
    assert untraced.stdout == "y\n141\n"
    result = run_cli("trace", "-o", str(tmp_path / "log"), "--", "bash", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == untraced.stdout


def _default_sigpipe():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


@pytest.mark.parametrize("round_", range(3))
def test_trace_follow_attaches_to_a_process_whose_threads_come_and_go(tmp_path, tracee, round_):
    # Threads die between attach_process() and the logger's attach to each:
    # that must not end the trace with a NoSuchThreadError traceback.
    child = subprocess.Popen([tracee("churn"), "16", "3"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
        log = tmp_path / "log"
        cli = subprocess.Popen([*CLI, "trace", "-f", "-p", str(child.pid), "-o", str(log)],
                               stderr=subprocess.PIPE, text=True)
        first = cli.stderr.readline()
        assert first.startswith(f"pydbg-utrace: Process {child.pid} attached"), first
        # -f says "Process N attached" for each new thread, thousands of them: read
        # on, or a full pipe stops the tracer thread in its write, and the threads it holds.
        said: list[str] = []
        reader = threading.Thread(target=lambda: said.append(cli.stderr.read()))
        reader.start()
    finally:
        child.stdin.close()
    assert child.wait(TIMEOUT) == 0
    assert cli.wait(TIMEOUT) == 0
    reader.join(TIMEOUT)
    rest = said[0]
    assert "Traceback" not in rest, rest
    assert re.search(rf"^{child.pid} +\+\+\+ exited with 0 \+\+\+$", log.read_text(), re.M)


def test_trace_follow_an_exec_from_a_non_leader_thread(tmp_path, tracee):
    log = tmp_path / "log"
    result = run_cli("trace", "-f", "-o", str(log), "--", tracee("thread_exec"))
    assert result.returncode == 0, result.stderr
    # strace's pid column is "%-5d ": one space after the pid, whatever its width
    lines = [re.sub(r"^(\d+) +", r"\1 ", line) for line in log.read_text().splitlines()]
    leader = lines[0].split()[0]
    # the clone's result: on its line, or on its "<... clone3 resumed>" line
    clone = next(line for line in lines if re.search(r" (clone3?\(|<\.\.\. clone3? resumed>)"
                                                     r".*= \d+$", line))
    execer = clone.rsplit("= ", 1)[1]
    assert f"{leader} +++ superseded by execve in pid {execer} +++" in lines, lines
    # As strace: the execer's line is cut by the leader's end, then the call
    # resumes under the leader's pid (the execer's tid is the process's now).
    assert any(' execve("/bin/true"' in line for line in lines), lines
    assert any(re.fullmatch(rf"{leader} +<\.\.\. execve resumed>\) += 0", line)
               for line in lines), lines
    assert lines[-1].split(None, 1) == [leader, "+++ exited with 0 +++"]
