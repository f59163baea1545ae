#!/usr/bin/env python3
"""The benchmark's Python drivers: run a program under pydbg-utrace engines (or a bare loop).

    python3 bench/engines.py MODE [--engines K] [--profile FILE] -- PROG ARGS

MODE is one of

``count``   K counting engines, each wanting SYSCALL_ENTRY | SYSCALL_EXIT;
``quiet``   K engines that want CLONE | EXEC | EXIT | DEATH | REAP but no
            system calls: the multiplexer must resume with PTRACE_CONT, so the
            program runs with no syscall stops at all;
``ctypes``  no multiplexer: a bare ctypes ``PTRACE_SYSCALL`` + ``waitpid`` loop
            in this interpreter (Python's own floor, for comparison);
``python-ptrace``  the peer library: ``PtraceDebugger`` with ``syscall()`` +
            ``waitSyscall()`` in the manner of its strace.py, no decoding.

When the program has exited this prints one line on stderr,
``bench-stats {json}``, with the callbacks the engines received, the
ptrace stops the tracer waited for, and per stop the µs spent *in* waitpid
(``us_wait_per_stop``: the tracee running plus the kernel's stop/resume) and
*between* two waitpids (``us_work_per_stop``: everything the tracer does for
one stop, its ptrace requests included).  They are counted by wrapping
``pydbg_utrace.kernel.wait_tracees`` (one extra Python call, ~25 bytecodes
and two clock reads per stop, ~0.2 µs).  Then it exits with the program's exit status.

``--profile FILE`` runs the tracer thread under cProfile and dumps the
statistics to FILE (pstats format).  Nothing here changes the core: the
counters and the profiler are wrapped around it from the outside.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import time

SYSCALL_STOP = 0x80 | 5  # SIGTRAP | 0x80 (PTRACE_O_TRACESYSGOOD)
SYSCALL_STATUS = SYSCALL_STOP << 8 | 0x7F  # the wait status of a syscall stop


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="bench/engines.py", description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("count", "quiet", "ctypes", "python-ptrace"))
    parser.add_argument("--engines", type=int, default=1, help="how many engines (default 1)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the tracer thread into FILE")
    if "--" not in argv:
        parser.error("give the program after --")
    cut = argv.index("--")
    args = parser.parse_args(argv[:cut])
    command = argv[cut + 1:]
    if not command:
        parser.error("no program after --")
    return args, command


# -- the multiplexer -------------------------------------------------------------------
def run_engines(mode: str, engines: int, command: list[str], profile: str | None) -> int:
    from pydbg_utrace import Engine, Event, Tracer, kernel
    from pydbg_utrace import tracer as tracer_module

    class Counter(Engine):
        """Counts every callback it gets; answers None (resume) to all of them."""

        def __init__(self, index: int):
            self.name = f"counter{index}"
            self.entries = self.exits = self.others = 0

        def report_syscall_entry(self, att, report):
            self.entries += 1

        def report_syscall_exit(self, att, report):
            self.exits += 1

        def report_clone(self, att, report):
            self.others += 1

        def report_exec(self, att, report):
            self.others += 1

        def report_exit(self, att, report):
            self.others += 1

        def report_death(self, att, report):
            self.others += 1

        def report_reap(self, att, report):
            self.others += 1

    # Stops waited for, and the time spent inside waitpid (the tracee running +
    # the kernel's stop/resume) and between two waitpids (everything the tracer
    # does for one stop).  Closure cells, not dicts: this runs at every stop and
    # its own cost lands in the row (about 25 bytecodes and two clock reads).
    stops_all = stops_syscall = wait_ns = work_ns = since = 0
    real_wait = kernel.wait_tracees
    waker = [0]
    now = time.perf_counter_ns

    def counting_wait(nohang: bool = False) -> tuple[int, int]:
        nonlocal stops_all, stops_syscall, wait_ns, work_ns, since
        before = now()
        if since:
            work_ns += before - since
        tid, status = real_wait(nohang)
        since = now()
        wait_ns += since - before
        if status == SYSCALL_STATUS:  # (the waker never makes one)
            stops_syscall += 1
            stops_all += 1
        elif tid and tid != waker[0]:
            stops_all += 1
        return tid, status

    kernel.wait_tracees = counting_wait
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        real_main = tracer_module.Tracer._main

        def profiled_main(self):
            profiler.enable()
            try:
                real_main(self)
            finally:
                profiler.disable()

        tracer_module.Tracer._main = profiled_main

    if mode == "count":
        events = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT
    else:
        events = Event.CLONE | Event.EXEC | Event.EXIT | Event.DEATH | Event.REAP
    counters = [Counter(i) for i in range(engines)]
    tracer = Tracer()
    waker[0] = tracer._waker
    try:
        process = tracer.launch(command)
        for counter in counters:
            att = process.main_thread.attach(counter)
            att.set_events(events)
        process.start()
        status = process.wait()
    finally:
        tracer.close()
    if profiler is not None:
        profiler.dump_stats(profile)
    stats = {
        "mode": mode, "engines": engines,
        "entries": sum(c.entries for c in counters),
        "exits": sum(c.exits for c in counters),
        "other_callbacks": sum(c.others for c in counters),
        "stops": stops_all, "syscall_stops": stops_syscall,
        "us_wait_per_stop": round(wait_ns / 1000 / max(stops_all, 1), 2),
        "us_work_per_stop": round(work_ns / 1000 / max(stops_all, 1), 2),
    }
    print("bench-stats " + json.dumps(stats), file=sys.stderr)
    return exit_code(status)


# -- Python's floor: a bare ctypes loop ---------------------------------------------
def run_ctypes(command: list[str]) -> int:
    import ctypes
    import shutil

    libc = ctypes.CDLL(None, use_errno=True)
    ptrace = libc.ptrace
    ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
    ptrace.restype = ctypes.c_long
    path = command[0] if "/" in command[0] else shutil.which(command[0])
    if path is None:
        print(f"bench/engines.py: no such program: {command[0]}", file=sys.stderr)
        return 127
    pid = os.fork()
    if pid == 0:
        try:
            ptrace(0, 0, None, None)  # PTRACE_TRACEME
            os.execv(path, command)
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)  # the SIGTRAP after execve
    ptrace(0x4200, pid, None, 0x01 | 0x100000)  # SETOPTIONS: TRACESYSGOOD | EXITKILL
    waitpid = os.waitpid
    syscall = 24  # PTRACE_SYSCALL
    stops = sig = 0
    now = time.perf_counter_ns
    wait_ns = work_ns = 0
    since = now()
    while True:
        ptrace(syscall, pid, None, sig)
        before = now()
        work_ns += before - since
        _, status = waitpid(pid, 0)
        since = now()
        wait_ns += since - before
        if not os.WIFSTOPPED(status):
            break
        sig = os.WSTOPSIG(status)
        if sig == SYSCALL_STOP:
            stops += 1
            sig = 0
        elif sig == 5:
            sig = 0
    stats = {"mode": "ctypes", "engines": 0, "stops": stops, "syscall_stops": stops,
             "us_wait_per_stop": round(wait_ns / 1000 / max(stops, 1), 2),
             "us_work_per_stop": round(work_ns / 1000 / max(stops, 1), 2)}
    print("bench-stats " + json.dumps(stats), file=sys.stderr)
    return exit_code(status)


# -- the peer: python-ptrace ------------------------------------------------------
def run_python_ptrace(command: list[str]) -> int:
    import shutil
    import signal

    from ptrace.debugger import PtraceDebugger
    from ptrace.debugger.child import createChild
    from ptrace.debugger.process_event import ProcessExit
    from ptrace.debugger.ptrace_signal import ProcessSignal

    path = command[0] if "/" in command[0] else shutil.which(command[0])
    if path is None:
        print(f"bench/engines.py: no such program: {command[0]}", file=sys.stderr)
        return 127
    debugger = PtraceDebugger()
    debugger.enableSysgood()
    pid = createChild([path, *command[1:]], no_stdout=False)
    process = debugger.addProcess(pid, is_attached=True)
    stops = 0
    code = 0
    try:
        while True:
            process.syscall()
            try:
                debugger.waitSyscall(process)
            except ProcessExit as event:
                code = event.exitcode if event.exitcode is not None else 128 + (event.signum or 0)
                break
            except ProcessSignal as event:
                # The SIGTRAP of an exec after the first (bench/run --spread starts the
                # tracee through taskset): swallowed, as strace.py does.
                if event.signum != signal.SIGTRAP:
                    raise
                continue
            stops += 1
    finally:
        debugger.quit()
    stats = {"mode": "python-ptrace", "engines": 0, "stops": stops, "syscall_stops": stops}
    print("bench-stats " + json.dumps(stats), file=sys.stderr)
    return code


def exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def main(argv: list[str] | None = None) -> int:
    args, command = parse(sys.argv[1:] if argv is None else argv)
    if args.mode == "ctypes":
        return run_ctypes(command)
    if args.mode == "python-ptrace":
        return run_python_ptrace(command)
    return run_engines(args.mode, args.engines, command, args.profile)


if __name__ == "__main__":
    sys.exit(main())
