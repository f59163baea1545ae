#!/usr/bin/env python3
"""bench/gdb_rsp.py: what the gdb remote protocol costs: gdb native vs gdb + a server.

    python3 bench/gdb_rsp.py [--hits N] [--steps S] [--repeat R] [--cpu C] [--json FILE]

One paired run on ``bench/bp_tracee`` (built by bench/breakpoints_steps.py's
rules: ``-O2 -no-pie -fcf-protection=none``), every command pinned with
``taskset -c C`` (gdb, the server and the tracee on one CPU, so the numbers do
not depend on where the scheduler puts the three), each round running every
row once with 0 events and once with N, each row keeping its best of R:

breakpoint hits (``break bench_hit`` / ``commands silent continue end``, N calls)
steps (``break bench_mark``, then ``delete`` and ``stepi S``)

rows: ``untraced`` (the tracee alone), ``gdb`` (gdb native: ``run``),
``gdbserver`` (gdb + ``target remote | gdbserver - PROG``: the protocol's
price in C, for reference), ``pydbg`` (gdb + ``target remote | pydbg-utrace
gdbserver - -- PROG``).

Per row: ``wall s`` (best), ``fixed s`` (best with 0 events: gdb start-up,
symbol loading, the server's start), ``µs/event = ((wall - fixed) -
(untraced - untraced fixed)) / N``, ``× gdb`` (µs/event over native gdb's, same
run) and ``packets/event``: the packets gdb sent per event, counted in one more
untimed run per row with ``tee`` in the pipe (the remote rows only).  The hit
and step counts are checked (``info breakpoints``, ``bench_spun`` after
``stepi``); nothing here fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import breakpoints_steps as bps  # noqa: E402 (bench/ is not a package)

TRACEE = bps.TRACEE
GDB_HEAD = bps.GDB_HEAD + "set sysroot /\n"


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class Row:
    section: str  # "bp" | "step"
    name: str  # "untraced" | "gdb" | "gdbserver" | "pydbg"
    what: str
    walls: list[float] = field(default_factory=list)
    fixed: list[float] = field(default_factory=list)
    packets: int | None = None


ROWS = [
    ("untraced", "the tracee alone"),
    ("gdb", "gdb native (run)"),
    ("gdbserver", "gdb + `target remote \\| gdbserver - PROG`"),
    ("pydbg", "gdb + `target remote \\| pydbg-utrace gdbserver - -- PROG`"),
]


def server_command(name: str, tracee: list[str], tee: Path | None) -> str:
    """The ``target remote |`` command line of a remote row."""
    if name == "gdbserver":
        server = f"gdbserver - {' '.join(tracee)}"
    else:
        server = f"{sys.executable} -m pydbg_utrace gdbserver - -- {' '.join(tracee)}"
    if tee is not None:  # count what gdb sends (not timed)
        server = f"sh -c 'tee {tee} | {server}'"
    return server


def gdb_script(row: Row, n: int, tracee: list[str], tee: Path | None) -> str:
    func = "bench_hit" if row.section == "bp" else "bench_mark"
    if row.name == "gdb":
        head = f"file {tracee[0]}\nset args {' '.join(tracee[1:])}\n"
        go = "run"
    else:
        head = f"file {tracee[0]}\ntarget remote | {server_command(row.name, tracee, tee)}\n"
        go = "continue"
    if row.section == "bp":
        body = f"break {func}\ncommands\nsilent\ncontinue\nend\n{go}\ninfo breakpoints\n"
    else:
        stepi = f"stepi {n}\nprint (long) bench_spun\n" if n else ""
        body = f"break {func}\n{go}\ndelete\n{stepi}continue\n"
    return GDB_HEAD + head + body


def command(row: Row, n: int, cpu: int, scripts: Path, tee: Path | None = None) -> list[str]:
    hits, spin = (n, 0) if row.section == "bp" else (0, n)
    tracee = [str(TRACEE), str(hits), str(spin)]
    pin = ["taskset", "-c", str(cpu)]
    if row.name == "untraced":
        return pin + tracee
    script = scripts / f"{row.section}-{row.name}-{n}{'-tee' if tee else ''}.gdb"
    script.write_text(gdb_script(row, n, tracee, tee))
    return pin + ["gdb", "-nx", "-batch", "-x", str(script)]


def check(row: Row, n: int, out: str) -> None:
    """A miscount makes the number meaningless: stop."""
    if row.name == "untraced":
        return
    if "exited normally" not in out:
        raise SystemExit(f"gdb_rsp: {row.section}/{row.name}: the tracee did not exit "
                         f"normally:\n{out[-2000:]}")
    if row.section == "bp":
        match = re.search(r"breakpoint already hit (\d+) time", out)
        hits = int(match.group(1)) if match else 0
        if hits != n:
            raise SystemExit(f"gdb_rsp: {row.section}/{row.name}: {hits} hits, expected {n}")
    elif n:
        match = re.search(r"^\$1 = (\d+)", out, re.M)
        spun = int(match.group(1)) if match else None
        # stepi S from bench_mark: a few instructions before the loop, then 6 a turn.
        if spun is None or abs(spun - n / bps.SPIN_INSNS) > 10:
            raise SystemExit(f"gdb_rsp: {row.section}/{row.name}: bench_spun = {spun} after "
                             f"stepi {n}, expected about {n // bps.SPIN_INSNS}:\n{out[-2000:]}")


def run_once(row: Row, n: int, cpu: int, scripts: Path, tee: Path | None = None) -> float:
    argv = command(row, n, cpu, scripts, tee)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env, timeout=1800)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"gdb_rsp: {' '.join(argv)} exited with {done.returncode}:\n"
                         f"{done.stderr[-2000:]}{done.stdout[-2000:]}")
    check(row, n, done.stdout + done.stderr)
    return wall


def count_packets(row: Row, n: int, cpu: int, scripts: Path) -> int:
    """Packets gdb sends for n events minus for 0 (an untimed run each, tee in the pipe)."""
    counts = []
    for events in (0, n):
        with tempfile.NamedTemporaryFile(dir=scripts, suffix=".rsp") as tee:
            run_once(row, events, cpu, scripts, Path(tee.name))
            counts.append(Path(tee.name).read_bytes().count(b"$"))
    return counts[1] - counts[0]


def per_event(row: Row, untraced: Row, n: int) -> float | None:
    if not n or not row.walls:
        return None
    own = min(row.walls) - min(row.fixed)
    base = min(untraced.walls) - min(untraced.fixed)
    return (own - base) / n * 1e6


def table(section: str, rows: list[Row], n: int) -> list[str]:
    untraced = next(r for r in rows if r.name == "untraced")
    native = next(r for r in rows if r.name == "gdb")
    native_us = per_event(native, untraced, n)
    unit = "hit" if section == "bp" else "step"
    lines = [f"| row | what | wall s | fixed s | µs/{unit} | × gdb | packets/{unit} |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        us = per_event(row, untraced, n) if row.name != "untraced" else None
        ratio = us / native_us if us and native_us and native_us > 0 else None
        packets = f"{row.packets / n:.1f}" if row.packets is not None and n else "—"
        lines.append(
            f"| {row.name} | {row.what} | {min(row.walls):.3f} | {min(row.fixed):.3f} | "
            f"{'—' if us is None else f'{us:.1f}'} | {'—' if ratio is None else f'{ratio:.2f}'} "
            f"| {packets} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--json", help="also write every wall time here")
    args = parser.parse_args()
    for tool in ("gdb", "gdbserver", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"gdb_rsp: {tool} is not installed")
    bps.compile_programs()
    scripts = bps.BUILD / "gdb_rsp"
    scripts.mkdir(exist_ok=True)
    sections = {"bp": args.hits, "step": args.steps}
    rows = {s: [Row(s, name, what) for name, what in ROWS] for s in sections}
    load_before = os.getloadavg()[0]
    for round_ in range(args.repeat):
        for section, n in sections.items():
            for row in rows[section]:
                row.fixed.append(run_once(row, 0, args.cpu, scripts))
                row.walls.append(run_once(row, n, args.cpu, scripts))
                progress(f"round {round_ + 1}/{args.repeat} {section}/{row.name}: "
                         f"{row.walls[-1]:.3f} s ({n}), {row.fixed[-1]:.3f} s (0)")
    for section, n in sections.items():
        for row in rows[section]:
            if row.name in ("gdbserver", "pydbg"):
                row.packets = count_packets(row, n, args.cpu, scripts)
    uname = platform.uname()
    print(f"```\n{args.hits} breakpoint hits, stepi {args.steps}, best of {args.repeat}, "
          f"taskset -c {args.cpu}; {uname.system} {uname.release} {uname.machine}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}; load average "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n```\n")
    for section, n in sections.items():
        title = f"{n} breakpoint hits" if section == "bp" else f"stepi {n}"
        print(f"**{title}**\n")
        print("\n".join(table(section, rows[section], n)))
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(
            {s: {r.name: {"walls": r.walls, "fixed": r.fixed, "packets": r.packets}
                 for r in rows[s]} for s in sections}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
