"""How a trace starts and ends, against the machine's strace (issue 13's leftovers).

strace's messages ("Process N attached [with M threads]", "Process N detached"),
what -q/-qq and ``-o FILE PROG`` do to them, the fatal signals (SIGHUP, SIGINT,
SIGQUIT, SIGPIPE, SIGTERM: ignored with ``-o FILE PROG``, else the end of the
trace: detach, the launched program gets the signal, the tracer dies of it), and
the log's last line.  Each case runs strace and then ours on the same program
(the same process, for -p), and compares: the messages (our name for strace's),
the exit status, the log (pids and addresses normalised).

Every wait is for an event that must come (a line the program or the tracer
prints, a tracer pid in /proc), bounded by TIMEOUT.  The signals' dispositions
are set to their defaults for the tools (CI runs us under nohup).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(shutil.which("strace") is None,
                       reason="strace is not installed (apt-get install strace): "
                              "nothing to compare with"),
]
TIMEOUT = 30 * float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))
OURS = [sys.executable, "-m", "pydbg_utrace", "trace"]
TOOLS = {"strace": ["strace"], "ours": OURS}
FATAL = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM)
MESSAGE = re.compile(r"(?:strace|pydbg-utrace): (Process \d+ (?:attached|detached)[^\n]*)")


def default_signals() -> None:
    """In the tool's child: the fatal signals at their defaults, no core files."""
    for signo in FATAL:
        signal.signal(signo, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def tracer_pid(tid: int) -> int:
    with open(f"/proc/{tid}/status") as status:
        for line in status:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    raise AssertionError(f"no TracerPid for {tid}")


def traced_by(tool: subprocess.Popen, tid: int) -> bool:
    """Is ``tid`` ptraced by a thread of ``tool`` (TracerPid is the tracing thread's id)?"""
    tracer = tracer_pid(tid)
    return tracer != 0 and os.path.exists(f"/proc/{tool.pid}/task/{tracer}")


def until_traced_by(tool: subprocess.Popen, tids: list[int]) -> None:
    """Until every thread is ptraced by ``tool`` (it seized them all), within TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while not all(traced_by(tool, tid) for tid in tids):
        assert tool.poll() is None, f"the tracer ended: {tool.returncode}"
        assert time.monotonic() < deadline, f"not all of {tids} traced within {TIMEOUT}s"
        time.sleep(0.01)


def normalised(text: str, names: dict[int, str]) -> list[str]:
    """Lines with our name as strace's, the given pids named, addresses as 0xADDR (and
    getrandom's bytes as BYTES)."""
    text = text.replace("pydbg-utrace: ", "strace: ")
    for pid, name in sorted(names.items(), key=lambda item: -item[0]):
        text = re.sub(rf"(?<![\w.]){pid}(?!\w)", name, text)
    text = re.sub(r'getrandom\("[^"]*"', 'getrandom("BYTES"', text)
    return re.sub(r"0x[0-9a-f]{5,}", "0xADDR", text).splitlines()


def echo_threads(tracee, threads: int):
    """``echo_threads N``: a main thread reading stdin and echoing it, N threads in
    pause(), once it said ready; killed at the end of the test."""
    child = subprocess.Popen([tracee("echo_threads"), str(threads)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert child.stdout.readline() == "ready\n"
        yield child
    finally:
        child.kill()
        child.wait(TIMEOUT)


@pytest.fixture
def threaded(tracee):
    """echo_threads 2."""
    yield from echo_threads(tracee, 2)


def attach_then_signal(tool: list[str], options: list[str], child, log, signo: int):
    """``tool OPTIONS -o LOG -p CHILD``, then ``signo`` once it traces: (status, stderr)."""
    tids = sorted(int(t) for t in os.listdir(f"/proc/{child.pid}/task"))
    follow = "-f" in options
    proc = subprocess.Popen([*tool, *options, "-o", str(log), "-p", str(child.pid)],
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    try:
        until_traced_by(proc, tids if follow else [child.pid])
        said = "" if "-q" in options or "-qq" in options else proc.stderr.readline()
        proc.send_signal(signo)
        _, rest = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    for tid in tids:  # detached, every thread, and the program goes on
        assert tracer_pid(tid) == 0, f"{tool[0]}: thread {tid} still traced"
    child.stdin.write("after\n")
    assert child.stdout.readline() == "after\n"
    return proc.returncode, said + rest


@pytest.mark.parametrize("options", [["-f"], [], ["-q", "-f"], ["-qq", "-f"]],
                         ids=["-f", "no-f", "-q", "-qq"])
def test_attach_and_detach_messages_as_strace(threaded, tmp_path, options):
    names = {tid: f"T{i}" for i, tid in
             enumerate(sorted(int(t) for t in os.listdir(f"/proc/{threaded.pid}/task")))}
    results = {}
    for name, tool in TOOLS.items():
        status, stderr = attach_then_signal(tool, options, threaded, tmp_path / name,
                                            signal.SIGINT)
        messages = [normalised(m, names)[0] for m in MESSAGE.findall(stderr)]
        results[name] = (status, messages)
        assert "Traceback" not in stderr, stderr
    print(f"\n{options}: strace {results['strace']}")
    assert results["ours"] == results["strace"]
    status, messages = results["strace"]
    assert status == -signal.SIGINT  # (what strace does: detach, then die of it)
    if "-f" in options and not {"-q", "-qq"} & set(options):
        assert messages[0] == "Process T0 attached with 3 threads"
        assert len(messages) == 4  # and one "detached" per thread


@pytest.fixture
def single(tracee):
    """echo_threads 0: one thread."""
    yield from echo_threads(tracee, 0)


@pytest.mark.parametrize("signo", FATAL, ids=[s.name for s in FATAL])
def test_an_interrupted_attach_leaves_every_line_in_the_file_as_strace(single, tmp_path,
                                                                       signo):
    """-o FILE -p, interrupted by any fatal signal: what was traced is in the file (no
    buffered tail lost), the open line cut by `` <detached ...>``; the tracer dies of
    the signal.  The echo of a line is the event to wait for: the read that got it
    returned (its exit was logged) and the write was entered (its entry logged)."""
    logs = {}
    for name, tool in TOOLS.items():
        log = tmp_path / name
        proc = subprocess.Popen([*tool, "-o", str(log), "-p", str(single.pid)],
                                stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
        try:
            said = proc.stderr.readline()  # once it traces (ours: its engines are on)
            assert MESSAGE.match(said), said
            for _ in range(2):  # (the first read was entered before: its entry may be unseen)
                single.stdin.write("one\n")
                assert single.stdout.readline() == "one\n"
            proc.send_signal(signo)
            _, stderr = proc.communicate(timeout=TIMEOUT)
        finally:
            proc.kill()
        assert proc.returncode == -signo, stderr
        assert tracer_pid(single.pid) == 0
        logs[name] = log.read_text()
    for name, text in logs.items():
        assert text.endswith("\n"), (name, text)
        lines = text.splitlines()
        assert 'read(0, "one\\n", 4096)                  = 4' in lines, (name, lines)
        assert any(line.startswith('write(1, "one\\n", 4') for line in lines[-3:]), (name, lines)
        last = lines[-1]
        assert last.endswith(" <detached ...>") or re.search(r" = \d+$", last), (name, lines)


def launch(tool: list[str], options: list[str], tracee, **kw) -> subprocess.Popen:
    """``tool OPTIONS echo_threads 0``, once the program said "ready" (it runs, traced)."""
    proc = subprocess.Popen([*tool, *options, tracee("echo_threads"), "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            bufsize=1, preexec_fn=default_signals, **kw)
    assert proc.stdout.readline() == "ready\n"
    return proc


def program_of(tool: subprocess.Popen) -> int:
    """The pid of the program ``tool`` launched (its one child)."""
    children = [child for child in psutil.Process(tool.pid).children()
                if child.name() == "echo_threads"]  # (our tracer's waker is a child too)
    assert len(children) == 1, children
    return children[0].pid


@pytest.mark.parametrize("signo", FATAL, ids=[s.name for s in FATAL])
def test_with_o_and_a_command_fatal_signals_are_ignored_as_strace(tracee, tmp_path, signo):
    """strace -o FILE PROG ignores them (its -I default): the program is traced to its
    end, and every line is in the file."""
    logs = {}
    for name, tool in TOOLS.items():
        log = tmp_path / name
        proc = launch(tool, ["-o", str(log)], tracee, stderr=subprocess.PIPE)
        program = program_of(proc)
        proc.send_signal(signo)
        proc.stdin.write("one\n")
        assert proc.stdout.readline() == "one\n"  # it went on
        proc.stdin.close()
        assert proc.wait(TIMEOUT) == 0, proc.stderr.read()
        assert proc.stderr.read() == ""  # (-o FILE PROG: strace's implied -q)
        logs[name] = normalised(log.read_text(), {program: "P"})
    assert logs["ours"][-1] == "+++ exited with 0 +++"
    assert any(re.fullmatch(r'write\(1, "one\\n", 4\) += 4', line) for line in logs["ours"])
    assert logs["ours"] == logs["strace"]


@pytest.mark.parametrize("signo", FATAL, ids=[s.name for s in FATAL])
def test_without_o_a_fatal_signal_ends_the_trace_as_strace(tracee, tmp_path, signo):
    """strace PROG (the log on stderr): the program gets the signal, it is detached,
    the tracer dies of the signal; the log ends with the detach."""
    logs = {}
    for name, tool in TOOLS.items():
        with open(tmp_path / name, "w") as stderr:
            proc = launch(tool, [], tracee, stderr=stderr)
            proc.send_signal(signo)
            assert proc.stdout.read() == ""  # the program is gone: its stdout closed
            assert proc.wait(TIMEOUT) == -signo
        text = (tmp_path / name).read_text()
        program = int(re.search(r"Process (\d+) detached", text).group(1))
        logs[name] = normalised(text, {program: "P"})
    print(f"\nstrace's last lines: {logs['strace'][-3:]}")
    for log in logs.values():  # the message last, and the line it cuts ends cut
        said = next(i for i, line in enumerate(log) if "strace: Process P detached" in line)
        assert said >= len(log) - 2, log[-3:]
        assert log[said:] in ([log[said]], [log[said], " <detached ...>"]), log[-3:]
        assert (said == len(log) - 1) == log[said].startswith("strace: "), log[-3:]
    assert before_ready(logs["ours"]) == before_ready(logs["strace"])


def before_ready(log: list[str]) -> list[str]:
    """The lines before the program's write of "ready": all of them logged when the test
    reads it.  (Where the signal cuts the calls after it is the scheduler's choice, under
    strace as under us: in the write's result, its newfstatat, its read.)"""
    return log[:next(i for i, line in enumerate(log) if line.startswith('write(1, "ready'))]


def test_followed_children_are_announced_as_strace(tmp_path):
    """-f (the log on stderr): "Process N attached" for each child, before its lines;
    -o FILE PROG: none (strace's implied -q)."""
    argv = ["/bin/sh", "-c", "/bin/true & /bin/true & wait"]
    counts = {}
    for name, tool in TOOLS.items():
        done = subprocess.run([*tool, "-f", "-e", "trace=none", *argv], capture_output=True,
                              text=True, timeout=TIMEOUT, preexec_fn=default_signals)
        assert done.returncode == 0, done.stderr
        lines = done.stderr.splitlines()
        announced = [int(m.group(1)) for m in map(re.compile(
            r"^(?:strace|pydbg-utrace): Process (\d+) attached$").match, lines) if m]
        for pid in announced:  # said before any line of that child
            first = next(i for i, line in enumerate(lines) if str(pid) in line)
            assert lines[first].endswith(f"Process {pid} attached"), (name, lines)
        counts[name] = len(announced)
        quiet = subprocess.run([*tool, "-f", "-o", str(tmp_path / name), *argv],
                               capture_output=True, text=True, timeout=TIMEOUT)
        assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert counts["ours"] == counts["strace"] == 2


@pytest.mark.parametrize("core", [False, True], ids=["no-core", "core"])
def test_a_program_killed_by_a_signal_ends_the_trace_as_strace(tmp_path, core):
    """``+++ killed by SIGSEGV [(core dumped)] +++``, and the tracer dies of it too."""
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    if core and hard == 0:
        pytest.skip("RLIMIT_CORE's hard limit is 0 here: no core can be dumped")

    def limits():
        default_signals()  # (no core for the tracer: it sets its own limit to 0, as strace)
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard) if core else (0, 0))

    logs = {}
    for name, tool in TOOLS.items():
        log, cwd = tmp_path / f"{name}.log", tmp_path / name
        cwd.mkdir()
        done = subprocess.run([*tool, "-e", "trace=none", "-o", str(log), "/bin/sh", "-c",
                               "kill -SEGV $$"], cwd=cwd, capture_output=True, text=True,
                              timeout=TIMEOUT, preexec_fn=limits)
        assert done.returncode == -signal.SIGSEGV, done.stderr
        text = log.read_text()
        pid = int(re.search(r"si_pid=(\d+)", text).group(1))
        logs[name] = normalised(text, {pid: "P"})
    print(f"\nstrace: {logs['strace']}")
    assert logs["ours"] == logs["strace"]
    if core:  # (whether a core is dumped is also core_pattern's business: as strace says)
        assert logs["ours"][-1].startswith("+++ killed by SIGSEGV")
    else:
        assert logs["ours"][-1] == "+++ killed by SIGSEGV +++"
