"""The syscall logger's lines around the decoded calls: strace's conventions, live.

The line contents are compared with strace in test_decode_vs_strace_live.py
(which normalises interleaving); here the layout itself: the pid prefix
rules, ``<unfinished ...>`` / ``<... NAME resumed>`` pairing, one stream per
thread with ``-ff``, the times of ``-T -t -tt -ttt -r``, and ``-q``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys

import pytest
from pydbg_utrace.engines.syscall_log import SyscallLogger, call_arguments
from pydbg_utrace.engines.trace_options import TraceOptions

from pydbg_utrace import Tracer

pytestmark = pytest.mark.live
TIMEOUT = 60 * float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))


def trace(argv, out, options: TraceOptions) -> int:
    tracer = Tracer()
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        process = tracer.launch(argv, stdin=devnull, stdout=devnull)
        SyscallLogger(out, options=options).attach_to(process.main_thread)
        process.start()
        status = process.wait(TIMEOUT)
        assert status is not None, f"{argv} did not finish in {TIMEOUT}s"
        return status
    finally:
        tracer.close(kill=True)
        os.close(devnull)


def test_on_stderr_the_pid_shows_only_while_several_threads_run(tracee, monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)  # the logger tells stderr from a -o file
    trace([tracee("decode_threads")], sys.stderr, TraceOptions(follow=True, quiet=2))
    lines = err.getvalue().splitlines()
    assert lines[0].startswith('execve("'), lines[0]  # one process: no prefix, as strace
    first_clone = next(i for i, line in enumerate(lines) if line.startswith("clone3("))
    assert not any(line.startswith("[pid") for line in lines[:first_clone])
    prefixed = [line for line in lines[first_clone + 1:] if line.startswith("[pid ")]
    assert prefixed and all(re.match(r"\[pid [ \d]{5}\] ", line) for line in prefixed), prefixed


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed: "
                    "nothing to check the stderr layout against")
def test_strace_on_stderr_has_the_same_prefix_layout(tracee):
    # The rule above, seen in strace itself (so the test states strace's rule, not ours).
    result = subprocess.run(["strace", "-f", "-qq", tracee("decode_threads")],
                            capture_output=True, text=True, timeout=TIMEOUT)
    lines = result.stderr.splitlines()
    assert lines[0].startswith('execve("')
    assert any(re.match(r"\[pid [ \d]{5}\] ", line) for line in lines)


def test_unfinished_lines_resume_with_their_own_name_and_nothing_between(tracee, tmp_path):
    log = tmp_path / "log"
    with open(log, "w") as out:
        trace([tracee("decode_threads")], out, TraceOptions(follow=True, quiet=2))
    lines = log.read_text().splitlines()
    open_calls: dict[str, str] = {}
    for i, line in enumerate(lines):
        pid, text = line.split(None, 1)
        resumed = re.match(r"<\.\.\. (\w+) resumed>", text)
        if resumed:
            assert open_calls.pop(pid) == resumed.group(1), (i, line)
        else:
            assert pid not in open_calls, f"line {i}: {pid} began a line with a call open"
        if text.endswith(" <unfinished ...>"):
            # strace cuts a line only when another thread's line comes next
            assert lines[i + 1].split(None, 1)[0] != pid, (i, line, lines[i + 1])
            open_calls[pid] = resumed.group(1) if resumed else text.split("(", 1)[0]
    assert not open_calls, open_calls
    assert any(line.endswith(" <unfinished ...>") for line in lines), \
        "the threads' lines never interleaved: the test saw nothing to check"


def test_ff_writes_one_stream_per_thread_without_prefix(tracee):
    streams: dict[int, io.StringIO] = {}

    def stream_of(tid: int) -> io.StringIO:
        return streams.setdefault(tid, io.StringIO())

    trace([tracee("decode_threads")], stream_of,
          TraceOptions(follow=True, follow_files=True, quiet=2))
    assert len(streams) == 3, streams.keys()  # main and two threads
    for tid, stream in streams.items():
        lines = stream.getvalue().splitlines()
        assert lines and not any(line.split(None, 1)[0] == str(tid) for line in lines), lines
        assert not any("unfinished" in line or "resumed>" in line for line in lines), lines


def test_times_of_T_t_tt_ttt_and_r(tracee, tmp_path):
    cases = {
        TraceOptions(syscall_times=True): r"^\S.*\) +=.* <\d+\.\d{6}>$",
        TraceOptions(timestamps=1): r"^\d\d:\d\d:\d\d \S",
        TraceOptions(timestamps=2): r"^\d\d:\d\d:\d\d\.\d{6} \S",
        TraceOptions(timestamps=3): r"^\d{10}\.\d{6} \S",
        TraceOptions(relative=True): r"^ +\d+\.\d{6} \S",
    }
    for options, pattern in cases.items():
        log = tmp_path / "log"
        with open(log, "w") as out:
            trace(["/bin/true"], out, options)
        # "+++" lines have no time; "= ?" calls never returned (strace gives them none)
        lines = [line for line in log.read_text().splitlines()
                 if "+++" not in line and not (options.syscall_times and line.endswith("= ?"))]
        assert lines and all(re.search(pattern, line) for line in lines), (options, lines[:3])


def test_quiet_levels_keep_or_drop_the_exit_lines(tracee, tmp_path):
    outputs = {}
    for quiet in (0, 2, 3):
        log = tmp_path / f"log{quiet}"
        with open(log, "w") as out:
            trace([tracee("decode_forksig")], out, TraceOptions(follow=True, quiet=quiet))
        outputs[quiet] = log.read_text()
    assert "+++ exited with 0 +++" in outputs[0] and "+++ killed by SIGKILL +++" in outputs[0]
    assert "+++ exited" not in outputs[2] and "+++ killed by SIGKILL +++" in outputs[2]
    # strace: no -q level drops "killed by" (observed with strace 6.1 -qqq); -e signal= does
    assert "+++ exited" not in outputs[3] and "+++ killed by SIGKILL +++" in outputs[3]
    log = tmp_path / "signal"
    with open(log, "w") as out:
        trace([tracee("decode_forksig")], out,
              TraceOptions(follow=True, quiet=2, signals=frozenset({10})))
    assert "+++ killed" not in log.read_text() and "--- SIGUSR1 " in log.read_text()


def test_call_arguments_for_one_call_at_a_time():
    # The REPL's use: the arguments of a call at its entry, in this very process.
    buf = b"hello"
    import ctypes

    cbuf = ctypes.create_string_buffer(buf)
    text = call_arguments(os.getpid(), "write", (1, ctypes.addressof(cbuf), 5))
    assert text == '1, "hello", 5'
    assert call_arguments(os.getpid(), "read", (3, 0x1000, 832)) == "3, 0x1000, 832"
