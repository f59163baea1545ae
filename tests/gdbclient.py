"""Driving stock gdb as a real client of ``pydbg-utrace gdbserver`` (and natively).

Both runs get the same clean environment and the same absolute program path,
so that with address-space randomization off (gdb turns it off for `run`;
the server does the same with ``personality(ADDR_NO_RANDOMIZE)``) stacks and
libraries sit at the same addresses and registers can be compared value by
value.  A gdb script marks its parts with ``echo ==NAME==\\n``; :func:`sections`
splits the output there.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

GDB = shutil.which("gdb")
SERVER = [sys.executable, "-m", "pydbg_utrace", "gdbserver"]
TIMEOUT = 120  # a bounded wait: a hang becomes a failure, never a green run

ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/nonexistent",
    "LC_ALL": "C",
    "SHELL": "/bin/sh",
    "TERM": "dumb",
}


def require_gdb() -> str:
    if GDB is None:
        pytest.skip("gdb is not installed (apt-get install gdb): the live gdb tests need it")
    return GDB


def server_command(*args: str) -> str:
    """A shell command line starting our server (for `target remote | ...`)."""
    return " ".join(_quote(a) for a in [*SERVER, *args])


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./:=+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def run_gdb(binary: str, script: str, *, target: str | None = None,
            cwd: str | None = None, timeout: float = TIMEOUT) -> str:
    """Run ``gdb -batch -nx`` on ``binary`` with ``script``; stdout+stderr as text.

    ``target``: a `target remote ...` argument (``| CMD`` or ``:PORT``); None runs
    natively (the script then says `run`).
    """
    gdb = require_gdb()
    path = Path(cwd or ".") / f"gdb-script-{os.getpid()}-{abs(hash(script))}.gdb"
    path.write_text(script)
    argv = [gdb, "-batch", "-nx", "-ex", "set confirm off", "-ex", "set width 0",
            "-ex", "set height 0"]
    if target is not None:
        argv += ["-ex", f"target remote {target}"]
    argv += ["-x", str(path), binary]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=ENV, cwd=cwd,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    finally:
        path.unlink(missing_ok=True)
    return done.stdout + done.stderr


def sections(output: str) -> dict[str, list[str]]:
    """The output split at ``==NAME==`` lines: NAME -> its lines."""
    parts: dict[str, list[str]] = {}
    current = "_start"
    for line in output.splitlines():
        marker = re.fullmatch(r"==(\w+)==", line.strip())
        if marker:
            current = marker.group(1)
            parts[current] = []
        else:
            parts.setdefault(current, []).append(line)
    return parts


def registers(lines: list[str]) -> dict[str, str]:
    """`info registers` lines -> name: raw value column."""
    table = {}
    for line in lines:
        match = re.match(r"^(\w+)\s+(0x[0-9a-f]+|\[.*?\]|-?\d+)\s", line + " ")
        if match:
            table[match.group(1)] = match.group(2)
    return table


def without_pids(text: str) -> str:
    return re.sub(r"process \d+", "process N", text)


def wait_line(fifo: str, timeout: float = 60) -> str:
    """The first line a gdb `shell echo` writes into ``fifo`` (bounded wait)."""
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    data = b""
    try:
        while b"\n" not in data:
            ready, _, _ = select.select([fd], [], [], timeout)
            assert ready, f"no gdb wrote to {fifo} within {timeout}s"
            chunk = os.read(fd, 100)
            if not chunk:  # the writer went before writing a line
                raise AssertionError(f"{fifo}: closed without a line: {data!r}")
            data += chunk
    finally:
        os.close(fd)
    return data.decode().strip()


RAW_TIMEOUT = 30


def checksum(payload: bytes) -> bytes:
    return f"{sum(payload) % 256:02x}".encode()


def framed(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + checksum(payload)


class Raw:
    """A bare RSP client: send bytes, read one reply packet (acks skipped)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=RAW_TIMEOUT)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> bytes | None:
        """The next packet's payload; None if the server closed the connection."""
        while True:
            match = re.search(rb"\$([^#$]*)#[0-9a-f]{2}", self.buffer)
            if match:
                self.buffer = self.buffer[match.end():]
                return match.group(1)
            data = self.sock.recv(65536)  # socket timeout: a hang is a failure
            if not data:
                return None
            self.buffer += data

    def ask(self, payload: bytes) -> bytes | None:
        self.send(framed(payload))
        return self.reply()

    def close(self) -> None:
        self.sock.close()


class Server:
    """``pydbg-utrace gdbserver --listen 127.0.0.1:0 ...`` as a subprocess; ``port`` once up."""

    def __init__(self, *args: str, stdin=subprocess.DEVNULL, cwd: str | None = None):
        self.proc = subprocess.Popen([*SERVER, "--listen", "127.0.0.1:0", *args],
                                     stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=ENV, cwd=cwd)
        self.log: list[str] = []
        for line in self.proc.stderr:  # ends at EOF if the server dies: a verdict, no hang
            self.log.append(line)
            match = re.match(r"Listening on port (\d+)", line)
            if match:
                self.port = int(match.group(1))
                return
        raise AssertionError(f"server did not start: {''.join(self.log)}")

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def feed(self, text: str) -> None:
        """Write ``text`` to the server's stdin (the launched program's) and close it."""
        self.proc.stdin.write(text)
        self.proc.stdin.close()
        self.proc.stdin = None  # communicate() must not flush it again

    def finish(self, timeout: float = TIMEOUT) -> tuple[int, str, str]:
        """Wait for the server to end: (exit status, its stdout, the rest of its stderr)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"server did not finish: {''.join(self.log)}{err}") from None
        return self.proc.returncode, out, "".join(self.log) + err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
