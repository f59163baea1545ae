"""strace's line leaders -n (call numbers), -i (instruction pointers) and -a (the result's
column), compared with strace's own lines.

Both run the same shell script under ``setarch -R`` (no address randomisation), so
the program's code sits at the same addresses in both runs and ``-i``'s values can
be compared as they are.  What still differs between two runs is replaced first:
pids (by their order of appearance) and getrandom's bytes.  One difference is ours
by design (docs/trace.md): the launch's own execve has no known PC, since it was
called from the image it replaced, and shows ``[????????????????]``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from strace_twins import TIMEOUT, logs_of_both, needs_tools

pytestmark = pytest.mark.live

# A handled signal (its --- line, and rt_sigreturn) and an exit status (the +++ line).  No
# child: its SIGCHLD would race the parent's wait4 for the order of the lines.
SCRIPT = "trap true USR1; kill -USR1 $$; exit 3"

# Where a pid stands: the -f column, si_pid=, kill's first argument, a result.
_PIDS = re.compile(r"^(\d+) |(?<=si_pid=)(\d+)|(?<=kill\()(\d+)|= (\d+)$")
_RANDOM = re.compile(r'getrandom\("[^"]*"')
_PARENT = re.compile(r"getppid\(\) += \d+$")  # the tracer's pid: not the same in two runs
# The launch's execve: its PC (ours has none) and its environment's address (the two
# tracers hand the program environments of other sizes)
_LAUNCH = re.compile(r"^((?:\d+ +)?(?:\[ *\d+\] )?)(?:\[[0-9a-f?]{16}\] )?"
                     r"(execve\(.*\], )0x[0-9a-f]+")


def normalise(text: str) -> list[str]:
    lines = text.splitlines()
    pid = None  # the program's, as set_tid_address() returns it
    for line in lines:
        found = re.search(r"set_tid_address\(.*\) += (\d+)$", line)
        if found:
            pid = found.group(1)
            break
    out = []
    for number, line in enumerate(lines):
        if number == 0:
            line = _LAUNCH.sub(r"\1[LAUNCH] \2ENV", line)
        line = _PARENT.sub("getppid() = PARENT", line)
        if pid is not None:
            line = _PIDS.sub(lambda m: m.group(0).replace(pid, "PID")
                             if pid in m.groups() else m.group(0), line)
        line = _RANDOM.sub('getrandom("RANDOM"', line)
        line = re.sub(r"^PID +", "PID ", line)  # (the -f column pads a pid to 5: its digits)
        out.append(line)
    return out


def run_both(flags: list[str], tmp_path) -> tuple[list[str], list[str]]:
    theirs, ours = logs_of_both(flags, ["sh", "-c", SCRIPT], tmp_path, status=3)
    return normalise(theirs), normalise(ours)


@needs_tools
@pytest.mark.parametrize("flags", [["-n"], ["-i"], ["-a", "20"], ["-a", "0"],
                                   ["-n", "-i", "-a", "60"], ["-f", "-n", "-i"]],
                         ids=" ".join)
def test_the_line_leaders_match_straces(flags, tmp_path):
    theirs, ours = run_both(flags, tmp_path)
    differences = [(a, b) for a, b in zip(theirs, ours, strict=False) if a != b]
    for a, b in differences[:20]:
        print(f"  strace: {a}\n  ours:   {b}")
    assert len(ours) == len(theirs), (len(theirs), len(ours))
    assert not differences
    if "-i" in flags:  # the comparison saw real addresses, not only question marks
        assert sum("[0000" in line for line in ours) > 10, ours[:5]


def test_bad_columns_are_refused_as_strace_does():
    done = subprocess.run([sys.executable, "-m", "pydbg_utrace", "trace", "-a", "x", "true"],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode != 0
    assert "invalid -a argument: 'x'" in done.stderr
