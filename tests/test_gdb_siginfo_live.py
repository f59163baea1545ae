"""`p $_siginfo` through us (qXfer:siginfo:read): the signal's siginfo_t as natively.

tests/tracees/gdb_target.c raises SIGUSR1 (tgkill: si_code SI_TKILL, si_pid its own);
gdb stops there and prints the fields natively and through the server.
"""

from __future__ import annotations

import re

import pytest
from conftest import build_tracee
from gdbclient import require_gdb, run_gdb, sections, server_command

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
