"""The REPL as a user starts it: ``pydbg-utrace [debug] --batch -ex ...`` in a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from pydbg_utrace import arch

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(arch.host().name != "x86_64",
                                 reason="the REPL tracees' expectations are x86_64's")]
CLI = [sys.executable, "-m", "pydbg_utrace"]
TIMEOUT = 60


def batch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=TIMEOUT)


def test_batch_ex_commands_in_order(tracee):
    hello = tracee("repl_hello")
    result = batch("debug", "--batch", "-ex", "catch syscall write", "-ex", "run",
                   "-ex", "bt", "-ex", "continue", hello)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("(pydbg) catch syscall write") < out.index("(pydbg) run") \
        < out.index("(pydbg) bt") < out.index("(pydbg) continue")
    assert re.search(r"^#2  0x[0-9a-f]+ in main \(\) at \S*repl_hello.c:\d+$", out, re.M), out
    assert "hello\n" in out  # the program's output, between ours
    assert re.search(r"\[Inferior 1 \(process \d+\) exited with code 3\]", out)


def test_no_subcommand_opens_the_repl_and_x_file_runs(tracee, tmp_path):
    script = tmp_path / "cmds"
    script.write_text("starti\ninfo inferiors\nnosuchcommand\n")
    result = batch("--batch", "-x", str(script), tracee("repl_hello"))
    assert "Program started" in result.stdout
    assert "launched" in result.stdout
    assert 'Undefined command: "nosuchcommand".  Try "help".' in result.stderr  # as gdb
    assert result.returncode == 1  # the last command failed, as gdb -batch says


def test_ctrl_c_interrupts_a_spinning_program_not_the_debugger(tracee):
    """SIGINT to the debugger alone (not the program's group): the interrupt path."""
    proc = subprocess.Popen(
        [*CLI, "--batch", "-ex", "run", "-ex", "info registers rip", "-ex", "x/1xg &spins",
         "-ex", "kill", tracee("repl_spin")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or lines[-1] != "spinning\n":
            line = proc.stdout.readline()
            assert line, f"the program never ran: {''.join(lines)} {proc.stderr.read()}"
            lines.append(line)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert re.search(r"^Interrupted, Thread 1 \(\d+\)$", out, re.M), out
    # Stopped in its loop, or still on the way back from its write().
    # libc's write is named by its DWARF (__GI___libc_write) where libc6-dbg is installed
    assert re.search(r"^=> 0x[0-9a-f]+ <(main|libc\.so\.6:write|__GI___libc_write)\+\d+>:",
                     out, re.M), out
    assert re.search(r"^rip +0x[0-9a-f]+", out, re.M)
    assert re.search(r"<spins>:\t0x[0-9a-f]{16}$", out, re.M)
    assert re.search(r"^\[Inferior 1 \(process \d+\) killed\]$", out, re.M)


def test_attach_with_p_and_quit_detaches(tracee):
    child = subprocess.Popen([tracee("repl_spin")], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "spinning\n"
        result = batch("-p", str(child.pid), "--batch", "-ex", "info threads")
        assert f"Attached, Thread 1 ({child.pid})" in result.stdout
        assert re.search(rf'^\* 1    Thread 0x[0-9a-f]+ \(LWP {child.pid}\) "repl_spin" '
                         r"(0x[0-9a-f]+ in )?main \(\) at \S+repl_spin.c:\d+$", result.stdout, re.M)
        assert child.poll() is None  # batch's end detached it: it runs on
        with open(f"/proc/{child.pid}/status") as status:
            assert "TracerPid:\t0\n" in status.read()
    finally:
        child.kill()
        child.wait()


def test_attach_to_no_such_process_is_one_line():
    result = batch("--batch", "-ex", "attach 999999999", "-ex", "help detach")
    lines = result.stdout.splitlines()
    assert lines[1] == "Attaching to process 999999999"
    assert result.stderr == "Cannot attach to process 999999999: no such process\n"
    assert lines[3].startswith("Usage: detach")


def _read_until(fd: int, pattern: bytes, seen: bytearray, deadline: float) -> None:
    """Read the terminal until the regex ``pattern`` shows up (select, not sleep)."""
    import select
    import time

    while not re.search(pattern, bytes(seen)):
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {pattern!r} in {bytes(seen)[-2000:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the terminal closed
                chunk = b""
            assert chunk, f"terminal closed before {pattern!r}: {bytes(seen)[-2000:]!r}"
            seen += chunk


def _kill_and_quit(pid: int, fd: int, seen: bytearray, deadline: float) -> int:
    """`kill` the program, `quit` the debugger: the debugger's wait status."""
    os.write(fd, b"kill\r")
    _read_until(fd, rb"\) killed\]", seen, deadline)
    os.write(fd, b"quit\r")
    return os.waitpid(pid, 0)[1]


def _end_pty_session(pid: int, fd: int) -> None:
    """Whatever happened: the debugger gone, its terminal closed."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    os.close(fd)


def test_ctrl_c_typed_at_a_real_terminal(tracee):
    """The user's path: prompt_toolkit on a pty, `run`, then ^C typed at the terminal.

    The terminal sends SIGINT to the whole foreground group -- debugger and
    program -- and the program stops; the debugger lives on and kills it.
    """
    import pty
    import time

    pid, fd = pty.fork()
    if pid == 0:
        os.environ["PROMPT_TOOLKIT_NO_CPR"] = "1"  # no cursor-position query to answer
        os.environ["XDG_STATE_HOME"] = os.environ.get("TMPDIR", "/tmp")
        os.execv(sys.executable, [*CLI, tracee("repl_spin")])
    seen = bytearray()
    deadline = time.monotonic() + TIMEOUT
    try:
        _read_until(fd, rb"\(pydbg\)", seen, deadline)
        os.write(fd, b"run\r")
        _read_until(fd, b"spinning", seen, deadline)
        os.write(fd, b"\x03")
        _read_until(fd, rb"Interrupted|received signal SIGINT", seen, deadline)
        status = _kill_and_quit(pid, fd, seen, deadline)
    finally:
        _end_pty_session(pid, fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_a_long_next_counts_each_second_on_a_terminal_and_says_where_ctrl_c_stopped(tracee):
    """`next` over a one-line loop that calls a function (step ranges and step-overs
    taking turns, each a short move): one count for the whole command, growing, on one
    terminal line; ^C typed at the terminal leaves the count reached on that line."""
    import pty
    import time

    pid, fd = pty.fork()
    if pid == 0:
        os.environ["PROMPT_TOOLKIT_NO_CPR"] = "1"
        os.environ["XDG_STATE_HOME"] = os.environ.get("TMPDIR", "/tmp")
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a user's terminal, not nohup's
        os.execv(sys.executable, [*CLI, tracee("repl_loop"), "3"])
    seen = bytearray()
    deadline = time.monotonic() + TIMEOUT
    try:
        _read_until(fd, rb"\(pydbg\)", seen, deadline)
        for line, answer in [(b"break repl_loop.c:14", rb"line 14\."), (b"run", rb"14\t    for"),
                             (b"next", rb"15\t    for"),  # 3 rounds of the first loop
                             (b"set var rounds = 1099511627776", rb"\(pydbg\) "),
                             (b"p rounds", rb"= 1099511627776")]:  # the second: endless
            os.write(fd, line + b"\r")
            _read_until(fd, answer, seen, deadline)
        os.write(fd, b"next\r")
        counts = rb"\[([\d,]+) instructions stepped; Ctrl-C stops\]"
        _read_until(fd, counts + rb".*" + counts, seen, deadline)
        os.write(fd, b"\x03")
        _read_until(fd, rb"\[([\d,]+) instructions stepped\]\r?\n", seen, deadline)
        # the debugger's interrupt or the program's SIGINT (the terminal sends it to both)
        _read_until(fd, rb"Interrupted after [\d,]+ instructions stepped, Thread 1|"
                    rb"Program received signal SIGINT, Interrupt\.", seen, deadline)
        status = _kill_and_quit(pid, fd, seen, deadline)
    finally:
        _end_pty_session(pid, fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    text = bytes(seen).decode(errors="replace")
    shown = [int(n.replace(",", "")) for n in
             re.findall(r"\[([\d,]+) instructions stepped; Ctrl-C stops\]", text)]
    reached = int(re.search(r"\[([\d,]+) instructions stepped\]\r?\n", text)
                  .group(1).replace(",", ""))
    assert shown == sorted(shown) and shown[0] > 0, shown  # one count for the command
    assert reached >= shown[-1]
