"""``pydbg-utrace trace`` against the machine's own strace, line by line, on any arch (issue 13).

Written for the ppc64le and s390x guests (.ci/cross-arch runs it there, with Debian's
strace in the guest image), where the calls whose form depends on the ABI are the
point: clone's argument order, s390x's mmap (its arguments in a block in memory),
socketcall (every socket call of s390x's glibc) and ipc (System V IPC on both),
newfstatat, the sigreturn frames, the syscall table itself.  tests/cross/abi_calls.c
makes each of them once; beside it the host differential test's threads and
fork/exec/signal programs and a shell pipe (busybox's in the guests).

The command line is the one a user types (``python3 -m pydbg_utrace trace -f -qq``),
strace runs with the same options, and both logs go through the host test's
normalisation and comparison (tests/test_decode_vs_strace_live.py: pids,
addresses, getrandom's bytes; each process against its own lines).  Per program:
at least 95% of the lines identical, none of the listed calls or of the ABI's
calls different (but for what scheduling decides: futex waits).  Then ``-e
trace=``, ``--seccomp-bpf`` (if the machine has libseccomp's Python binding) and
``-c``.  ``pytest -s`` prints the percentages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_decode_vs_strace_live import UNFINISHED, Comparison, call_name, normalise, scheduled
from test_trace_summary_vs_strace_live import table_rows

from pydbg_utrace import seccomp

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(shutil.which("strace") is None,
                       reason="strace is not installed (apt-get install strace; the guests "
                              "get Debian's from tools/vm/run): nothing to compare with"),
]
HERE = Path(__file__).parent
CLI = [sys.executable, "-m", "pydbg_utrace"]
TIMEOUT = 300 * float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))

#: The calls whose decoding depends on the arch's ABI: every one of their lines must be
#: identical to strace's.
ABI_CALLS = frozenset("""
    clone clone3 mmap munmap mprotect socket connect socketpair sendto recvfrom shmget shmat
    shmdt shmctl semget semctl newfstatat fstatat64 fstat rt_sigaction rt_sigreturn sigreturn
    wait4 execve prctl uname getcwd clock_nanosleep openat read write access unlink
""".split())

PROGRAMS = {
    "abi-calls": ["abi_calls"],
    "pthreads": ["decode_threads"],
    "fork-exec-signal": ["decode_forksig"],
    "sh-pipe": ["/bin/sh", "-c", "echo a | wc -c"],
}


def program(argv: list[str]) -> list[str]:
    """Tracees by name: prebuilt in the guests (PYDBG_UTRACE_TRACEES), else compiled here
    from tests/cross/ or tests/tracees/ with the tests' flags."""
    if argv[0].startswith("/"):
        return argv
    name = argv[0]
    prebuilt = os.environ.get("PYDBG_UTRACE_TRACEES")
    if prebuilt:
        return [str(Path(prebuilt) / name), *argv[1:]]
    source = next(p for p in (HERE / "cross" / f"{name}.c", HERE / "tracees" / f"{name}.c")
                  if p.exists())
    binary = HERE / "_build" / name
    if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
        if shutil.which(os.environ.get("CC", "cc")) is None:
            pytest.fail(f"no C compiler to build {name} (apt-get install gcc)")
        binary.parent.mkdir(exist_ok=True)
        tmp = binary.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run([os.environ.get("CC", "cc"), "-O0", "-g", "-Wl,-z,now", "-pthread",
                        "-o", str(tmp), str(source)], check=True)
        tmp.replace(binary)
    return [str(binary), *argv[1:]]


def run_both(argv: list[str], tmp_path: Path, flags: tuple[str, ...] = (),
             extra: tuple[str, ...] = ()) -> tuple[str, str]:
    """strace's log and ours of one program, both with ``-f -qq`` and ``flags``; ``extra``
    are our options alone (--seccomp-bpf: strace's is compared separately)."""
    theirs, ours = tmp_path / "strace.log", tmp_path / "ours.log"
    # The same environment and open fds for both (execve's "/* N vars */", the shell's
    # fcntl(F_DUPFD)), stdin/stdout/stderr on /dev/null.
    common = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=TIMEOUT,
                  env=dict(os.environ), close_fds=False)
    pids_clear_of_constants()
    a = subprocess.run(["strace", "-f", "-qq", *flags, "-o", str(theirs), *argv],
                       stderr=subprocess.DEVNULL, **common)
    pids_clear_of_constants()
    b = subprocess.run([*CLI, "trace", "-f", "-qq", *flags, *extra, "-o", str(ours), "--",
                        *argv], stderr=subprocess.PIPE, text=True, **common)
    assert b.returncode == a.returncode, f"status {b.returncode} (strace: {a.returncode}): " \
        f"{b.stderr[-2000:]}"
    return theirs.read_text(), ours.read_text()


#: System V IPC ids come from a kernel-wide counter: they differ between runs, as pids do.
IPC_IDS = (re.compile(r"^((?:shm|sem|msg)get\(.*\) = )\d+$"), re.compile(
    r"^((?:shmat|shmctl|semctl|semop|semtimedop|msgsnd|msgrcv|msgctl)\()\d+,"))


def without_ipc_ids(log: dict[str, list[str]]) -> dict[str, list[str]]:
    made, used = IPC_IDS
    return {proc: [used.sub(r"\1ID,", made.sub(r"\1ID", line)) for line in lines]
            for proc, lines in log.items()}


