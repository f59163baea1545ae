#!/usr/bin/env python3
"""bench/seccomp.py: a filtered trace with the seccomp-bpf fast path, beside its peers.

    bench/seccomp.py [--calls N] [--opens M] [--repeat R] [--cpu C] [--rows A,B] [--json FILE]

The tracee (``bench/seccomp_tracee.c``, compiled with ``cc -O2`` into
``bench/_build/``) makes N raw ``getppid`` and M ``openat`` spread among
them, and prints the wall time of its own loop (``work_ns``) and the median
of its M blocks (an ``openat`` and the ``getppid`` up to the next one):
M times that median is the run's **steady** time, what it takes when no
other process cuts in (on a shared machine a whole run of tens of ms rarely
goes undisturbed, most of its sub-millisecond blocks do).  Rows, each
``-e trace=openat`` with ``-f``:

* ``untraced``: the tracee alone;
* ``filter-allow``: the tracee under the cheapest filter there is (one
  instruction, ``RET ALLOW``) and no tracer: what the kernel charges every
  call of a task that has *a* filter, whatever its shape (the entry's slow
  path), the floor of any seccomp row;
* ``filter-only``: the tracee under a filter of our shape (libseccomp's, one
  traced number, ``kexec_load``, that it never calls) and no tracer: equal
  to ``filter-allow`` when the kernel's per-number cache serves it;
* ``filter-nocache``: a filter that reads an argument before it allows (the
  kernel cannot prove its answer constant, so it runs at every call): what
  the cache saves;
* ``api-seccomp``: the Python API, one engine counting ``openat`` entries and
  exits, narrowed to it, launched with the filter: the core without the logger;
* ``ours-seccomp``: ``pydbg-utrace trace -f -e trace=openat --seccomp-bpf``;
* ``strace-seccomp``: ``strace -f --seccomp-bpf -e trace=openat``;
* ``ours-full``: ``pydbg-utrace trace -f -e trace=openat`` (no filter: every call stops);
* ``strace-full``: ``strace -f -e trace=openat`` (for reference).

Pinned (``taskset -c C``: tracer and tracee on one CPU), paired (every round
runs every row once, so a slow patch of a shared machine hits all rows
alike), best of R rounds per row, in one run.  Two figures per row: the
program's own time for its loop (``work``), and the command's wall time
with its fixed cost removed (the same command with 0 calls: interpreter
start, exec, exit), as bench/run does.  Per row: the best ``work`` and the
best ``steady`` of the rounds with their ratios to untraced's; the median and
range over the rounds of the paired steady ratio (the row's over untraced's
in the same round); and what a traced call costs (best steady over
filter-only's, per ``openat``: its two stops and the tracer's work for them).
Ratios to untraced, not verdicts: nothing fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = HERE / "_build"
TRACEE = BUILD / "seccomp_tracee"
ALLOW_ALL = "ALLOW"  # --exec-filtered's name for the one-instruction filter
NO_CACHE = "NOCACHE"  # ... for a filter that reads args[0]: the kernel cannot cache it


@dataclass
class Row:
    name: str
    what: str
    argv: list[str]  # the tracer's command; the tracee and its arguments follow
    needs: str | None = None
    works: list[float] = field(default_factory=list)  # seconds, the program's own loop
    steady: list[float] = field(default_factory=list)  # seconds, blocks x median block
    walls: list[float] = field(default_factory=list)  # seconds, the whole command
    fixed: list[float] = field(default_factory=list)  # seconds, the command with 0 calls
    skipped: str | None = None
    root: Path | None = None  # put this on PYTHONPATH instead of the checkout (--compare)


def rows() -> list[Row]:
    cli = shutil.which("pydbg-utrace")
    ours = [cli] if cli else [sys.executable, "-m", "pydbg_utrace"]
    trace = [*ours, "trace", "-f", "-e", "trace=openat", "-o", os.devnull]
    strace = ["strace", "-f", "-e", "trace=openat", "-o", os.devnull]
    myself = [sys.executable, str(Path(__file__).resolve())]
    return [
        Row("untraced", "the tracee alone", []),
        Row("filter-allow", "the cheapest filter (RET ALLOW), no tracer (no stops)",
            [*myself, "--exec-filtered", ALLOW_ALL]),
        Row("filter-only", "a filter of our shape, no tracer (no stops)",
            [*myself, "--exec-filtered", "kexec_load"]),
        Row("filter-nocache", "a filter that reads an argument (no cache), no tracer",
            [*myself, "--exec-filtered", NO_CACHE]),
        Row("api-seccomp", "Python API: 1 engine counting openat entry+exit, filtered",
            [*myself, "--exec-api"]),
        Row("ours-seccomp", "pydbg-utrace trace -f -e trace=openat --seccomp-bpf",
            [*trace, "--seccomp-bpf", "--"]),
        Row("strace-seccomp", "strace -f --seccomp-bpf -e trace=openat",
            [*strace, "--seccomp-bpf"], needs="strace"),
        Row("ours-full", "pydbg-utrace trace -f -e trace=openat (every call stops)",
            [*trace, "--"]),
        Row("strace-full", "strace -f -e trace=openat (every call stops)", strace,
            needs="strace"),
    ]


def selected(table: list[Row], names: str | None) -> list[Row]:
    """The rows asked for (in the table's order), with the baselines they are read against."""
    if not names:
        return table
    wanted = set(names.split(","))
    unknown = wanted - {row.name for row in table}
    if unknown:
        raise SystemExit(f"bench/seccomp.py: no such row: {', '.join(sorted(unknown))} "
                         f"(rows: {', '.join(row.name for row in table)})")
    wanted.add("untraced")
    if wanted - {"untraced", "filter-allow", "filter-nocache"}:
        wanted.add("filter-only")
    return [row for row in table if row.name in wanted]


def strace_version() -> str:
    try:
        done = subprocess.run(["strace", "-V"], capture_output=True, text=True)
    except OSError:
        return "no strace"
    return done.stdout.split("\n")[0].replace("strace -- version ", "strace ")


def compile_tracee() -> None:
    source = HERE / "seccomp_tracee.c"
    if TRACEE.exists() and TRACEE.stat().st_mtime >= source.stat().st_mtime:
        return
    BUILD.mkdir(exist_ok=True)
    command = [os.environ.get("CC", "cc"), "-O2", "-Wall", "-o", str(TRACEE), str(source)]
    print("compile: " + " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True)


def run_once(row: Row, pin: list[str], calls: int, opens: int) -> tuple[float, float, float]:
    """(the program's own seconds, its steady seconds, the command's wall seconds) of one run."""
    argv = [*pin, *row.argv, str(TRACEE), str(calls), str(opens)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(row.root or ROOT),
                                                      env.get("PYTHONPATH")]))
    start = time.perf_counter()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0 or "work_ns" not in done.stdout:
        raise RuntimeError(f"{row.name}: {' '.join(argv)} exited with {done.returncode}:\n"
                           + done.stderr[-2000:])
    if "not enabled" in done.stderr or "unavailable" in done.stderr:
        raise RuntimeError(f"{row.name}: the seccomp filter was not used:\n{done.stderr}")
    words = done.stdout.split()
    work = int(words[words.index("work_ns") + 1]) / 1e9
    block = int(words[words.index("block_median_ns") + 1]) / 1e9
    steady = block * int(words[words.index("blocks") + 1])
    return work, steady, wall


