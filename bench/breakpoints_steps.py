#!/usr/bin/env python3
"""bench/breakpoints_steps.py: breakpoint hits/s and single steps/s: pydbg-utrace, gdb, raw C.

    python3 bench/breakpoints_steps.py [--hits N] [--steps S] [--repeat R] [--profile] [--json FILE]
    python3 bench/breakpoints_steps.py --pieces   # the pieces of one hit, timed one by one

Compiles ``bench/bp_tracee.c`` (``bench_mark()`` once, the noinline
``bench_hit()`` N times, then a 6-instruction loop spun S times) with
``-O2 -no-pie -fcf-protection=none``, so the addresses ``nm`` prints are the
run-time addresses (no PIE load bias to add) and ``bench/raw_bp_step.c`` (the
bare ptrace floor), into ``bench/_build/``.  Then, in one paired run, every
round runs every row once with 0 events and with N (hits) or S (steps), and
each row keeps its best of ``--repeat`` rounds:

breakpoint hits (a breakpoint on ``bench_hit``, N calls)
    ``api-1``: one pydbg-utrace engine, ``insert_breakpoint`` + a counting
    ``report_breakpoint`` that answers None; ``gdb``: ``gdb -batch`` with
    ``break bench_hit`` / ``commands silent continue end`` / ``run`` and the
    hit count read back from ``info breakpoints``; ``raw-c``: int3, and per
    hit restore the byte, rewind rip, single-step, re-plant, continue.
single steps (S steps from a breakpoint on ``bench_mark``)
    ``api-1``: ``report_breakpoint`` answers SINGLESTEP, ``report_step``
    answers SINGLESTEP until S steps were reported, then None; ``gdb``:
    ``break bench_mark`` / ``run`` / ``delete`` / ``stepi S`` / ``continue``;
    ``raw-c``: S x (``PTRACE_SINGLESTEP`` + ``waitpid``).

Per row: ``wall s`` (best), ``fixed s`` (best with 0 events: start-up, not a
per-event cost), ``µs/event = ((wall - fixed) - (untraced - untraced fixed)) / events``,
events/s, and ``x raw C`` from the same run.  Nothing here fails on a slow
number; it exits non-zero only when a row cannot run or miscounts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE / "_build"
ROOT = HERE.parent
TRACEE = BUILD / "bp_tracee"
RAW = BUILD / "raw_bp_step"
SPIN_INSNS = 6  # instructions per iteration of bp_tracee's spin loop (-O2, x86_64)


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- building ----------------------------------------------------------------------
def compile_programs() -> None:
    BUILD.mkdir(exist_ok=True)
    cc = os.environ.get("CC", "cc")
    builds = (
        (HERE / "bp_tracee.c", TRACEE, ["-no-pie", "-fcf-protection=none"]),
        (HERE / "raw_bp_step.c", RAW, []),
    )
    for source, target, flags in builds:
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        command = [cc, "-O2", "-Wall", *flags, "-o", str(target), str(source)]
        progress("compile: " + " ".join(command))
        subprocess.run(command, check=True)


def symbol(name: str) -> int:
    """The address of ``name`` in the (non-PIE) tracee, from ``nm``."""
    out = subprocess.run(["nm", str(TRACEE)], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name and parts[1] in "Tt":
            return int(parts[0], 16)
    raise SystemExit(f"breakpoints_steps: no symbol {name} in {TRACEE}")


# -- the pydbg-utrace driver (run as a subprocess: `_driver MODE ADDR COUNT -- PROG ARGS`) --
def driver(mode: str, address: int, count: int, command: list[str], profile: str | None) -> int:
    sys.path.insert(0, str(ROOT))
    from pydbg_utrace import Engine, Event, Resume, Tracer, kernel
    from pydbg_utrace import tracer as tracer_module

    # Time inside waitpid (the tracee running + the kernel's stop/resume), by
    # wrapping the core's two wait functions from outside; the rest of the
    # traced time is the tracer's own work, its ptrace requests included.
    waited = {"ns": 0, "calls": 0}
    now = time.perf_counter_ns

    def timed(real):
        def wait(*args, **kwargs):
            before = now()
            try:
                return real(*args, **kwargs)
            finally:
                waited["ns"] += now() - before
                waited["calls"] += 1
        return wait

    kernel.wait_tracees = timed(kernel.wait_tracees)
    kernel.wait_tracee = timed(kernel.wait_tracee)

    class Counter(Engine):
        name = "bench"

        def __init__(self) -> None:
            self.hits = self.steps = 0

        def report_breakpoint(self, att, report):
            self.hits += 1
            if mode == "step" and count > 0:
                return Resume.SINGLESTEP
            return None

        def report_step(self, att, report):
            self.steps += 1
            if self.steps < count:
                return Resume.SINGLESTEP
            return None

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        real_main = tracer_module.Tracer._main

        def profiled_main(self):
            profiler.enable()
            try:
                real_main(self)
            finally:
                profiler.disable()

        tracer_module.Tracer._main = profiled_main

    engine = Counter()
    tracer = Tracer()
    try:
        process = tracer.launch(command)
        att = process.main_thread.attach(engine)
        att.set_events(Event.STEP if mode == "step" else Event.NONE)
        att.insert_breakpoint(address)  # adds Event.BREAKPOINT
        start = time.perf_counter()
        process.start()
        status = process.wait()
        traced = time.perf_counter() - start
    finally:
        tracer.close()
    if profiler is not None:
        profiler.dump_stats(profile)
    events = engine.steps if mode == "step" else engine.hits
    stats = {"hits": engine.hits, "steps": engine.steps, "events": events,
             "traced_s": round(traced, 6), "waits": waited["calls"],
             "us_work_per_event": round((traced * 1e9 - waited["ns"]) / 1000 / max(events, 1), 2),
             "us_wait_per_event": round(waited["ns"] / 1000 / max(events, 1), 2)}
    print("bench-stats " + json.dumps(stats), file=sys.stderr)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


# -- the pieces of one hit, timed one by one (`--pieces`) -------------------------------
def pieces(loops: int) -> None:
    """Time the requests and Python steps of one breakpoint hit against a held tracee."""
    import timeit

    sys.path.insert(0, str(ROOT))
    from pydbg_utrace import arch as arch_module
    from pydbg_utrace import dispatch, kernel
    from pydbg_utrace.engine import Attachment, Engine, Report
    from pydbg_utrace.events import Event
    from pydbg_utrace.memory import AddressSpace

    pid = os.fork()
    if pid == 0:
        try:
            kernel.ptrace(kernel.PTRACE_TRACEME, 0)
            os.execv(str(TRACEE), [str(TRACEE), "0", "100000000"])
        finally:
            os._exit(127)
    os.waitpid(pid, 0)  # held at the exec SIGTRAP
    kernel.set_options(pid, kernel.PTRACE_O_EXITKILL)
    try:
        arch = arch_module.for_pid(pid)
        space = AddressSpace(pid)
        address = symbol("bench_hit")
        original = space.read_raw(address, 1)
        raw = kernel.get_regset(pid, kernel.NT_PRSTATUS, arch.regset_size)

        class Quiet(Engine):
            def report_breakpoint(self, att, report):
                return None

        class FakeThread:
            tid = pid
            attachments: list = []

        att = Attachment(None, FakeThread, Quiet(), None)
        att.events = Event.BREAKPOINT
        thread = FakeThread()
        thread.attachments = [att]

        def registers():
            return arch.registers(kernel.get_regset(pid, kernel.NT_PRSTATUS, arch.regset_size),
                                  lambda note, size: kernel.get_regset(pid, note, size))

        def report_once():
            report = Report(None, thread, Event.BREAKPOINT)
            report.address = address
            dispatch.report([att], Event.BREAKPOINT, report, None, lambda a: None)

        def step_round_trip():
            kernel.singlestep(pid, 0)
            kernel.wait_tracee(pid)

        table = [
            ("PTRACE_GETSIGINFO (kernel.get_siginfo)", lambda: kernel.get_siginfo(pid), loops),
            ("PTRACE_GETREGSET + arch.registers decode", registers, loops),
            ("PTRACE_SETREGSET (kernel.set_regset)",
             lambda: kernel.set_regset(pid, kernel.NT_PRSTATUS, raw), loops),
            ("1-byte /proc/PID/mem write (AddressSpace.write_raw)",
             lambda: space.write_raw(address, original), loops),
            ("Report + dispatch.report, 1 engine answering None", report_once, loops),
            ("PTRACE_SINGLESTEP + waitpid round trip", step_round_trip, max(loops // 10, 1)),
        ]
        print(f"\nPieces of one breakpoint hit, timed alone against a held tracee "
              f"(best of 5 x {loops} loops; the round trip {max(loops // 10, 1)}):\n")
        print("| piece | µs/call |\n|---|---:|")
        for name, fn, n in table:
            best = min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6
            print(f"| {name} | {best:.2f} |")
        space.close()
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


# -- rows ---------------------------------------------------------------------------
GDB_HEAD = ("set pagination off\nset confirm off\nset startup-with-shell off\n"
            "set debuginfod enabled off\n")


@dataclass
class Row:
    section: str  # "bp" or "step"
    name: str
    what: str
    needs: str | None = None
    walls: list[float] = field(default_factory=list)
    fixed: list[float] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    skipped: str | None = None


def rows() -> list[Row]:
    return [
        Row("bp", "untraced", "the tracee alone"),
        Row("bp", "raw-c", "raw C: int3, restore + rewind + PTRACE_SINGLESTEP + re-plant + CONT"),
        Row("bp", "gdb", "gdb -batch: break, commands silent/continue, run", needs="gdb"),
        Row("bp", "api-1", "pydbg-utrace: 1 engine, report_breakpoint -> None"),
        Row("step", "untraced", "the tracee alone"),
        Row("step", "raw-c", "raw C: PTRACE_SINGLESTEP + waitpid loop"),
        Row("step", "gdb", "gdb -batch: stepi S", needs="gdb"),
        Row("step", "api-1", "pydbg-utrace: 1 engine, report_step -> SINGLESTEP"),
    ]


def command_for(row: Row, n: int, addr: dict[str, int], script_dir: Path) -> list[str]:
    """The argv of one run of ``row`` with ``n`` hits or steps."""
    hits, spin = (n, 0) if row.section == "bp" else (0, n)
    tracee = [str(TRACEE), str(hits), str(spin)]
    func = "bench_hit" if row.section == "bp" else "bench_mark"
    if row.name == "untraced":
        return tracee
    if row.name == "raw-c":
        if row.section == "bp":
            return [str(RAW), "bp", f"{addr[func]:x}", *tracee]
        return [str(RAW), "step", f"{addr[func]:x}", str(n), *tracee]
    if row.name == "api-1":
        return [sys.executable, str(Path(__file__).resolve()), "_driver", row.section,
                f"{addr[func]:x}", str(n), "--", *tracee]
    if row.name == "gdb":
        if row.section == "bp":
            body = (f"break {func}\ncommands\nsilent\ncontinue\nend\nrun\n"
                    "info breakpoints\n")
        else:
            stepi = f"stepi {n}\nprint (long) bench_spun\n" if n else ""
            body = f"break {func}\nrun\ndelete\n{stepi}continue\n"
        script = script_dir / f"{row.section}-{n}.gdb"
        script.write_text(GDB_HEAD + body)
        return ["gdb", "-nx", "-batch", "-x", str(script), "--args", *tracee]
    raise ValueError(row.name)


def parse_stats(row: Row, out: str, err: str) -> dict:
    for line in err.splitlines():
        if line.startswith("bench-stats "):
            return json.loads(line[len("bench-stats "):])
        match = re.fullmatch(r"(hits|steps) (\d+)", line.strip())
        if match:  # raw_bp_step.c
            return {match.group(1): int(match.group(2)), "events": int(match.group(2))}
    if row.name == "gdb":
        if row.section == "bp":
            match = re.search(r"breakpoint already hit (\d+) time", out)
            hits = int(match.group(1)) if match else 0
            return {"hits": hits, "events": hits}
        match = re.search(r"^\$1 = (\d+)", out, re.M)
        return {"spun": int(match.group(1))} if match else {}
    return {}


def run_once(row: Row, n: int, addr: dict[str, int], script_dir: Path) -> tuple[float, dict]:
    argv = command_for(row, n, addr, script_dir)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{row.section}/{row.name}: {' '.join(argv)} exited with "
                           f"{done.returncode}:\n{done.stderr[-2000:]}{done.stdout[-2000:]}")
    stats = parse_stats(row, done.stdout, done.stderr)
    return wall, stats


def check_count(row: Row, n: int, stats: dict) -> str | None:
    """A miscount makes the row's number meaningless: say so."""
    if row.name == "untraced":
        return None
    if row.name == "gdb" and row.section == "step":
        spun = stats.get("spun")
        if n and spun is None:
            return "gdb printed no bench_spun after stepi"
        # stepi S from bench_mark: ~4 instructions before the loop, then 6 per iteration.
        if n and abs(spun - n / SPIN_INSNS) > 10:
            return f"gdb: bench_spun = {spun} after stepi {n}, expected about {n // SPIN_INSNS}"
        return None
    if stats.get("events") != n:
        return f"counted {stats.get('events')} events, expected {n}"
    return None


