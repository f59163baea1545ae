"""`target extended-remote` against `pydbg-utrace gdbserver --multi`, as against gdbserver --multi.

The server starts with no program; gdb's `run` (vRun, with the environment and
directory gdb sends first: QEnvironmentReset/HexEncoded/Unset, QSetWorkingDir),
`attach PID` (vAttach), `kill` and `detach` come and go while the connection
stays.  gdb's own lines are compared with what it prints against the real
gdbserver where that is installed (pids and the servers' own chatter folded).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from conftest import build_tracee
from gdbclient import ENV, TIMEOUT, require_gdb, run_gdb, server_command

pytestmark = pytest.mark.live

GDBSERVER = shutil.which("gdbserver")

NOISE = re.compile(
    r"^(warning: |Warning: |Reading |Detaching from process |Download failed"
    r"|\s+Num\s+Description|stdin/stdout redirected|Process \S+ created; pid"
    r"|Remote debugging using|Attached; pid|\s*$)")


def normalized(output: str) -> list[str]:
    out = []
    for line in output.splitlines():
        if NOISE.match(line):
            continue
        line = re.sub(r"\b(process|Thread|LWP|pid) \d+(\.\d+)?", r"\1 N", line)
        row = re.match(r"^(\*?)\s+(\d+)\s+(process N|<null>)\s", line)
        if row:
            line = f"{row.group(1) or ' '} {row.group(2)} {row.group(3)}"
        out.append(line)
    return out


def extended(binary: str, script: str, cwd: str, server: str) -> str:
    """gdb on ``binary``: `target extended-remote | SERVER`, then ``script``."""
    path = os.path.join(cwd, "connect.gdb")
    with open(path, "w") as connect:
        connect.write(f"target extended-remote | {server}\n" + script)
    return run_gdb(binary, f"source {path}\n", cwd=cwd)


def ours_and_theirs(binary: str, script: str, cwd: str) -> tuple[str, str | None]:
    ours = extended(binary, script, cwd, server_command("--multi", "-"))
    theirs = extended(binary, script, cwd, f"{GDBSERVER} --multi -") if GDBSERVER else None
    return ours, theirs


RUN_TWICE = r"""
set sysroot /
set remote exec-file {binary}
handle SIGUSR1 nostop noprint pass
break compute
run
bt
delete
continue
break compute
run
info inferiors
kill
info inferiors
"""


def test_multi_server_runs_the_program_gdb_names_twice(tmp_path):
    """No program on the server's command line: gdb names it (`set remote exec-file`),
    `run` twice (the second after the first exited), then `kill`: the connection stays
    up through all of it, as with gdbserver --multi."""
    require_gdb()
    binary = build_tracee("gdb_target")
    ours, theirs = ours_and_theirs(binary, RUN_TWICE.format(binary=binary), str(tmp_path))
    lines = normalized(ours)
    assert sum(line.startswith("Breakpoint 1, compute (x=0)") for line in lines) == 1, ours
    assert sum(line.startswith("Breakpoint 2, compute (x=0)") for line in lines) == 1, ours
    assert "[Inferior 1 (process N) exited with code 03]" in lines, ours
    assert "[Inferior 1 (process N) killed]" in lines, ours
    if theirs is not None:
        assert lines == normalized(theirs), ours


ENVIRONMENT = r"""
set remote exec-file /bin/sh
set environment GREETING=hello there
unset environment LC_ALL
set cwd {cwd}
run -c 'echo "greeting=$GREETING lc_all=${{LC_ALL-unset}} cwd=$(pwd)"'
"""


def test_run_gets_gdbs_environment_and_directory(tmp_path):
    """`set environment`, `unset environment` and `set cwd` reach the program `run` starts
    (QEnvironmentReset, QEnvironmentHexEncoded, QEnvironmentUnset, QSetWorkingDir)."""
    require_gdb()
    workdir = tmp_path / "work"
    workdir.mkdir()
    ours, theirs = ours_and_theirs("/bin/sh", ENVIRONMENT.format(cwd=workdir), str(tmp_path))
    expected = f"greeting=hello there lc_all=unset cwd={workdir}"
    assert expected in ours.splitlines(), ours
    assert "[Inferior 1 (process N) exited normally]" in normalized(ours), ours
    if theirs is not None:
        assert expected in theirs.splitlines(), theirs


ATTACH = r"""
set sysroot /
attach {pid}
info inferiors
bt
break beta
shell printf x > {fifo}
continue
bt
delete
detach
info inferiors
"""


def test_attach_then_detach_leaves_the_program_running(tmp_path):
    """`attach PID` (vAttach) to a program blocked in read(2): all stopped, frames as
    gdb finds them; a breakpoint hit once it reads; `detach` (the connection stays, in
    extended mode) lets it finish with its own output and exit code."""
    require_gdb()
    binary = build_tracee("gdb_pingpong")
    outputs = []
    servers = [server_command("--multi", "-")] + ([f"{GDBSERVER} --multi -"] if GDBSERVER
                                                  else [])
    for number, server in enumerate(servers):
        fifo = tmp_path / f"go{number}"
        os.mkfifo(fifo)
        feed = os.open(fifo, os.O_RDWR)  # a reader that never blocks the opening
        program = subprocess.Popen([binary], stdin=feed, stdout=subprocess.PIPE, text=True,
                                   env=ENV)
        os.close(feed)
        try:
            out = extended(binary, ATTACH.format(pid=program.pid, fifo=fifo), str(tmp_path),
                           server)
            program_out, _ = program.communicate(timeout=TIMEOUT)
        finally:
            if program.poll() is None:
                program.kill()
                program.wait()
        assert program.returncode == 0, out
        assert program_out.splitlines()[-1] == "alpha=5 beta=5", program_out
        outputs.append(out)
    # (The program was started by us, randomized: addresses differ run to run.)
    ours = [re.sub(r"0x[0-9a-f]+", "0x?", line) for line in normalized(outputs[0])]
    assert any(re.match(r"#\d+ .* in main \(\) at .*gdb_pingpong\.c", line) for line in ours)
    assert any(line.startswith("Breakpoint 1, beta ()") for line in ours), outputs[0]
    assert "[Inferior 1 (process N) detached]" in ours, outputs[0]
    if len(outputs) > 1:
        assert ours == [re.sub(r"0x[0-9a-f]+", "0x?", line)
                        for line in normalized(outputs[1])], outputs[0]


@pytest.mark.parametrize(("args", "message"), [
    (("--once", "-", "--", "/bin/true"), "--once goes with --multi"),
    (("-",), "give either a program to run or -p PID, or --multi"),
    (("--multi", "--trace", "calls.log", "-"), "--trace and --engine need a program"),
])
def test_bad_multi_command_lines_get_one_line_errors(tmp_path, args, message):
    from gdbclient import SERVER

    done = subprocess.run([*SERVER, *args], capture_output=True, text=True, env=ENV,
                          cwd=str(tmp_path), timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert done.stderr.startswith(f"pydbg-utrace: {message}"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


RUN_ONCE = r"""
set sysroot /
set remote exec-file {binary}
handle SIGUSR1 nostop noprint pass
run
"""


def _run_over_tcp(binary: str, server, cwd: str) -> str:
    path = os.path.join(cwd, "tcp.gdb")
    with open(path, "w") as connect:
        connect.write(f"target extended-remote {server.target}\n"
                      + RUN_ONCE.format(binary=binary))
    return run_gdb(binary, f"source {path}\n", cwd=cwd)


def test_multi_server_stays_up_for_one_gdb_after_another(tmp_path):
    """Over TCP, --multi outlives its connections: a second gdb runs the program again
    after the first left; SIGTERM then ends it cleanly (gdbserver --multi's lifetime)."""
    import signal

    from gdbclient import Server

    require_gdb()
    binary = build_tracee("gdb_target")
    server = Server("--multi", cwd=str(tmp_path))
    try:
        for _ in range(2):
            out = _run_over_tcp(binary, server, str(tmp_path))
            assert "[Inferior 1 (process N) exited with code 03]" in normalized(out), out
            assert server.proc.poll() is None, "the --multi server ended with its gdb"
        server.proc.send_signal(signal.SIGTERM)
        status, program_out, log = server.finish()
    finally:
        server.kill()
    assert status == 128 + signal.SIGTERM, log
    assert program_out.count("total=12 counter=9 usr1=1") == 2, program_out


def test_multi_once_ends_with_its_first_gdb(tmp_path):
    from gdbclient import Server

    require_gdb()
    binary = build_tracee("gdb_target")
    server = Server("--multi", "--once", cwd=str(tmp_path))
    try:
        out = _run_over_tcp(binary, server, str(tmp_path))
        status, program_out, log = server.finish()
    finally:
        server.kill()
    assert "[Inferior 1 (process N) exited with code 03]" in normalized(out), out
    assert status == 0, log
    assert "total=12 counter=9 usr1=1" in program_out