def measure(table: list[Row], pin: list[str], calls: int, opens: int, repeat: int) -> None:
    for row in table:
        if row.needs and shutil.which(row.needs) is None:
            row.skipped = f"{row.needs} not installed"
    for round_ in range(repeat):
        for row in table:
            if row.skipped:
                continue
            work, steady, wall = run_once(row, pin, calls, opens)
            _, _, fixed = run_once(row, pin, 0, 0)
            row.works.append(work)
            row.steady.append(steady)
            row.walls.append(wall)
            row.fixed.append(fixed)
            print(f"round {round_ + 1}/{repeat} {row.name}: work {work * 1e3:.1f} ms, "
                  f"steady {steady * 1e3:.1f} ms, wall {wall:.3f} s, fixed {fixed:.3f} s",
                  file=sys.stderr, flush=True)


def spread(values: list[float], bases: list[float]) -> str:
    """The median of the paired ratios (round by round) and their range."""
    ratios = [value / base for value, base in zip(values, bases, strict=False)]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


def format_table(table: list[Row], opens: int) -> str:
    base = next(row for row in table if row.name == "untraced")
    floor = next((row for row in table if row.name == "filter-only" and row.steady), None)
    lines = ["| row | what | work ms | × untraced | steady ms | × untraced "
             "| × untraced, paired: median (range) | µs a traced call | wall − fixed ms "
             "| wall s |",
             "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for row in table:
        if row.skipped:
            lines.append(f"| {row.name} | {row.what} | skipped: {row.skipped} "
                         "| | | | | | | |")
            continue
        work, steady = min(row.works), min(row.steady)
        marginal = min(row.walls) - min(row.fixed)
        per_call = "—"
        if floor is not None and opens and row.name.split("@")[0].endswith("-seccomp"):
            per_call = f"{(steady - min(floor.steady)) / opens * 1e6:.1f}"
        lines.append(f"| {row.name} | {row.what} | {work * 1e3:.1f} "
                     f"| {work / min(base.works):.2f} | {steady * 1e3:.1f} "
                     f"| {steady / min(base.steady):.2f} | {spread(row.steady, base.steady)} "
                     f"| {per_call} | {marginal * 1e3:.1f} | {min(row.walls):.3f} |")
    return "\n".join(lines)


def core_first() -> None:
    """The core the row runs (PYTHONPATH's first entry), not bench/ (this file is a
    "seccomp" module too)."""
    sys.path[0] = os.environ.get("PYTHONPATH", str(ROOT)).split(os.pathsep)[0]


def hand_made(name: str, never: int) -> bytes:
    """The cBPF of the two reference filters (struct sock_filter: u16 code, u8 jt, jf, u32 k)."""
    ret_allow = (0x06, 0, 0, 0x7FFF0000)  # BPF_RET|BPF_K, SECCOMP_RET_ALLOW
    if name == ALLOW_ALL:
        program = [ret_allow]
    else:  # A = args[0] (low word); A = nr; nr == never? TRACE : ALLOW
        program = [(0x20, 0, 0, 16), (0x20, 0, 0, 0), (0x15, 0, 1, never),
                   (0x06, 0, 0, 0x7FF00000), ret_allow]
    return b"".join(struct.pack("=HBBI", *insn) for insn in program)


def exec_filtered(name: str, argv: list[str]) -> int:
    """The filter-* rows: install a filter tracing ``name`` (or ALLOW_ALL's), become argv."""
    core_first()
    from pydbg_utrace import arch, seccomp

    never = arch.host().syscall_number_of("kexec_load")  # (the tracee never calls it)
    if name in (ALLOW_ALL, NO_CACHE):
        program = seccomp.FilterProgram(frozenset(), hand_made(name, never))
    else:
        program = seccomp.compile_filter({arch.host().syscall_number_of(name)})
    err = program.install()
    if err:
        print(f"cannot install the filter: {os.strerror(err)}", file=sys.stderr)
        return 1
    os.execv(argv[0], argv)
    return 127


def exec_api(argv: list[str]) -> int:
    """The api-seccomp row: launch argv filtered to openat, one counting engine."""
    core_first()
    from pydbg_utrace import Engine, Event, Tracer, arch

    openat = arch.host().syscall_number_of("openat")

    class Count(Engine):
        calls = 0

        def report_syscall_entry(self, att, report):
            self.calls += report.syscall.nr == openat

        def report_syscall_exit(self, att, report):
            self.calls += report.syscall.rval >= 0

    tracer = Tracer()
    try:
        process = tracer.launch(argv, syscall_filter={openat})
        if process.syscall_filter is None:
            print("the seccomp filter is unavailable", file=sys.stderr)
            return 1
        engine = Count()
        att = process.main_thread.attach(engine)
        att.set_syscall_filter({openat})
        att.set_events(Event.SYSCALL)
        process.start()
        status = process.wait(120)
        if status is None:
            print("api-seccomp: the tracee did not finish within 120 s", file=sys.stderr)
            return 1
    finally:
        tracer.close()
    print(f"api-seccomp: {engine.calls} reports", file=sys.stderr)
    return os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000, help="getppid calls (200000)")
    parser.add_argument("--opens", type=int, default=100, help="openat calls (100)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; best of them (5)")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to (0); -1: none")
    parser.add_argument("--rows", help="only these rows, comma-separated (untraced always "
                        "runs; filter-only too when a traced row does)")
    parser.add_argument("--compare", metavar="DIR", type=Path,
                        help="also run api-seccomp and ours-seccomp with the core in DIR "
                        "(a checkout's tree, e.g. from git archive) as NAME@before rows")
    parser.add_argument("--json", help="also write every run's times to FILE")
    parser.add_argument("--exec-filtered", metavar="NAME", help=argparse.SUPPRESS)
    parser.add_argument("--exec-api", action="store_true", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.exec_filtered:  # the filter-* rows: install the filter, become the tracee
        return exec_filtered(args.exec_filtered, rest)
    if args.exec_api:
        return exec_api(rest)
    compile_tracee()
    pin = [] if args.cpu < 0 else ["taskset", "-c", str(args.cpu)]
    table = selected(rows(), args.rows)
    if args.compare is not None:
        if not (args.compare / "pydbg_utrace" / "__init__.py").exists():
            parser.error(f"--compare {args.compare}: no pydbg_utrace/__init__.py there")
        table += [Row(f"{row.name}@before", f"{row.what}, core from {args.compare}", row.argv,
                      row.needs, root=args.compare.resolve())
                  for row in table if row.name in ("api-seccomp", "ours-seccomp")]
    load_before = os.getloadavg()
    measure(table, pin, args.calls, args.opens, args.repeat)
    load_after = os.getloadavg()
    uname = os.uname()
    print(f"{args.calls} getppid + {args.opens} openat, best of {args.repeat} paired rounds; "
          f"{uname.sysname} {uname.release} {uname.machine}, {os.cpu_count()} CPUs, "
          f"{strace_version()}; "
          f"{'unpinned' if not pin else 'pinned to CPU ' + str(args.cpu)}; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(format_table(table, args.opens))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({row.name: {"work": row.works, "steady": row.steady, "wall": row.walls,
                                  "fixed": row.fixed,
                                  "skipped": row.skipped} for row in table}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