def coalesced(difference: tuple[str, str, str]) -> bool:
    """A SIGCHLD only one run shows: two children that exit before the shell takes the
    first signal give it one (a pending standard signal is not queued twice) -- under
    strace as under us, seen once in the ppc64le guest under load."""
    _, theirs, ours = difference
    return not (theirs and ours) and (theirs or ours).startswith("--- SIGCHLD ")


def listed_differences(result: Comparison) -> list[tuple[str, str, str]]:
    return [d for d in result.listed_differences() if not coalesced(d)]


def abi_differences(result: Comparison) -> list[tuple[str, str, str]]:
    """The ABI's calls printed differently (not a scheduling difference, nor a line strace
    itself left unfinished)."""
    return [d for d in result.differences
            if call_name(d[1] or d[2]) in ABI_CALLS and not scheduled(d[1], d[2])
            and not (d[1].endswith(UNFINISHED) and d[2].startswith(d[1][:-len(UNFINISHED)]))]


def pids_clear_of_constants() -> None:
    """In a guest (root, a kernel of its own): the next pids above every constant the
    programs print.  The normalisation renames every number that is one of the run's
    pids, so a guest pid of 110 once turned strace's connect(..., 110) into
    connect(..., P.1); the host's pids are far above them already."""
    if os.environ.get("PYDBG_UTRACE_VM"):
        with open("/proc/sys/kernel/ns_last_pid", "w") as fh:
            fh.write("30000")  # below the default pid_max (32768): no wrap within a run


def compare(name: str, tmp_path: Path, flags: tuple[str, ...] = (),
            extra: tuple[str, ...] = ()) -> Comparison:
    theirs, ours = run_both(program(PROGRAMS[name]), tmp_path, flags, extra)
    result = Comparison(without_ipc_ids(normalise(theirs)), without_ipc_ids(normalise(ours)))
    print(f"\n[{os.uname().machine}] {name} {' '.join(flags + extra)}: {result.percent:.1f}% "
          f"identical ({result.same} of {result.total} strace lines, {result.ours_total} ours)")
    for proc, line, mine in result.differences[:30]:
        print(f"  [{proc}] strace: {line}\n  [{proc}] ours:   {mine}")
    return result


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_trace_matches_strace_line_by_line(name, tmp_path):
    result = compare(name, tmp_path)
    assert result.total >= 10
    assert result.percent >= 95.0, f"{name}: {result.percent:.1f}% identical"
    assert not listed_differences(result), listed_differences(result)[:10]
    assert not abi_differences(result), abi_differences(result)[:10]


#: Calls strace's -e trace= names that the ABI carries inside others on some arches
#: (s390x: socketcall; ppc64 and s390x: ipc; s390x: the mmap block).
TRACED = "trace=mmap,socket,connect,socketpair,shmget,shmat,semctl,clone,wait4,newfstatat"


def test_trace_filter_names_the_carried_calls(tmp_path):
    result = compare("abi-calls", tmp_path, ("-e", TRACED))
    assert result.total >= 10
    assert result.percent == 100.0, result.differences


needs_seccomp = pytest.mark.skipif(bool(seccomp.unavailable_reason()),
                                   reason=f"no --seccomp-bpf here: {seccomp.unavailable_reason()}")


@needs_seccomp
def test_seccomp_path_prints_what_strace_prints(tmp_path):
    seccomp_case("abi-calls", ("-e", TRACED + ",openat,close"), tmp_path)


@needs_seccomp
def test_seccomp_path_prints_the_execve_lines(tmp_path):
    """The launch's own execve too: its filter's seccomp stop comes before any engine, and
    the exit stop is asked for from the exec stop, as strace does (seccomp.launch_scope).
    (Without execve in the set, neither prints it: the case above.)"""
    seccomp_case("fork-exec-signal", ("-e", "trace=execve,wait4"), tmp_path)


def seccomp_case(name: str, flags: tuple[str, ...], tmp_path: Path) -> None:
    theirs, ours = run_both(program(PROGRAMS[name]), tmp_path, flags, ("--seccomp-bpf",))
    result = Comparison(without_ipc_ids(normalise(theirs)), without_ipc_ids(normalise(ours)))
    print(f"\n[{os.uname().machine}] {name} --seccomp-bpf: {result.percent:.1f}% identical "
          f"({result.same} of {result.total})")
    for proc, line, mine in result.differences[:30]:
        print(f"  [{proc}] strace: {line}\n  [{proc}] ours:   {mine}")
    assert result.total >= 5
    assert result.percent == 100.0, result.differences


def summed_table(text: str) -> dict[str, tuple[int, int]]:
    """The -c table by name.  strace gives a call made both directly and through
    socketcall/ipc two rows of one name (ppc64le's glibc: socket(), then our raw
    socketcall(SYS_SOCKET)); ours has one: compared as the sum."""
    rows: dict[str, tuple[int, int]] = {}
    for name, calls, errors in table_rows(text):
        before = rows.get(name, (0, 0))
        rows[name] = (before[0] + calls, before[1] + errors)
    return rows


def test_summary_counts_as_strace(tmp_path):
    theirs, ours = run_both(program(PROGRAMS["abi-calls"]), tmp_path, ("-c",))
    tables = []
    for text in (theirs, ours):
        table = summed_table(text)
        calls, errors = table.pop("futex", (0, 0))  # pthread_join waits or not: scheduling
        total_calls, total_errors = table.pop("total")
        table["total"] = (total_calls - calls, total_errors - errors)
        tables.append(table)
    print(f"\n[{os.uname().machine}] -c: {len(tables[0]) - 1} calls, "
          f"{tables[0]['total'][0]} in all")
    assert tables[1] == tables[0]
    assert tables[0]["total"][0] > 40
