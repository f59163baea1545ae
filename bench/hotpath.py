#!/usr/bin/env python3
"""bench/hotpath.py: what each piece of the per-stop path costs, in µs, without a profiler.

    python3 bench/hotpath.py [--loops N]

cProfile (bench/run's profile, docs/bench.md) says *where* the time goes but
inflates small Python functions several times over.  This times the pieces
of one syscall stop one by one with ``timeit``, the real core objects, and a
real tracee held in a syscall-entry stop (so the ptrace requests are real):

* the ptrace requests the tracer makes per stop, raw ctypes vs our wrapper;
* building a Report and a Decision; the enum mask tests;
* ``dispatch.report`` with 1 and 8 engines that answer None;
* ``Tracer._wants_syscalls``, called by every resume;
* the fast lane's pieces (docs/architecture.md): the request without ctypes
  argument conversion, decoding the syscall info, ``lane.run``.

Nothing here asserts: it prints a table.  It compiles the tracee
(``bench/tracee.c`` into ``bench/_build/tracee``) if bench/run has not.
tests/test_bench_hotpath.py runs it with a few loops, so that it cannot rot
when the core's objects change under it.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pydbg_utrace import dispatch, kernel, lane  # noqa: E402
from pydbg_utrace.engine import Attachment, Engine, Report  # noqa: E402
from pydbg_utrace.events import Event  # noqa: E402
from pydbg_utrace.tracer import Tracer  # noqa: E402


class Counter(Engine):
    def __init__(self) -> None:
        self.n = 0

    def report_syscall_entry(self, att, report):
        self.n += 1

    def report_syscall_exit(self, att, report):
        self.n += 1


class FakeThread:
    """Enough of a Thread for Report and _wants_syscalls."""

    def __init__(self, attachments):
        self.attachments = attachments
        self.tid = 0
        self.syscall_watchers = sum(1 for att in attachments if att.events & Event.SYSCALL)
        self.syscall_scope = None  # no seccomp filter, no narrowed engine


def build_tracee() -> Path:
    """bench/tracee.c compiled as bench/run does, if it is missing or older than its source."""
    source, tracee = HERE / "tracee.c", HERE / "_build" / "tracee"
    if not tracee.exists() or tracee.stat().st_mtime < source.stat().st_mtime:
        tracee.parent.mkdir(exist_ok=True)
        tmp = tracee.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-Wall", "-o", str(tmp), str(source)],
                       check=True)
        tmp.replace(tracee)  # atomic: a parallel bench/run never sees half a binary
    return tracee


def stopped_tracee() -> int:
    """A tracee held in a syscall-entry stop (PTRACE_TRACEME, then one PTRACE_SYSCALL)."""
    tracee = build_tracee()
    pid = os.fork()
    if pid == 0:
        try:
            kernel.ptrace(kernel.PTRACE_TRACEME, 0)
            os.execv(str(tracee), [str(tracee), "1000"])
        finally:
            os._exit(127)
    os.waitpid(pid, 0)  # exec SIGTRAP
    kernel.set_options(pid, kernel.PTRACE_O_TRACESYSGOOD | kernel.PTRACE_O_EXITKILL)
    kernel.cont_syscall(pid)
    os.waitpid(pid, 0)  # a syscall-entry stop
    return pid


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/hotpath.py", description=__doc__.split("\n")[0])
    parser.add_argument("--loops", type=int, default=200_000)
    loops = parser.parse_args().loops

    pid = stopped_tracee()
    libc = ctypes.CDLL(None, use_errno=True)
    raw_ptrace = libc.ptrace
    raw_ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
    raw_ptrace.restype = ctypes.c_long
    buf = ctypes.create_string_buffer(96)
    addr = ctypes.addressof(buf)
    getpid = libc.getpid

    one = [Attachment(None, None, Counter(), None)]
    eight = [Attachment(None, None, Counter(), None) for _ in range(8)]
    for att in one + eight:
        att.events = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT
    thread1 = FakeThread(one)
    assert Tracer._wants_syscalls(thread1)
    flag = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT
    plain = int(flag)

    def running(att):
        pass

    raw = kernel.fetch_syscall_info(pid)
    plan1, plan8 = lane.Plan(one), lane.Plan(eight)
    exit_, ran = Event.SYSCALL_EXIT, lane.Running()
    r = Report(None, thread1, Event.SYSCALL_EXIT)

    def report_once(atts):
        r = Report(None, thread1, Event.SYSCALL_EXIT)
        dispatch.report(atts, Event.SYSCALL_EXIT, r, None, running)

    pieces = [
        ("ctypes call floor: libc getpid() (no argtypes)", lambda: getpid()),
        ("raw ctypes ptrace(GET_SYSCALL_INFO)",
         lambda: raw_ptrace(kernel.PTRACE_GET_SYSCALL_INFO, pid, 96, addr)),
        ("kernel.ptrace(GET_SYSCALL_INFO) wrapper",
         lambda: kernel.ptrace(kernel.PTRACE_GET_SYSCALL_INFO, pid, 96, addr)),
        ("Report(...) construction", lambda: Report(None, thread1, Event.SYSCALL_EXIT)),
        ("dispatch.Decision() construction", lambda: dispatch.Decision()),
        ("Event IntFlag '&' (one mask test)", lambda: flag & Event.SYSCALL),
        ("plain int '&' (the same test on ints)", lambda: plain & 0xC0),
        ("dispatch.normalize(None)", lambda: dispatch.normalize(None)),
        ("Tracer._wants_syscalls(thread), 1 engine",
         lambda: Tracer._wants_syscalls(thread1)),
        ("Report + dispatch.report, 1 engine", lambda: report_once(one)),
        ("Report + dispatch.report, 8 engines", lambda: report_once(eight)),
        ("kernel.fetch_syscall_info() (no argtypes, bytes copied)",
         lambda: kernel.fetch_syscall_info(pid)),
        ("SyscallInfo.from_raw(raw) (decode)", lambda: kernel.SyscallInfo.from_raw(raw)),
        ("fast lane: kernel.get_syscall_info() (request, decode in place)",
         lambda: kernel.get_syscall_info(pid)),
        ("fast lane: lane.run, 1 engine", lambda: lane.run(plan1, plan1.exit, exit_, r, ran)),
        ("fast lane: lane.run, 8 engines", lambda: lane.run(plan8, plan8.exit, exit_, r, ran)),
    ]
    print(f"{'piece':60} {'µs/call':>8}")
    try:
        for name, fn in pieces:
            best = min(timeit.repeat(fn, number=loops // 10, repeat=5)) / (loops // 10)
            print(f"{name:60} {best * 1e6:8.3f}", flush=True)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
