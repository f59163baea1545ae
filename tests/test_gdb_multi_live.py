"""Two debuggers on one process: gdb beside the syscall logger and a probe, two gdbs at once.

The program (tests/tracees/gdb_pingpong.c) waits for a byte on stdin, then
calls alpha() and beta() ROUNDS times, writing one line per round.  The
server hosts everything in one process: `--trace` (the syscall logger),
`--engine` (a probe counting write(2) calls) and any number of gdbs.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading

import pytest
from conftest import build_tracee
from gdbclient import Raw, Server, framed, require_gdb, run_gdb, wait_line

pytestmark = pytest.mark.live

ROUNDS = 5

PROBE = '''
from pydbg_utrace import Engine, Event


class WriteCounter(Engine):
    """Counts write(2) entries; writes the count where the test reads it."""

    name = "write-counter"
    events = Event.SYSCALL_ENTRY | Event.DEATH

    def __init__(self):
        self.writes = 0

    def report_syscall_entry(self, att, report):
        if not report.resumed and att.thread.arch.syscall_name(report.syscall.nr) == "write":
            self.writes += 1

    def report_death(self, att, report):
        with open(OUT, "w") as out:
            out.write(f"writes={self.writes}\\n")
'''


def _probe(tmp_path):
    path = tmp_path / "probe.py"
    result = tmp_path / "probe.out"
    path.write_text(f"OUT = {str(result)!r}\n" + PROBE)
    return str(path), result


def _round_lines(text):
    return re.findall(r"^round (\d)$", text, re.M)


def test_gdb_at_a_breakpoint_beside_syscall_log_and_probe(tmp_path):
    require_gdb()
    binary = build_tracee("gdb_pingpong")
    probe, probe_out = _probe(tmp_path)
    log = tmp_path / "trace.log"
    server = Server("--trace", str(log), "--engine", probe, "--", binary,
                    stdin=subprocess.PIPE)
    try:
        server.feed("x")  # read when the program runs: after gdb let it go
        script = "break alpha\n" + "continue\nprint alpha_calls\nprint beta_calls\n" * ROUNDS \
            + "delete\ncontinue\n"
        out = run_gdb(binary, script, target=server.target, cwd=str(tmp_path))
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    # gdb stopped at each call of alpha, with the program's state as it should be.
    assert out.count("Breakpoint 1, alpha ()") == ROUNDS, out
    values = re.findall(r"^\$\d+ = (\d+)$", out, re.M)
    assert values == [str(i) for i in range(ROUNDS) for _ in "ab"], out  # before alpha_calls++
    assert re.search(r"\[Inferior 1 \(process \d+\) exited normally\]", out), out
    # The program's own output is intact, and its exit status is the server's.
    assert status == 0, stderr
    assert _round_lines(stdout) == [str(i) for i in range(ROUNDS)]
    assert f"alpha={ROUNDS} beta={ROUNDS}" in stdout
    # The log is complete: every write of every round, the exit.
    text = log.read_text()
    for i in range(ROUNDS):
        assert f'write(1, "round {i}\\n", 8) = 8' in text, text
    assert "exit_group(0) = ?" in text and "+++ exited with 0 +++" in text
    assert re.search(r'read\(0, .*\) = 1', text), text
    # The probe counted each round's write and printf's.
    assert probe_out.read_text() == f"writes={ROUNDS + 1}\n"


def _static_bytes(binary: str, symbol: str, count: int = 8) -> list[str]:
    """The first bytes of ``symbol`` as gdb reads them from the file (no process)."""
    out = run_gdb(binary, f"x/{count}xb {symbol}\n")
    return re.findall(r"0x[0-9a-f]{2}\b", out.split(":", 1)[1])


def _x_bytes(out: str, symbol: str) -> list[list[str]]:
    """Every `x/8xb SYMBOL` answer in a gdb transcript."""
    return [re.findall(r"0x[0-9a-f]{2}\b", m) for m in
            re.findall(rf"^0x[0-9a-f]+ <{symbol}>:\s*(.*)$", out, re.M)]


def test_two_gdbs_each_stops_at_its_own_breakpoint(tmp_path):
    require_gdb()
    binary = build_tracee("gdb_pingpong")
    alpha_code, beta_code = _static_bytes(binary, "alpha"), _static_bytes(binary, "beta")
    fifos = {name: str(tmp_path / f"ready-{name}") for name in "AB"}
    for path in fifos.values():
        os.mkfifo(path)
    server = Server("--", binary, stdin=subprocess.PIPE)
    setup = "set breakpoint always-inserted on\nbreak {fn}\nshell echo {who} > {fifo}\n"
    # A stops at alpha 3 times and detaches; B stops at beta every round, and
    # after A is gone alpha runs on without stopping anyone.
    script_a = setup.format(fn="alpha", who="A", fifo=fifos["A"]) \
        + "continue\nprint alpha_calls\nx/8xb beta\n" * 3 + "detach\n"
    script_b = setup.format(fn="beta", who="B", fifo=fifos["B"]) \
        + "continue\nprint beta_calls\nx/8xb alpha\n" * ROUNDS + "continue\n"
    outputs: dict[str, str] = {}

    def client(name, script):
        outputs[name] = run_gdb(binary, script, target=server.target, cwd=str(tmp_path))

    try:
        gdb_a = threading.Thread(target=client, args=("A", script_a))
        gdb_a.start()
        assert wait_line(fifos["A"]) == "A"  # A's breakpoint is in: B may come
        gdb_b = threading.Thread(target=client, args=("B", script_b))
        gdb_b.start()
        assert wait_line(fifos["B"]) == "B"
        server.feed("x")  # both breakpoints are in: the rounds begin
        gdb_a.join(120)
        gdb_b.join(120)
        assert not gdb_a.is_alive() and not gdb_b.is_alive(), "a gdb client hung"
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    out_a, out_b = outputs["A"], outputs["B"]
    # Each stops only at its own breakpoint.
    assert out_a.count("Breakpoint 1, alpha ()") == 3 and "beta ()" not in out_a, out_a
    assert out_b.count("Breakpoint 1, beta ()") == ROUNDS and "alpha ()" not in \
        out_b.replace("x/8xb alpha", ""), out_b
    assert re.findall(r"^\$\d+ = (\d+)$", out_a, re.M) == ["0", "1", "2"]
    assert re.findall(r"^\$\d+ = (\d+)$", out_b, re.M) == [str(i) for i in
                                                          range(ROUNDS)]
    # Neither sees the other's trap: the bytes are the file's.
    assert _x_bytes(out_a, "beta") == [beta_code] * 3, out_a
    assert _x_bytes(out_b, "alpha") == [alpha_code] * ROUNDS, out_b
    # Detaching A left B working; the program ran to its end.
    assert re.search(r"\[Inferior 1 \(process \d+\) detached\]", out_a), out_a
    assert re.search(r"\[Inferior 1 \(process \d+\) exited normally\]", out_b), out_b
    assert status == 0, stderr
    assert _round_lines(stdout) == [str(i) for i in range(ROUNDS)]
    assert f"alpha={ROUNDS} beta={ROUNDS}" in stdout


def test_gdb_detach_leaves_the_syscall_log_tracing(tmp_path):
    require_gdb()
    binary = build_tracee("gdb_pingpong")
    log = tmp_path / "trace.log"
    server = Server("--trace", str(log), "--", binary, stdin=subprocess.PIPE)
    try:
        server.feed("x")
        out = run_gdb(binary, "break alpha\ncontinue\ndetach\n", target=server.target,
                      cwd=str(tmp_path))
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    assert "Breakpoint 1, alpha ()" in out
    assert re.search(r"\[Inferior 1 \(process \d+\) detached\]", out), out
    assert status == 0, stderr
    assert _round_lines(stdout) == [str(i) for i in range(ROUNDS)]
    text = log.read_text()
    # Everything after the detach was still traced: every round's write, the end.
    for i in range(ROUNDS):
        assert f'write(1, "round {i}\\n", 8) = 8' in text, text
    assert "+++ exited with 0 +++" in text


def test_ctrl_c_interrupts_for_one_gdb_alone(tmp_path):
    """A holds the process; B's continue waits (STOP is sticky); B's Ctrl-C is B's stop."""
    binary = build_tracee("gdb_pingpong")
    server = Server("--", binary, stdin=subprocess.PIPE)
    try:
        a, b = Raw(server.port), Raw(server.port)
        assert a.ask(b"?").startswith(b"T05") and b.ask(b"?").startswith(b"T05")
        b.send(framed(b"vCont;c"))  # no reply: A still holds every thread
        b.send(b"\x03")
        assert b.reply().startswith(b"T02thread:")  # B's interrupt, reported to B only
        assert a.ask(b"qC").startswith(b"QC")  # A was told nothing, still holds, answers
        assert len(a.ask(b"g")) > 100
        a.send(framed(b"vCont;c"))
        assert b.ask(b"D") == b"OK"  # now only A's continue counts: the program runs
        a.send(b"\x03")  # it sits in read(0): A's Ctrl-C stops it for A
        assert a.reply().startswith(b"T02thread:")
        assert a.ask(b"D") == b"OK"
        a.close()
        b.close()
        server.feed("x")
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    assert status == 0, stderr
    assert f"alpha={ROUNDS} beta={ROUNDS}" in stdout


def test_kill_only_what_we_launched_and_nobody_else_traces(tmp_path):
    binary = build_tracee("gdb_pingpong")
    log = tmp_path / "trace.log"
    # With the syscall logger beside it, vKill detaches and says why.
    server = Server("--trace", str(log), "--", binary, stdin=subprocess.PIPE)
    try:
        raw = Raw(server.port)
        pid = int(re.search(rb"thread:p([0-9a-f]+)\.", raw.ask(b"?")).group(1), 16)
        reply = raw.ask(f"vKill;{pid:x}".encode())
        assert reply.startswith(b"E.") and b"other engines trace it" in reply, reply
        raw.close()
        server.feed("x")
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    assert status == 0 and f"alpha={ROUNDS}" in stdout, stderr
    assert "+++ exited with 0 +++" in log.read_text()
    # Alone, it kills the program it launched.
    server = Server("--", binary, stdin=subprocess.PIPE)
    try:
        raw = Raw(server.port)
        pid = int(re.search(rb"thread:p([0-9a-f]+)\.", raw.ask(b"?")).group(1), 16)
        assert raw.ask(f"vKill;{pid:x}".encode()) == b"OK"
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    assert status == 128 + 9, stderr
    assert "round" not in stdout
