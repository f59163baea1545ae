"""`p $_siginfo` through us (qXfer:siginfo:read): the signal's siginfo_t as natively.

tests/tracees/gdb_target.c raises SIGUSR1 (tgkill: si_code SI_TKILL, si_pid its own);
gdb stops there and prints the fields natively and through the server.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess

import psutil
import pytest
from conftest import build_tracee
from gdbclient import ENV, TIMEOUT, Server, require_gdb, run_gdb, sections, server_command

pytestmark = pytest.mark.live

SCRIPT = r"""
{go}
echo ==siginfo==\n
p $_siginfo.si_signo
p $_siginfo.si_errno
p $_siginfo.si_code
p $_siginfo._sifields._kill.si_pid
info inferiors
echo ==end==\n
kill
"""


def _values(lines: list[str]) -> tuple[list[str], int]:
    values = [line for line in lines if re.match(r"^\$\d+ = ", line)]
    pid = next(int(m.group(1)) for m in map(re.compile(r"^\*\s+1\s+process (\d+)").match, lines)
               if m)
    return values, pid


def test_siginfo_of_a_signal_stop_as_natively(tmp_path):
    require_gdb()
    binary = build_tracee("gdb_target")
    native = run_gdb(binary, SCRIPT.format(go="run"), cwd=str(tmp_path))
    ours = run_gdb(binary, SCRIPT.format(go="continue"), cwd=str(tmp_path),
                   target="| " + server_command("-", "--", binary))
    assert "received signal SIGUSR1" in ours, ours
    (native_values, native_pid), (our_values, our_pid) = (
        _values(sections(out)["siginfo"]) for out in (native, ours))
    assert our_values[:3] == native_values[:3] == ["$1 = 10", "$2 = 0", "$3 = -6"], ours
    assert native_values[3] == f"$4 = {native_pid}" and our_values[3] == f"$4 = {our_pid}", ours


def test_siginfo_where_the_stop_has_none_is_an_error_not_garbage(tmp_path):
    """A breakpoint stop carries no siginfo here (the core reports the trap, not its
    SIGTRAP): gdb says it cannot read it, where natively it shows the trap's."""
    require_gdb()
    binary = build_tracee("gdb_target")
    ours = run_gdb(binary, "break compute\ncontinue\np $_siginfo.si_signo\nkill\n",
                   cwd=str(tmp_path), target="| " + server_command("-", "--", binary))
    assert "Breakpoint 1, compute (x=0)" in ours, ours
    assert "Unable to read siginfo" in ours, ours


HANDLER = r"""
set sysroot /
{go}
echo ==siginfo==\n
p $_siginfo.si_code
{write}
continue
"""


def _handler_sees(tmp_path, native: bool, write: str) -> tuple[str, str, int]:
    """Run tests/tracees/siginfo_echo under gdb (natively or through our TCP server),
    send it SIGUSR1 from here once it is ready, and let gdb pass it on: (gdb's output,
    the program's line about the siginfo its handler got, our pid)."""
    gdb = require_gdb()
    binary = build_tracee("siginfo_echo")
    server = None if native else Server("--", binary, cwd=str(tmp_path))
    script = tmp_path / "handler.gdb"
    script.write_text(HANDLER.format(go="run" if native else "continue", write=write))
    argv = [gdb, "-batch", "-nx", "-ex", "set confirm off"]
    if server is not None:
        argv += ["-ex", f"target remote {server.target}"]
    client = subprocess.Popen([*argv, "-x", str(script), binary], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=ENV, cwd=str(tmp_path))
    try:
        # The program's lines: in gdb's output natively, on the server's stdout here.
        program_out = client.stdout if native else server.proc.stdout
        seen = []
        for line in program_out:  # ends at EOF if the program dies: a verdict, no hang
            seen.append(line)
            if line == "ready\n":
                break
        assert seen and seen[-1] == "ready\n", seen
        parent = client if native else server.proc
        (program,) = [p for p in psutil.Process(parent.pid).children()
                      if p.name() == "siginfo_echo"]
        os.kill(program.pid, signal.SIGUSR1)  # si_code SI_USER, si_pid ours
        rest = program_out.read() if not native else ""
        out, _ = client.communicate(timeout=TIMEOUT)
        if native:
            rest = out
        line = next((x for x in rest.splitlines() if x.startswith("usr1 ")), "")
        return "".join(seen) + out, line, os.getpid()
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        if server is not None:
            server.kill()


@pytest.mark.parametrize("write", ["", "set $_siginfo._sifields._kill.si_pid = 4242"],
                         ids=["as-sent", "written"])
def test_a_signal_gdb_passes_on_keeps_its_siginfo(tmp_path, write):
    """`continue` at a SIGUSR1 stop delivers it with the siginfo the kernel gave it
    (si_code SI_USER, si_pid the sender's), or with what gdb wrote into `$_siginfo`
    (qXfer:siginfo:write), as natively -- not with our tgkill's (SI_TKILL, our pid)."""
    native_out, native_line, sender = _handler_sees(tmp_path, True, write)
    ours_out, our_line, _ = _handler_sees(tmp_path, False, write)
    expected = f"usr1 code=0 pid={4242 if write else sender}"
    assert native_line == expected, native_out
    assert our_line == expected, ours_out
    assert "$1 = 0" in ours_out, ours_out
