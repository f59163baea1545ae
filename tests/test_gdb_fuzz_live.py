"""Bad input to the gdb server: every bad packet gets an E reply or a clean close.

A raw client (no gdb) sends seeded random bytes, truncated packets, wrong
checksums, huge lengths, reads of unmapped memory, a G of the wrong size and
a Z0 at an unmapped address.  After each, a good packet must still be answered
(or, if the server closed the connection, a new one must be served); at the end
the program and the syscall logger beside it have gone on undisturbed.  Also:
the listener refuses non-loopback addresses without --allow-remote, and the
Unix socket is private.
"""

from __future__ import annotations

import os
import random
import re
import stat
import subprocess
import threading

import pytest
from conftest import build_tracee
from gdbclient import ENV, SERVER, Raw, Server, framed, require_gdb, run_gdb, wait_line

pytestmark = pytest.mark.live

SEED = 11  # random.Random(SEED): a failure reproduces
TIMEOUT = 30


def _garbage(rng: random.Random) -> list[tuple[str, bytes]]:
    cases = [
        ("random bytes", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))),
        ("truncated packet", framed(b"m400000,10")[:rng.randrange(1, 8)]),
        ("wrong checksum", b"$qC#00"),
        ("dollar in a packet", b"$m4000$qC#b4"),
        ("lone escape", framed(b"M0,1:}")),
        ("run length first", framed(b"*#abc")),
    ]
    for _ in range(20):
        size = rng.randrange(1, 64)
        body = bytes(rng.choice(b"mMgGpPZzqvHcs?:,;0123456789abcdef}*xX") for _ in range(size))
        cases.append((f"random packet {body!r}", framed(body)))
    return cases


def _answered_with_error(reply: bytes | None) -> bool:
    return reply is None or reply.startswith(b"E")


def test_fuzzed_packets_get_errors_and_everything_goes_on(tmp_path):
    binary = build_tracee("gdb_pingpong")
    log = tmp_path / "trace.log"
    server = Server("--trace", str(log), "--", binary, stdin=subprocess.PIPE)
    rng = random.Random(SEED)
    fifo = str(tmp_path / "ready")
    os.mkfifo(fifo)
    try:
        raw = Raw(server.port)
        assert raw.ask(b"qSupported:multiprocess+").startswith(b"PacketSize=")
        assert raw.ask(b"?").startswith(b"T05")
        # Requests that must fail with an E reply.
        for payload in (b"m0,10", b"mffffffffffff0000,100", b"m400000,ffffffffffffffff",
                        b"G00", b"Z0,0,1", b"Z0,10,1", b"z0,10,1",
                        b"P9999=00", b"p9999", b"Hgp1.1", b"Tp1.1", b"X0,1:a",
                        b"qXfer:features:read:nosuch.xml:0,100", b"vCont;q", b"Z2,1,3"):
            reply = raw.ask(payload)
            assert reply is not None and reply.startswith(b"E"), (payload, reply)
        # Unknown packets: the empty reply.
        assert raw.ask(b"vMustReplyEmpty") == b""
        assert raw.ask(b"qNoSuchThing") == b""
        # Garbage, each followed by a good packet that must be answered.
        for name, data in _garbage(rng):
            raw.send(data)
            reply = raw.ask(b"qC")
            while reply is not None and not reply.startswith(b"QC"):
                # Replies to the garbage itself (it may have been a whole packet).
                reply = raw.reply()
            if reply is None:  # a clean close: a new connection is served
                raw.close()
                raw = Raw(server.port)
                assert raw.ask(b"qC").startswith(b"QC"), name
        # A packet beyond the size bound: an E reply, then the connection closes.
        raw.send(b"$" + b"m" * (2 << 20))
        assert _answered_with_error(raw.reply())
        raw.close()
        # Everything went on: a new gdb connection works and runs the program
        # (which waits for its input until gdb's breakpoint is in).
        script = (f"set breakpoint always-inserted on\nbreak beta\nshell echo G > {fifo}\n"
                  "continue\nprint beta_calls\ndetach\n")
        gdb = threading.Thread(target=lambda: outputs.append(
            run_gdb(binary, script, target=server.target, cwd=str(tmp_path))))
        outputs: list[str] = []
        gdb.start()
        assert wait_line(fifo) == "G"
        server.feed("x")
        gdb.join(TIMEOUT * 4)
        assert outputs, "gdb hung"
        out = outputs[0]
        assert "Breakpoint 1, beta ()" in out and "$1 = 0" in out, out
        status, stdout, stderr = server.finish()
    finally:
        server.kill()
    assert status == 0, stderr
    assert "alpha=5 beta=5" in stdout
    text = log.read_text()
    assert all(f'write(1, "round {i}\\n", 8) = 8' in text for i in range(5)), text
    assert "+++ exited with 0 +++" in text


def _run_server(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SERVER, *args], capture_output=True, text=True, env=ENV,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("address", ["0.0.0.0:0", "[::]:0"])
def test_listener_refuses_non_loopback_without_allow_remote(address, tmp_path):
    marker = tmp_path / "ran"
    done = _run_server("--listen", address, "--", "/bin/sh", "-c", f"touch {marker}")
    assert done.returncode == 1
    assert "refusing to listen" in done.stderr and "--allow-remote" in done.stderr
    assert not marker.exists(), "the program ran although the listener was refused"


def test_allow_remote_warns_and_serves(tmp_path):
    binary = build_tracee("gdb_target")
    proc = subprocess.Popen([*SERVER, "--listen", "0.0.0.0:0", "--allow-remote", "--", binary],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        lines = []
        for line in proc.stderr:
            lines.append(line)
            port = re.match(r"Listening on port (\d+)", line)
            if port:
                break
        assert port, lines
        assert any("warning" in line and "no authentication" in line for line in lines)
        raw = Raw(int(port.group(1)))
        assert raw.ask(b"?").startswith(b"T05")
        assert raw.ask(b"D") == b"OK"
        raw.close()
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3
    assert "total=12" in out


def test_unix_socket_is_private_and_serves_gdb(tmp_path):
    require_gdb()
    binary = build_tracee("gdb_target")
    path = tmp_path / "gdb.sock"
    proc = subprocess.Popen([*SERVER, "--unix", str(path), "--", binary],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        first = proc.stderr.readline()
        assert first.startswith("Listening on"), first
        mode = os.stat(path).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        out = run_gdb(binary, "break compute\ncontinue\nprint x\ndetach\n",
                      target=str(path), cwd=str(tmp_path))
        stdout, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Breakpoint 1, compute (x=0)" in out and "$1 = 0" in out, out
    assert proc.returncode == 3 and "total=12" in stdout
    assert not path.exists(), "the socket was left behind"
