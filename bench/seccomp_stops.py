#!/usr/bin/env python3
"""bench/seccomp_stops.py: the tracer's CPU time per stop on the seccomp-bpf path.

    bench/seccomp_stops.py [--opens M] [--repeat R] [--cpu C] [--compare DIR]

What a filtered trace costs the *tracer*, measured with the tracer thread's
own CPU clock (``pthread_getcpuclockid``), so that other processes on a
shared machine do not get into the figure as they get into wall times (they
still slow the CPU down, less so).  Each run is a fresh interpreter that
launches ``bench/seccomp_tracee 0 M`` (M ``openat`` + ``close``, nothing
else), reads the tracer thread's clock before ``process.start()`` and after
the program's end, and prints it; the row is the median (and the best) of
R runs, per stop and per traced call.  Variants:

* ``entry``: the Python API, one engine narrowed to ``openat`` with
  ``SYSCALL_ENTRY`` only: one seccomp stop per call, resumed with PTRACE_CONT;
* ``entry+exit``: the same engine with ``SYSCALL``: the seccomp stop and the
  exit stop (PTRACE_SYSCALL, then PTRACE_CONT);
* ``trace``: the engines of ``pydbg-utrace trace -f -e trace=openat
  --seccomp-bpf -o /dev/null`` (the logger): what the command's tracer does;
* ``lane-full``: for reference, the ``entry+exit`` engine without any filter:
  every call stops twice on the plain fast lane (4 stops per ``openat`` +
  ``close``).

``--compare DIR`` runs each variant again with the core in DIR
(``NAME@before``).  Pinned (``taskset -c C``) as bench/seccomp.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TRACEE = HERE / "_build" / "seccomp_tracee"
VARIANTS = ("entry", "entry+exit", "trace", "lane-full")


def one_run(variant: str, opens: int) -> tuple[int, int]:
    """In this interpreter: (the tracer thread's CPU ns, its stops) for one traced run."""
    sys.path[0] = os.environ.get("PYTHONPATH", str(ROOT)).split(os.pathsep)[0]
    from pydbg_utrace import Engine, Event, Tracer, arch

    openat = arch.host().syscall_number_of("openat")
    argv = [str(TRACEE), "0", str(opens)]

    class Count(Engine):
        def report_syscall_entry(self, att, report):
            pass

        def report_syscall_exit(self, att, report):
            pass

    tracer = Tracer()
    try:
        if variant == "trace":
            from pydbg_utrace import trace_command
            from pydbg_utrace.strace_options import parse, traced_numbers

            request = parse(["-f", "--seccomp-bpf", "-e", "trace=openat", "-o", os.devnull,
                             "--", *argv])
            with open(os.devnull, "w") as out:  # as trace_command.run() sets it up
                engines = trace_command.build_engines(request, out)
                numbers = traced_numbers(request.options, arch.host())
                trace_command.narrow_to_traced_syscalls(engines, numbers)
                process = tracer.launch(argv, syscall_filter=numbers)
                for engine in engines.values():
                    engine.attach_to(process.main_thread)
                clock = time.pthread_getcpuclockid(tracer_thread().ident)
                return measured(process, clock), 2 * opens
        numbers = None if variant == "lane-full" else {openat}
        process = tracer.launch(argv, syscall_filter=numbers)
        att = process.main_thread.attach(Count())
        att.set_syscall_filter(numbers)
        att.set_events(Event.SYSCALL_ENTRY if variant == "entry" else Event.SYSCALL)
        clock = time.pthread_getcpuclockid(tracer_thread().ident)
        stops = {"entry": opens, "entry+exit": 2 * opens, "lane-full": 4 * opens}[variant]
        return measured(process, clock), stops
    finally:
        tracer.close()


def tracer_thread():
    import threading

    return next(thread for thread in threading.enumerate()
                if thread.name == "pydbg-utrace tracer")


def measured(process, clock: int) -> int:
    before = time.clock_gettime_ns(clock)
    process.start()
    if process.wait(120) is None:
        raise RuntimeError("the tracee did not finish")
    return time.clock_gettime_ns(clock) - before


def run(variant: str, opens: int, pin: list[str], root: Path | None) -> tuple[int, int]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root or ROOT),
                                                      env.get("PYTHONPATH")]))
    done = subprocess.run([*pin, sys.executable, str(Path(__file__).resolve()), "--one",
                           variant, "--opens", str(opens)], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or "tracer_cpu_ns" not in done.stdout:
        raise RuntimeError(f"{variant}: exited with {done.returncode}:\n{done.stderr[-2000:]}")
    words = done.stdout.split()
    return int(words[words.index("tracer_cpu_ns") + 1]), int(words[words.index("stops") + 1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opens", type=int, default=2000, help="openat calls (2000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per variant (5)")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin to (0); -1: none")
    parser.add_argument("--compare", metavar="DIR", type=Path,
                        help="also run every variant with the core in DIR (NAME@before)")
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        cpu_ns, stops = one_run(args.one, args.opens)
        print(f"tracer_cpu_ns {cpu_ns} stops {stops}")
        return 0
    if not TRACEE.exists():
        parser.error(f"{TRACEE} is missing: run bench/seccomp.py once (it compiles it)")
    pin = [] if args.cpu < 0 else ["taskset", "-c", str(args.cpu)]
    rows = [(variant, None) for variant in VARIANTS]
    if args.compare is not None:
        rows += [(f"{variant}@before", args.compare.resolve()) for variant in VARIANTS]
    results: dict[str, list[tuple[int, int]]] = {name: [] for name, _ in rows}
    load_before = os.getloadavg()[0]
    for round_ in range(args.repeat):  # paired: every variant once per round
        for name, root in rows:
            results[name].append(run(name.split("@")[0], args.opens, pin, root))
            cpu_ns, stops = results[name][-1]
            print(f"round {round_ + 1}/{args.repeat} {name}: {cpu_ns / 1e6:.1f} ms CPU, "
                  f"{stops} stops", file=sys.stderr, flush=True)
    uname = os.uname()
    print(f"{args.opens} openat (+ close), {args.repeat} paired runs; {uname.sysname} "
          f"{uname.release} {uname.machine}, Python {sys.version.split()[0]}; "
          f"{'unpinned' if not pin else 'pinned to CPU ' + str(args.cpu)}; load average "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| variant | stops | tracer CPU µs a stop: median (best) | µs a traced call |")
    print("|---|---:|---:|---:|")
    for name, _ in rows:
        per_stop = [cpu_ns / stops / 1e3 for cpu_ns, stops in results[name]]
        stops = results[name][0][1]
        per_call = statistics.median(per_stop) * stops / args.opens
        print(f"| {name} | {stops} | {statistics.median(per_stop):.1f} ({min(per_stop):.1f}) "
              f"| {per_call:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
