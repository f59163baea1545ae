#!/usr/bin/env python3
"""bench/steps.py: Python bytecodes and kernel calls per syscall stop -- counted, not timed.

    python3 bench/steps.py [--engines 1,8,32,log] [--calls 2000] [--compare DIR] [--top N]

Times on a shared machine move with its load (docs/bench.md); these counts
do not.  For each engine count this runs the tracee (``bench/tracee.c``)
under that many counting engines (the api-* rows' engines) with a tracer
thread whose every executed bytecode is counted (``sys.settrace`` with
``f_trace_opcodes``), and prints per syscall stop: the bytecodes, the calls
of ``pydbg_utrace.kernel`` functions (each one a ptrace request or a wait),
and the functions that execute the most bytecodes.  The engine count ``log``
stands for the cli-log row instead: ``pydbg-utrace trace -o /dev/null`` (the
command's own engines, the logger's callbacks counted with the core).
``--compare DIR`` also
counts the core in DIR (laid out as installed, as for ``bench/run
--compare``) beside the checkout's.

A bytecode is not a fixed cost (a call, an attribute miss, a cache miss
after the tracee ran all cost more than an addition), so this says *what*
changed between two cores, and bench/run *how much* it weighs.
Counting makes the run ~50 times slower: keep ``--calls`` small.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def count(engines: int | str, calls: int, tracee: str) -> dict:
    """In this interpreter: run the tracee under ``engines`` counting engines (``log``: the
    trace command's logger), counting."""
    import collections

    from pydbg_utrace import Engine, Event, Tracer, kernel
    from pydbg_utrace import tracer as tracer_module

    class Counter(Engine):  # as bench/engines.py's count mode
        def __init__(self, index: int):
            self.name = f"counter{index}"
            self.entries = self.exits = 0

        def report_syscall_entry(self, att, report):
            self.entries += 1

        def report_syscall_exit(self, att, report):
            self.exits += 1

    bytecodes: collections.Counter = collections.Counter()
    kernel_calls: collections.Counter = collections.Counter()
    counting = [False]
    kernel_file = kernel.__file__

    def on_call(frame, event, arg):
        if counting[0] and frame.f_code.co_filename == kernel_file:
            kernel_calls[frame.f_code.co_name] += 1
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        return on_opcode

    def on_opcode(frame, event, arg):
        if event == "opcode" and counting[0]:
            bytecodes[frame.f_code.co_name] += 1
        return on_opcode

    stops = [0]
    real_wait = kernel.wait_tracees
    syscall_status = (0x80 | 5) << 8 | 0x7F

    def counting_wait(nohang: bool = False) -> tuple[int, int]:
        tid, status = real_wait(nohang)
        if status == syscall_status:
            stops[0] += 1
        return tid, status

    kernel.wait_tracees = counting_wait
    # The lane's resume, a ctypes call (no Python frame to count): counted by
    # request.  (An older core, as with --compare, resumes through resume_syscall.)
    real_plain = getattr(kernel, "ptrace_plain", None)
    plain_names = {kernel.PTRACE_SYSCALL: "resume_syscall"}

    def counting_plain(request, pid, addr, data):
        if counting[0]:
            kernel_calls[plain_names.get(request, f"ptrace_plain({request:#x})")] += 1
        return real_plain(request, pid, addr, data)

    if real_plain is not None:
        kernel.ptrace_plain = counting_plain
    real_main = tracer_module.Tracer._main

    def traced_main(self):
        sys.settrace(on_call)
        real_main(self)

    tracer_module.Tracer._main = traced_main
    if engines == "log":  # the cli-log row: the command, counted from its program's start
        from pydbg_utrace import trace_command
        from pydbg_utrace.process import Process

        real_start = Process.start

        def start(process):
            counting[0] = True
            real_start(process)

        Process.start = start
        try:
            trace_command.main(["-o", os.devnull, "--", tracee, str(calls)])
        finally:
            Process.start = real_start
            counting[0] = False
        return result(bytecodes, kernel_calls, stops[0])
    tracer = Tracer()
    try:
        process = tracer.launch([tracee, str(calls)])
        for index in range(engines):
            att = process.main_thread.attach(Counter(index))
            att.set_events(Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT)
        counting[0] = True
        process.start()
        process.wait()
        counting[0] = False
    finally:
        tracer.close()
    return result(bytecodes, kernel_calls, stops[0])


def result(bytecodes, kernel_calls, stops: int) -> dict:
    bytecodes.pop("counting_wait", None)  # ours, not the core's
    bytecodes.pop("counting_plain", None)
    n = max(stops, 1)
    return {"stops": stops,
            "bytecodes": sum(bytecodes.values()) / n,
            "by_function": {name: c / n for name, c in bytecodes.most_common()},
            "kernel": {name: c / n for name, c in kernel_calls.most_common()}}


def measure(root: Path, engines: str, calls: int, tracee: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, __file__, "--one", str(engines), "--calls", str(calls)],
                         env=env, cwd="/", check=True, capture_output=True, text=True,
                         input=tracee).stdout
    return json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/steps.py", description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="1,8,32",
                        help="engine counts, or log for the cli-log row (default 1,8,32)")
    parser.add_argument("--calls", type=int, default=2000, help="tracee calls (default 2000)")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="also count the core in DIR (laid out as installed)")
    parser.add_argument("--top", type=int, default=6, help="functions shown per row")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:  # the child: count one configuration, print JSON
        engines = args.one if args.one == "log" else int(args.one)
        print(json.dumps(count(engines, args.calls, sys.stdin.read().strip())))
        return 0
    sys.path.insert(0, str(HERE))
    from hotpath import build_tracee  # compiled as bench/run does

    tracee = str(build_tracee())
    cores = [("checkout", ROOT)]
    if args.compare is not None:
        cores.append((f"DIR {args.compare}", args.compare.resolve()))
    print(f"{args.calls} calls; per syscall stop, on the tracer thread\n")
    print("| core | engines | bytecodes | kernel calls | most bytecodes in |")
    print("|---|---:|---:|---|---|")
    for engines in args.engines.split(","):
        for name, root in cores:
            got = measure(root, engines, args.calls, tracee)
            calls = ", ".join(f"{f} {c:.2f}" for f, c in got["kernel"].items() if c >= 0.005)
            top = ", ".join(f"{f} {c:.0f}" for f, c in list(got["by_function"].items())[:args.top])
            print(f"| {name} | {engines} | {got['bytecodes']:.0f} | {calls} | {top} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
