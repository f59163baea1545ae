#!/usr/bin/env python3
"""bench/logger.py: what the syscall logger costs per call, apart from ptrace.

    python3 bench/logger.py [--calls N] [--call NAME] [--profile]

The cli-log row of bench/run (``trace -o /dev/null -- tracee N``) pays the
stops, the core and the logger together.  This times the logger's own part
in CPU time, with no tracee: its two callbacks (``report_syscall_entry`` and
``report_syscall_exit``) on reports shaped as the fast lane makes them (a
fresh :class:`kernel.SyscallInfo` per stop, from GET_SYSCALL_INFO's bytes,
decoded when the logger first reads it), writing strace's lines into
/dev/null.  Each row is one piece of a call's cost:

* ``syscall info``: only reading ``nr`` at entry and ``rval`` at exit (the
  core's decoding of the kernel's bytes: what any engine that prints pays);
* ``logger``: the two callbacks, whole (the info's decoding included);
* ``logger, infos decoded``: the same with infos already decoded (the
  logger's own formatting and output alone).

``--call`` picks the system call (default getppid, the bench tracee's);
``--profile`` prints cProfile's top costs of the ``logger`` row.  Nothing
here asserts: it prints a table (µs per call, i.e. per two stops).

``--cpu`` instead runs bench/run's raw-c, api-1 and cli-log commands (built by
bench/run) pinned on one CPU, paired in rounds, and compares their **CPU
time** (user + system of the command and its tracee, from ``wait4``), not
their wall time: on a machine shared with other work, wall time counts the
others' turns on the CPU and CPU time does not (it still grows with their
cache pollution).  µs/stop = (cpu(N) - cpu(0)) / 2N, best of the rounds;
``--core DIR`` (repeatable) adds a cli-log row with the core found in DIR.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("LOGGER_CORE") or str(Path(__file__).resolve().parent.parent))

from pydbg_utrace.engines.syscall_log import SyscallLogger  # noqa: E402
from pydbg_utrace.engines.trace_options import TraceOptions  # noqa: E402

from pydbg_utrace import arch as arches  # noqa: E402
from pydbg_utrace import kernel  # noqa: E402

TID = 4242
# struct ptrace_syscall_info: op, arch, ip, sp, then entry {nr, args[6]} or exit {rval, is_error}
_HEAD = struct.Struct("=B3xIQQ")


def info_bytes(op: int, nr: int = 0, rval: int = 0, is_error: bool = False) -> bytes:
    head = _HEAD.pack(op, 0xC000003E, 0x401000, 0x7FFC0000)
    body = struct.pack("=7Q", nr, 0, 0, 0, 0, 0, 0) if op == kernel.PTRACE_SYSCALL_INFO_ENTRY \
        else struct.pack("=qB", rval, is_error)
    return (head + body).ljust(96, b"\0")


class Thread:
    def __init__(self) -> None:
        self.tid = TID
        self.arch = arches.host()


class Attachment:
    def __init__(self) -> None:
        self.thread = Thread()


class Report:
    __slots__ = ("syscall",)


def calls(nr: int, decoded: bool):
    """(entry report, exit report) makers: a fresh info per stop, as the lane gives."""
    entry_raw = info_bytes(kernel.PTRACE_SYSCALL_INFO_ENTRY, nr)
    exit_raw = info_bytes(kernel.PTRACE_SYSCALL_INFO_EXIT, rval=1234)

    def entry() -> Report:
        report = Report()
        report.syscall = kernel.SyscallInfo.undecoded(entry_raw)
        if decoded:
            report.syscall.nr  # noqa: B018 (decoded before the logger sees it)
        return report

    def exit_(entry_report: Report) -> Report:
        report = Report()
        info = report.syscall = kernel.SyscallInfo.undecoded(exit_raw)
        info.nr, info.args = entry_report.syscall.nr, entry_report.syscall.args
        if decoded:
            info.rval  # noqa: B018
        return report

    return entry, exit_


def time_logger(n: int, nr: int, decoded: bool, only_info: bool = False) -> float:
    out = open("/dev/null", "w")  # noqa: SIM115
    log = SyscallLogger(out, options=TraceOptions())
    att = Attachment()
    log.report_syscall_entry(att, calls(nr, True)[0]())  # a first call: no launch execve
    make_entry, make_exit = calls(nr, decoded)
    pairs = []
    for _ in range(n):
        e = make_entry()
        pairs.append((e, make_exit(e)))
    on_entry, on_exit = log.report_syscall_entry, log.report_syscall_exit
    if only_info:
        def on_entry(att, report):  # noqa: F811
            return report.syscall.nr and None

        def on_exit(att, report):  # noqa: F811
            return report.syscall.rval and None
    start = time.process_time()
    for e, x in pairs:
        on_entry(att, e)
        on_exit(att, x)
    took = time.process_time() - start
    out.close()
    return took / n * 1e6


BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def cpu_of(argv: list[str], root: Path) -> float:
    """CPU seconds (user + system) of ``argv`` and the children it waited for."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    with open(os.devnull, "r+b") as null:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, null.fileno(), fd) for fd in (0, 1, 2)])
        _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)}: exit status {status:#x}")
    return usage.ru_utime + usage.ru_stime


def paired_cpu(calls: int, rounds: int, cores: list[str]) -> None:
    tracee = str(BENCH / "_build" / "tracee")
    cli = [sys.executable, "-m", "pydbg_utrace", "trace", "-o", os.devnull, "--"]
    rows = [("untraced", [], ROOT), ("raw-c", [str(BENCH / "_build" / "raw_tracer")], ROOT),
            ("api-1", [sys.executable, str(BENCH / "engines.py"), "count", "--engines", "1",
                       "--"], ROOT), ("cli-log", cli, ROOT)]
    rows += [(f"cli-log (core {core})", cli, Path(core)) for core in cores]
    cpu = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(cpu)})
    best: dict[str, list[float]] = {name: [1e9, 1e9] for name, _, _ in rows}
    for _ in range(rounds):
        for name, argv, root in rows:
            for k, n in enumerate((calls, 0)):
                best[name][k] = min(best[name][k], cpu_of([*argv, tracee, str(n)], root))
    print(f"CPU time, {calls} calls, best of {rounds}, pinned on CPU {max(cpu)}; "
          f"load average {os.getloadavg()[0]:.2f}")
    base = best["untraced"][0] - best["untraced"][1]
    per_stop = {name: ((b[0] - b[1]) - base) / (2 * calls) * 1e6 for name, b in best.items()}
    print(f"{'row':<40} {'cpu µs/stop':>12} {'× raw C':>8}")
    for name, _, _ in rows[1:]:
        print(f"{name:<40} {per_stop[name]:12.2f} {per_stop[name] / per_stop['raw-c']:8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--call", default="getppid")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="paired CPU times of the real rows")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--core", action="append", default=[],
                        help="with --cpu: also cli-log with the core in this DIR (repeatable)")
    args = parser.parse_args()
    if args.cpu:
        paired_cpu(args.calls, args.rounds, args.core)
        return 0
    nr = arches.host().syscall_number_of(args.call)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        time_logger(args.calls, nr, False)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(20)
        return 0
    print(f"{'piece':<28} µs/call")
    for label, decoded, only in (("syscall info", False, True), ("logger", False, False),
                                 ("logger, infos decoded", True, False)):
        best = min(time_logger(args.calls, nr, decoded, only) for _ in range(3))
        print(f"{label:<28} {best:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
