"""-P PATH, -e read=/write= and -E compared with strace 6.1's own output, line by line.

Both run the same program under ``setarch -R`` (no address randomisation), so
addresses compare as they are; what still differs between two runs is replaced
first (pids, getrandom's bytes, the tracer's pid, the environment's address and
size in the launch's execve: the two tracers hand the program environments of
other sizes, Python sets LC_CTYPE).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from strace_twins import OURS, STRACE, TIMEOUT, logs_of_both, needs_tools

pytestmark = pytest.mark.live


# Where a pid stands: the -f column, [pid N], si_pid=, "Process N", a call's result.
_PID_PLACES = re.compile(r"^(\d+)(?= )|(?<=\[pid)( *\d+)|(?<=si_pid=)(\d+)|(?<=Process )(\d+)"
                         r"|(?<=set_tid_address\()[^)]*\) += (\d+)$|(?<== )(\d+)$")
_PID_SOURCES = re.compile(r"(?:^|\[pid +|si_pid=|Process |(?:set_tid_address\(.*\)|vfork\(\)"
                          r"|resumed>\)|clone3?\(.*\)) += )(\d+)(?=\b)")
_RANDOM = re.compile(r'getrandom\("[^"]*"')
_CHILD_TIMES = re.compile(r"(si_[us]time=)\d+(?: /\* [^*]* \*/)?")
_ENV = re.compile(r"0x[0-9a-f]+ /\* \d+ vars \*/")
_PARENT = re.compile(r"getppid\(\) += \d+$")


def normalise(text: str) -> list[str]:
    """Pids become P1, P2... by their order of appearance (from the -f column, the
    results of set_tid_address and of the calls that make processes)."""
    pids: dict[str, str] = {}
    for line in text.splitlines():
        found = [m.group(1) for m in _PID_SOURCES.finditer(line)]
        for pid in found:
            pids.setdefault(pid, f"P{len(pids) + 1}")
    out = []
    for line in text.splitlines():
        line = re.sub(r"\b(\d{2,})\b", lambda m: pids.get(m.group(1), m.group(1)), line) \
            if _PID_PLACES.search(line) else line
        line = _RANDOM.sub('getrandom("RANDOM"', line)
        line = _ENV.sub("ENV", line)
        line = _PARENT.sub("getppid() = PARENT", line)
        line = _CHILD_TIMES.sub(r"\1T", line)  # (a child's CPU ticks: the machine's load)
        # (strace pads a pid to 5 columns, "%-5d ": a 4-digit pid in one run and a
        # 5-digit one in the other pad differently; seen on a fresh machine)
        line = re.sub(r"^(P\d+) +", r"\1 ", line)
        line = re.sub(r"\[pid +(P\d+)\]", r"[pid \1]", line)
        out.append(line)
    return out


def run_both(flags: list[str], command: list[str], tmp_path, status: int = 0,
             ) -> tuple[list[str], list[str]]:
    theirs, ours = logs_of_both(flags, command, tmp_path, status, cwd=tmp_path)
    return normalise(theirs), normalise(ours)


def assert_same(theirs: list[str], ours: list[str]) -> None:
    differences = [(a, b) for a, b in zip(theirs, ours, strict=False) if a != b]
    for a, b in differences[:20]:
        print(f"  strace: {a}\n  ours:   {b}")
    assert not differences
    assert len(ours) == len(theirs), (len(theirs), len(ours), theirs[-3:], ours[-3:])


# A shell that reads and writes a file of its own, renames it, and runs a child that
# opens it: path arguments (openat, renameat/rename, unlink), fds (read, write,
# close, fstat, dup2 of the redirection) and a child process, all for one path.
SCRIPT = ("echo hello > data; read line < data; cat data > /dev/null; mv data moved; "
          "cat moved; rm moved; trap true USR1; kill -USR1 $$; exit 3")


@needs_tools
@pytest.mark.parametrize("flags", [
    ["-P", "data"], ["-P", "TMP/data"], ["-f", "-P", "TMP/data"],
    ["-f", "-P", "TMP/data", "-P", "TMP/moved"], ["-f", "-P", "/nonexist"],
    ["-f", "-P", "TMP/data", "-e", "trace=openat,close"], ["-f", "-P", "/usr/bin/cat"],
], ids=" ".join)
def test_path_filter_matches_straces(flags, tmp_path):
    """A relative path matches only the calls that name it so (an fd's link is
    absolute, in strace too); the absolute one matches the fds as well."""
    flags = [flag.replace("TMP", str(tmp_path)) for flag in flags]
    theirs, ours = run_both(flags, ["sh", "-c", SCRIPT], tmp_path, status=3)
    assert_same(theirs, ours)
    if f"{tmp_path}/data" in flags:  # the comparison saw fds matched, not only paths
        assert sum(bool(re.search(r"\b(close|dup2)\(3", line)) for line in ours) >= 2, ours


@needs_tools
def test_a_symlink_is_traced_by_its_target_too(tmp_path):
    (tmp_path / "target").write_text("x\n")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    flags = ["-P", str(tmp_path / "link")]
    command = ["cat", str(tmp_path / "target")]
    theirs, ours = run_both(flags, command, tmp_path)
    assert_same(theirs, ours)
    assert any("read(3, \"x\\n\"" in line for line in ours), ours
    done = subprocess.run([*OURS, *flags, "-o", os.devnull, *command], capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.stderr == (f'pydbg-utrace: Requested path "{tmp_path / "link"}" resolved '
                           f'into "{tmp_path / "target"}"\n')


FD_CALLS = ("import os, select; fd = os.open('/etc/passwd', os.O_RDONLY); os.dup2(fd, 9); "
            "select.select([9], [], [], 0); p = select.poll(); p.register(9); p.poll(0); "
            "select.select([0], [], [], 0); os.pread(9, 4, 0); os.fstat(9); os.close(9)")


@needs_tools
def test_path_filter_looks_into_fd_sets_and_arrays(tmp_path):
    """pselect6's fd_set and poll's pollfd array, dup2's two fds, fstat's: as strace."""
    theirs, ours = run_both(["-P", "/etc/passwd"], [sys.executable, "-S", "-c", FD_CALLS],
                            tmp_path)
    assert_same(theirs, ours)
    assert [line.split("(")[0] for line in ours] == [
        "openat", "dup2", "pselect6", "poll", "pread64", "newfstatat", "close",
        "+++ exited with 0 +++"]


# Python writes with writev, pwrite64 and write (an empty one: no dump), and reads its
# own .pyc files on fd 3: the dumps of a few kilobytes each.
PROGRAM = ("import os; os.writev(1, [b'ab', b'', b'cd\\n']); "
           "fd = os.open('out', os.O_WRONLY | os.O_CREAT); "
           "os.pwrite(fd, bytes(range(256)) * 3, 0); os.write(fd, b''); os.close(fd); "
           "fd = os.open('out', os.O_RDONLY); os.read(fd, 100); "
           "os.readv(fd, [bytearray(5), bytearray(0), bytearray(9)])")


@needs_tools
@pytest.mark.parametrize("flags", [
    ["-e", "trace=read,write,pwrite64,writev,readv", "-e", "read=3", "-e", "write=1,3"],
    ["-e", "trace=read,write,pwrite64,writev,readv", "-e", "write=all"],
    ["-e", "trace=read,readv", "--read=!0,1,2"],
    ["-e", "trace=read,pwrite64,readv,openat", "-e", "read=3", "-e", "write=3", "-z"],
], ids=" ".join)
def test_read_and_write_dumps_match_straces(flags, tmp_path):
    theirs, ours = run_both(flags, [sys.executable, "-S", "-c", PROGRAM], tmp_path)
    assert_same(theirs, ours)
    assert sum(line.startswith(" | 000") for line in ours) > 10, ours[:20]


@needs_tools
def test_environment_changes_match_straces(tmp_path):
    """-E sets and unsets in the program's environment: its env output, and strace's
    execve line with -v, compared (LC_CTYPE left out: Python's own locale coercion)."""
    flags = ["-E", "FOO=bar", "-E", "HOME", "-E", "PATH=/usr/bin:/bin", "-E", "FOO=baz",
             "-e", "trace=none"]
    outputs = []
    for tool in ([STRACE], OURS):
        done = subprocess.run([*tool, *flags, "env"], capture_output=True, text=True,
                              timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr
        outputs.append([line for line in done.stdout.splitlines()
                        if not line.startswith("LC_CTYPE=")])
    assert outputs[0] == outputs[1]
    assert "FOO=baz" in outputs[1] and not any(line.startswith("HOME=") for line in outputs[1])


def by_process(lines: list[str]) -> list[str]:
    """-f: each process's lines in order, the processes one after the other (how two
    processes' lines interleave, and whether a line is cut by another's or by our
    detach, is a race in strace's runs too)."""
    order: dict[str, int] = {}
    for line in lines:
        order.setdefault(line.split(" ", 1)[0], len(order))
    lines = [re.sub(r" <(unfinished|detached) \.\.\.>$", " <CUT>", line) for line in lines]
    return sorted(lines, key=lambda line: order[line.split(" ", 1)[0]])


@needs_tools
@pytest.mark.parametrize("flags, script, status", [
    (["-b", "execve"], "exec /bin/true", 0),
    (["-b", "execve"], "exec false", 0),            # strace's status: it never sees false's
    # -f: the child goes at its exec, sh is traced on (its SIGCHLD may come before or in
    # its wait4: in strace's runs too, so signals are not shown)
    (["--detach-on=execve", "-f", "-e", "signal=none", "-e", "trace=!rt_sigreturn"],
     "/bin/true; exit 4", 4),
    (["-b", "execve", "-f", "-e", "trace=execve,exit_group"], "/bin/true; exec true", 0),
], ids=lambda value: " ".join(value) if isinstance(value, list) else str(value))
def test_detach_on_execve_matches_straces(flags, script, status, tmp_path):
    theirs, ours = run_both(flags, ["sh", "-c", script], tmp_path, status=status)
    if "-f" in flags:
        theirs, ours = by_process(theirs), by_process(ours)
    assert_same(theirs, ours)
    assert any(line.endswith((" <detached ...>", " <unfinished ...>", " <CUT>"))
               for line in ours if "execve(" in line), ours[-5:]


@needs_tools
def test_detach_on_execve_says_so_as_strace_does(tmp_path):
    """Without -o: strace's message, then the open execve line ends in <detached ...>; the
    program we launched runs to its end untraced (its output comes), and we wait for it."""
    results = []
    for tool in ([STRACE], OURS):
        done = subprocess.run([*tool, "-b", "execve", "-e", "trace=execve", "sh", "-c",
                               "exec echo untraced"], capture_output=True, text=True,
                              timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr
        lines = normalise(done.stderr.replace(f"{tool[0]}: ", "TRACER: ")
                          .replace("pydbg-utrace: ", "TRACER: "))
        results.append((lines[-2:], done.stdout))
    assert results[0] == results[1]
    assert results[1][0][0].startswith('execve("/usr/bin/echo", ["echo", "untraced"], ENV')
    assert results[1][0][0].endswith("TRACER: Process P1 detached")
    assert results[1][1] == "untraced\n"


@needs_tools
def test_detach_on_execve_of_an_attached_process(tmp_path):
    """-p: the process is let go at its exec, and the trace ends there (both tools)."""
    for tool in ([STRACE], OURS):
        program = subprocess.Popen(["sh", "-c", "read line; exec cat"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        try:
            tracer = subprocess.Popen([*tool, "-b", "execve", "-e", "trace=execve", "-p",
                                       str(program.pid)], stderr=subprocess.PIPE, text=True)
            first = tracer.stderr.readline()  # (a bounded wait: the tracer's first words)
            assert "attached" in first, first
            program.stdin.write("go\n")
            program.stdin.flush()
            rest = tracer.communicate(timeout=TIMEOUT)[1]
            assert tracer.returncode == 0, rest
            assert f"Process {program.pid} detached\n <detached ...>\n" in rest, rest
            program.stdin.write("still running\n")  # cat, untraced, echoes it
            program.stdin.close()
            assert program.stdout.read() == "still running\n"
        finally:
            program.kill()
            program.wait(timeout=TIMEOUT)


def summary_counts(table: str) -> dict[str, tuple[str, str]]:
    """-c's table by name: (calls, errors), the times left out (they are the machine's)."""
    rows = {}
    for line in table.splitlines():
        words = line.split()
        if len(words) >= 5 and words[0][0].isdigit() and words[-1] != "total":
            calls_errors = words[3:-1]
            rows[words[-1]] = (calls_errors[0], calls_errors[1] if len(calls_errors) > 1 else "")
    return rows


@needs_tools
@pytest.mark.parametrize("flags", [["-c"], ["-f", "-c"], ["-f", "-C", "-e", "trace=%desc"]],
                         ids=" ".join)
def test_path_filter_applies_to_the_summary_as_straces(flags, tmp_path):
    """-P limits -c's table as strace's (its filter is before the count)."""
    flags = [*flags, "-P", str(tmp_path / "data"), "-P", str(tmp_path / "moved")]
    tables = []
    for tool in ([STRACE], OURS):
        done = subprocess.run([*tool, *flags, "-o", str(tmp_path / "table"), "sh", "-c",
                               SCRIPT], capture_output=True, text=True, timeout=TIMEOUT,
                              cwd=tmp_path)
        assert done.returncode == 3, done.stderr
        text = (tmp_path / "table").read_text()
        tables.append(summary_counts(text[text.index("% time"):]))
    assert tables[0] == tables[1]
    assert {"read", "close", "dup2"} <= tables[1].keys(), tables[1]  # (fds: the path is absolute)


@needs_tools
def test_path_filter_applies_to_json(tmp_path):
    """--json -P: the objects are the calls of the log's -P lines (the log is compared
    with strace above)."""
    flags = ["-f", "-P", str(tmp_path / "data")]
    log = tmp_path / "log"
    runs = {}
    for extra in ([], ["--json"]):
        done = subprocess.run([*OURS, *flags, *extra, "-o", str(log), "sh", "-c", SCRIPT],
                              capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
        assert done.returncode == 3, done.stderr
        runs[bool(extra)] = log.read_text().splitlines()
    lines = [line.split(" ", 1)[1].lstrip() for line in runs[False]]
    names = [line.split("(", 1)[0] for line in lines if not line.startswith(("+++", "---"))]
    objects = [json.loads(line) for line in runs[True]]
    assert [call["name"] for call in objects] == names
    assert all(str(tmp_path / "data") in (call["arguments"] or "") or call["name"] != "openat"
               for call in objects)
