"""The trace command's own engines on real programs: -e inject=, --json, -c/-C, -ff."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

pytestmark = pytest.mark.live
CLI = [sys.executable, "-m", "pydbg_utrace"]
TIMEOUT = 60


def trace(*args, **kw):
    return subprocess.run([*CLI, "trace", *args], capture_output=True, text=True,
                          timeout=TIMEOUT, **kw)


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- -e inject= ---------------------------------------------------------------------
def test_inject_error(tracee):
    result = trace("-o", "/dev/null", "-e", "inject=getppid:error=EPERM", "--",
                   tracee("getppid"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "-1 1\n"  # -1, errno EPERM: the call was not made


def test_inject_retval(tracee):
    result = trace("-o", "/dev/null", "-e", "inject=getppid:retval=42", "--", tracee("getppid"))
    assert result.stdout == "42 0\n"


def test_inject_signal(tracee):
    result = trace("-o", "/dev/null", "-e", "inject=getppid:signal=SIGUSR1", "--",
                   tracee("getppid"))
    assert result.returncode == -signal.SIGUSR1  # it dies of it, and so do we (as strace)
    assert result.stdout == ""


def test_inject_when_first_and_step():
    program = "import os; print([os.getppid() == 7 for _ in range(6)])"
    result = trace("-o", "/dev/null", "-e", "inject=getppid:retval=7:when=2+2", "--",
                   sys.executable, "-c", program)
    assert result.stdout == "[False, True, False, True, False, True]\n", result.stderr


def test_inject_without_when_is_every_call():
    program = "import os; print([os.getppid() == 7 for _ in range(3)])"
    result = trace("-o", "/dev/null", "-e", "inject=getppid:retval=7", "--",
                   sys.executable, "-c", program)
    assert result.stdout == "[True, True, True]\n", result.stderr


def test_inject_when_only_the_nth():
    program = "import os; print([os.getppid() == 7 for _ in range(4)])"
    result = trace("-o", "/dev/null", "-e", "inject=getppid:retval=7:when=3", "--",
                   sys.executable, "-c", program)
    assert result.stdout == "[False, False, True, False]\n", result.stderr


def test_inject_delay_enter_holds_the_call_and_the_call_still_runs(tracee, tmp_path):
    log = tmp_path / "log"
    cli = subprocess.Popen([*CLI, "trace", "--json", "-o", str(log), "-e", "trace=getppid",
                            "-e", "inject=getppid:delay_enter=300000", "--", tracee("getppid")],
                           stdout=subprocess.PIPE, text=True)
    stdout, _ = cli.communicate(timeout=TIMEOUT)
    assert cli.returncode == 0
    assert stdout == f"{cli.pid} 0\n"  # made, with its true result (its parent: the tracer)
    (call,) = records(log)
    assert call["exit_time"] - call["entry_time"] >= 0.3  # a lower bound: the hold itself


def test_inject_delay_exit_holds_the_return():
    program = ("import os, time; t = time.monotonic(); r = os.getppid(); "
               "print(time.monotonic() - t >= 0.3, r == 7)")
    result = trace("-o", "/dev/null", "-e", "inject=getppid:delay_exit=300000:retval=7", "--",
                   sys.executable, "-c", program)
    assert result.stdout == "True True\n", result.stderr  # the program's own clock saw it


def test_injected_error_is_what_the_log_shows(tracee, tmp_path):
    log = tmp_path / "log"
    trace("--json", "-o", str(log), "-e", "trace=getppid", "-e", "inject=getppid:error=EPERM",
          "--", tracee("getppid"))
    (call,) = records(log)
    assert (call["result"], call["errno"]) == (-1, "EPERM")  # not the kernel's ENOSYS


# -- --json -------------------------------------------------------------------------
def test_json_objects(tmp_path):
    log = tmp_path / "log"
    result = trace("--json", "-o", str(log), "-e", "trace=openat,exit_group", "--",
                   "cat", "/no/such/file")
    assert result.returncode == 1
    calls = records(log)
    assert {c["name"] for c in calls} == {"openat", "exit_group"}
    failed = [c for c in calls
              if len(c["args"]) > 1 and "/no/such/file" in (c["args"][1]["decoded"] or "")]
    assert len(failed) == 1
    (call,) = failed
    assert (call["result"], call["errno"], call["unfinished"]) == (-1, "ENOENT", False)
    assert call["pid"] == call["tid"] and call["nr"] >= 0
    assert all(isinstance(a["raw"], int) for a in call["args"])
    assert call["entry_time"] <= call["exit_time"]
    last = calls[-1]
    assert last["name"] == "exit_group" and last["unfinished"] and last["result"] is None
    assert last["args"][0]["raw"] == 1


def test_json_status_failed_and_successful(tmp_path):
    failed, ok = tmp_path / "failed", tmp_path / "ok"
    trace("--json", "-Z", "-o", str(failed), "--", "cat", "/no/such/file")
    trace("--json", "-z", "-o", str(ok), "--", "cat", "/no/such/file")
    assert records(failed) and all(c["errno"] for c in records(failed))
    assert records(ok) and not any(c["errno"] or c["unfinished"] for c in records(ok))


def test_json_one_file_per_process_with_ff(tmp_path):
    prefix = tmp_path / "log"
    result = trace("-ff", "--json", "-o", str(prefix), "--", "sh", "-c", "/bin/true; exit 0")
    assert result.returncode == 0, result.stderr
    files = sorted(tmp_path.glob("log.*"))
    assert len(files) == 2
    for path in files:
        assert {c["tid"] for c in records(path)} == {int(path.suffix[1:])}


# -- -c / -C ------------------------------------------------------------------------
def test_summary_only_writes_only_the_table(tmp_path):
    out = tmp_path / "out"
    assert trace("-c", "-o", str(out), "--", "/bin/true").returncode == 0
    text = out.read_text()
    assert text.startswith("% time ") and text.rstrip().endswith(" total")


def test_summary_and_log(tmp_path):
    out = tmp_path / "out"
    assert trace("-C", "-w", "-o", str(out), "--", "/bin/true").returncode == 0
    text = out.read_text()
    log, table = text.split("% time ", 1)
    assert re.search(r"exit_group\(0\) += \?", log)  # (the log pads to strace's column 40)
    assert table.rstrip().endswith(" total")


def test_append_keeps_what_the_file_had(tmp_path):
    out = tmp_path / "out"
    out.write_text("before\n")
    assert trace("-A", "-c", "-o", str(out), "--", "/bin/true").returncode == 0
    assert out.read_text().startswith("before\n% time ")


def test_summary_counts_only_traced_calls(tmp_path):
    out = tmp_path / "out"
    trace("-c", "-e", "trace=%file", "-o", str(out), "--", "cat", "/no/such/file")
    names = {line.split()[-1] for line in out.read_text().splitlines()[2:-2]}
    assert "openat" in names and "mmap" not in names and "read" not in names


# -- --seccomp-bpf (the flag; the filter is the core's) ---------------------------
def test_seccomp_bpf_flag_traces_the_same_calls(tmp_path):
    plain, filtered = tmp_path / "plain", tmp_path / "filtered"
    trace("-f", "--json", "-e", "trace=openat", "-o", str(plain), "--", "cat", "/etc/hostname")
    result = trace("-f", "--seccomp-bpf", "--json", "-e", "trace=openat", "-o", str(filtered),
                   "--", "cat", "/etc/hostname")
    assert result.returncode == 0, result.stderr
    assert [c["name"] for c in records(filtered)] == [c["name"] for c in records(plain)]


def test_seccomp_bpf_without_f_says_so(tmp_path):
    result = trace("--seccomp-bpf", "-o", "/dev/null", "--", "/bin/true")
    assert result.returncode == 0
    assert result.stderr == ("pydbg-utrace: --seccomp-bpf cannot be used without "
                             "-f/--follow-forks, disabling\n")


# -- -p, then Ctrl-C: the table, and the program goes on untraced ----------------------
def test_attach_summary_then_interrupt(tracee, tmp_path):
    child = subprocess.Popen([tracee("echo_threads"), "2"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    out = tmp_path / "table"
    try:
        assert child.stdout.readline() == "ready\n"
        # (SIGINT caught whatever its inherited disposition: strace's rule, and ours.)
        cli = subprocess.Popen([*CLI, "trace", "-f", "-c", "-o", str(out), "-p", str(child.pid)],
                               stderr=subprocess.PIPE, text=True)
        said = cli.stderr.readline()
        assert said == f"pydbg-utrace: Process {child.pid} attached with 3 threads\n", said
        for line in ("one\n", "two\n"):
            child.stdin.write(line)
            assert child.stdout.readline() == line
        # The echo of "two" came after the exit stop of the write of "one": counted.
        # (The second write's exit stop may still be on its way: counted or not.)
        cli.send_signal(signal.SIGINT)
        assert cli.wait(TIMEOUT) == -signal.SIGINT  # detached, then it dies of it, as strace
        rows = {line.split()[-1]: line.split() for line in out.read_text().splitlines()[2:]}
        assert int(rows["write"][3]) >= 1 and "total" in rows
        for tid in os.listdir(f"/proc/{child.pid}/task"):
            with open(f"/proc/{child.pid}/task/{tid}/status") as f:
                assert "TracerPid:\t0\n" in f.read()
        child.stdin.write("three\n")  # it runs on, untraced
        assert child.stdout.readline() == "three\n"
    finally:
        child.stdin.close()
    assert child.wait(TIMEOUT) == 0


def test_sigterm_still_writes_the_table(tracee, tmp_path):
    child = subprocess.Popen([tracee("echo_threads"), "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    out = tmp_path / "table"
    try:
        assert child.stdout.readline() == "ready\n"
        cli = subprocess.Popen([*CLI, "trace", "-c", "-o", str(out), "-p", str(child.pid)],
                               stderr=subprocess.PIPE, text=True)
        assert cli.stderr.readline() == f"pydbg-utrace: Process {child.pid} attached\n"
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(TIMEOUT) == -signal.SIGTERM
        assert out.read_text().startswith("% time ")
        child.stdin.write("on\n")  # detached: it runs on
        assert child.stdout.readline() == "on\n"
    finally:
        child.stdin.close()
    assert child.wait(TIMEOUT) == 0