# -- summary ------------------------------------------------------------------------
@dataclass
class Result:
    row: Row
    wall: float
    fixed: float
    per_event: float | None  # µs
    ratio: float | None = None


def summarize(table: list[Row], section: str, n: int) -> list[Result]:
    mine = [r for r in table if r.section == section and not r.skipped and r.walls]
    untraced = next((r for r in mine if r.name == "untraced"), None)
    base = min(untraced.walls) - min(untraced.fixed) if untraced else 0.0
    results = []
    for row in mine:
        wall, fixed = min(row.walls), min(row.fixed)
        per = None
        if row is not untraced:
            extra = (wall - fixed) - base
            per = extra / n * 1e6 if extra > 0 and n else None
        results.append(Result(row, wall, fixed, per))
    raw = next((r for r in results if r.row.name == "raw-c"), None)
    for result in results:
        if raw is not None and raw.per_event and result.per_event is not None:
            result.ratio = result.per_event / raw.per_event
    return results


def format_table(results: list[Result], section: str, n: int) -> str:
    unit = "hits" if section == "bp" else "steps"
    lines = [f"| row | what | wall s | fixed s | {unit} | {unit}/s | µs/{unit[:-1]} | × raw C "
             "| work µs | waits/ev |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        s = r.row.stats
        if r.row.name == "untraced":
            count = "0"
        elif r.row.name == "gdb" and section == "step":
            count = f"{n} (stepi)"
        else:
            count = str(s.get("events", "?"))
        if r.per_event is not None:
            per, rate = f"{r.per_event:.1f}", f"{1e6 / r.per_event:,.0f}"
        else:
            per = rate = "—" if r.row.name == "untraced" else "noise"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "—"
        work = f"{s['us_work_per_event']:.1f}" if "us_work_per_event" in s else "—"
        waits = f"{s['waits'] / n:.2f}" if "waits" in s and n else "—"
        lines.append(f"| {r.row.name} | {r.row.what} | {r.wall:.3f} | {r.fixed:.3f} | {count} "
                     f"| {rate} | {per} | {ratio} | {work} | {waits} |")
    return "\n".join(lines)


def profile(addr: int, hits: int, top: int = 18) -> None:
    import pstats

    out = BUILD / "bp_api1.prof"
    progress(f"profile: api-1 breakpoint row, {hits} hits, under cProfile -> {out}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "_driver", "bp",
                    f"{addr:x}", str(hits), "--profile", str(out), "--", str(TRACEE),
                    str(hits), "0"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"\ncProfile of the tracer thread, api-1, {hits} breakpoint hits; top {top} by own "
          "time:\n")
    stats = pstats.Stats(str(out), stream=sys.stdout)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_driver":
        cut = sys.argv.index("--")
        opts = sys.argv[2:cut]
        prof = None
        if "--profile" in opts:
            prof = opts[opts.index("--profile") + 1]
        mode, address, count = opts[0], int(opts[1], 16), int(opts[2])
        return driver(mode, address, count, sys.argv[cut + 1:], prof)

    parser = argparse.ArgumentParser(prog="bench/breakpoints_steps.py",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=int, default=20_000,
                        help="calls of the breakpointed function (default 20000)")
    parser.add_argument("--steps", type=int, default=100_000,
                        help="single steps (default 100000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds; each row keeps its best (default 3)")
    parser.add_argument("--rows", help="comma-separated row names (untraced and raw-c always run)")
    parser.add_argument("--profile", type=int, metavar="HITS", nargs="?", const=5_000,
                        help="afterwards, cProfile the api-1 breakpoint row (HITS hits, "
                             "default 5000) and print the top costs")
    parser.add_argument("--pieces", type=int, metavar="LOOPS", nargs="?", const=20_000,
                        help="instead of the rows: time the pieces of one hit (ptrace "
                             "requests, /proc/PID/mem write, dispatch) one by one, LOOPS each")
    parser.add_argument("--json", metavar="FILE", help="also write every run's times as JSON")
    args = parser.parse_args()
    if args.hits < 1 or args.steps < 1 or args.repeat < 1:
        parser.error("--hits, --steps and --repeat must be at least 1")

    compile_programs()
    if args.pieces:
        pieces(args.pieces)
        return 0
    addr = {name: symbol(name) for name in ("bench_hit", "bench_mark")}
    table = rows()
    if args.rows:
        wanted = set(args.rows.split(",")) | {"untraced", "raw-c"}
        unknown = wanted - {r.name for r in table}
        if unknown:
            parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
        table = [r for r in table if r.name in wanted]
    for row in table:
        if row.needs and not shutil.which(row.needs):
            row.skipped = f"{row.needs} not installed"
            progress(f"skip {row.section}/{row.name}: {row.skipped}")
    script_dir = BUILD / "gdb"
    script_dir.mkdir(exist_ok=True)
    count = {"bp": args.hits, "step": args.steps}

    load_before = os.getloadavg()[0]
    progress(f"bench: {args.hits} hits, {args.steps} steps, {args.repeat} round(s), "
             f"load {load_before:.2f}; bench_hit at {addr['bench_hit']:#x}, "
             f"bench_mark at {addr['bench_mark']:#x} (-no-pie)")
    if load_before > 0.5:
        progress("bench: the machine is busy; absolute times will swing, ratios less so")
    failed = False
    for round_no in range(1, args.repeat + 1):
        for row in table:
            if row.skipped:
                continue
            n = count[row.section]
            try:
                fixed, _ = run_once(row, 0, addr, script_dir)
                wall, stats = run_once(row, n, addr, script_dir)
            except (OSError, RuntimeError) as exc:
                row.skipped = f"failed: {exc}"
                progress(f"[{round_no}/{args.repeat}] {row.section}/{row.name}: "
                         f"FAILED TO RUN: {exc}")
                failed = True
                continue
            problem = check_count(row, n, stats)
            if problem:
                row.skipped = f"miscount: {problem}"
                progress(f"[{round_no}/{args.repeat}] {row.section}/{row.name}: {problem}")
                failed = True
                continue
            row.fixed.append(fixed)
            if not row.walls or wall < min(row.walls):
                row.stats = stats or row.stats
            row.walls.append(wall)
            progress(f"[{round_no}/{args.repeat}] {row.section:4} {row.name:8} {wall:8.3f} s "
                     f"(0 events: {fixed:.3f} s)")

    uname = os.uname()
    print(f"\n{args.hits} breakpoint hits, {args.steps} single steps, best of {args.repeat}; "
          f"{uname.sysname} {uname.release} {uname.machine}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}; load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after\n")
    for section, title in (("bp", "Breakpoint hits"), ("step", "Single steps")):
        print(f"{title}:\n")
        print(format_table(summarize(table, section, count[section]), section, count[section]))
        print()
    for row in table:
        if row.name == "gdb" and row.section == "step" and row.stats.get("spun") is not None:
            print(f"gdb stepi {args.steps}: bench_spun = {row.stats['spun']} afterwards "
                  f"(the loop is {SPIN_INSNS} instructions: the steps really ran)")
        if row.skipped:
            print(f"{row.section}/{row.name}: skipped ({row.skipped.splitlines()[0]})")
    if args.profile:
        profile(addr["bench_hit"], args.profile)
    if args.json:
        data = {"hits": args.hits, "steps": args.steps, "repeat": args.repeat,
                "rows": [{"section": r.section, "name": r.name, "walls": r.walls,
                          "fixed": r.fixed, "stats": r.stats} for r in table]}
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
