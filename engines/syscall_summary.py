"""``strace -c``: calls, errors and time per system call, and strace's table of them.

Counted at each call's *exit*, as strace counts (a call that never returns,
such as ``exit_group``, is not in the table); an error is a negative errno
result, the kernel's restart codes included.

The time of a call is, as strace's by default, **system time**: the CPU time
the tracee's process used between the call's entry report and its exit report
(its ``CPUCLOCK_SCHED`` clock, read with ``clock_gettime``).  The calling
thread is in the kernel all that time (and stopped, using none, while we
report), so that is the call's system time; other threads of the process
count into it too, as in strace's (from the process-wide rusage its ``wait4``
gets).  A call that blocks (``clock_nanosleep``, ``read`` of a pipe) costs
little of it.  With ``wall_clock`` (``-w``): the wall time between the two
reports, as strace's ``-w``.  The kernel gives no thread's CPU clock to
another process, and strace's rusage is no finer: docs/trace.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TextIO

from pydbg_utrace import Attachment, Event, Report

from .decode.multiplexed import subcall_name
from .following import FollowingEngine
from .path_trace import HIDDEN, EveryName, PathFilter


@dataclass
class CallStats:
    """One row of the table."""

    nr: int
    calls: int = 0
    errors: int = 0
    ns: int = 0  # integer nanoseconds, as strace's timespecs: usecs/call truncates exactly


def process_cpu_clock(pid: int) -> int:
    """The clock id of process ``pid``'s CPU time (``CPUCLOCK_SCHED``: every thread's run
    time, to the nanosecond), as ``clock_getcpuclockid(3)`` makes it."""
    return ((~pid) << 3) | 2


#: -S: the order of the rows (ties in syscall-number order, as strace's sort leaves them)
SORTS = {
    "time": lambda item: (-item[1].ns, item[1].nr),
    "calls": lambda item: (-item[1].calls, item[1].nr),
    "errors": lambda item: (-item[1].errors, item[1].nr),
    "name": lambda item: (item[0], item[1].nr),
    "avg-time": lambda item: (-(item[1].ns // item[1].calls), item[1].nr),
    "nothing": lambda item: (item[1].nr,),
}


class SyscallSummary(FollowingEngine):
    """Counts the calls of every thread it is attached to; ``table()`` is strace's layout."""

    name = "syscall-summary"
    wanted = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT | Event.EXEC | Event.EXIT

    def __init__(self, follow: bool = False, names: frozenset[str] | None = None,
                 sort_by: str = "time", wall_clock: bool = False,
                 paths: frozenset[str] | None = None) -> None:
        super().__init__(follow)
        self.names = names  # the calls to count (-e trace=); None: all
        self.sort_key = SORTS[sort_by]  # -S
        self.wall_clock = wall_clock  # -w
        self.rows: dict[str, CallStats] = {}
        self._entered: dict[int, int] = {}  # tid -> clock ns at its pending call's entry
        self._names: dict[int, str] = {}  # tid -> its pending call's name, as strace counts it
        self.paths = paths  # -P: only the calls that access these (engines/path_trace.py)
        self._filters: dict[str, PathFilter] = {}  # arch name -> its filter
        if paths is not None:  # (wrapped here, once: a run without -P pays nothing per call)
            self.names = EveryName() if names is None else names
            self.report_syscall_entry = self._entry_if_path
            self.report_syscall_exit = self._exit_if_entered

    def _now(self, thread) -> int:
        """The clock a call is timed by: wall (-w), else the process's CPU time."""
        if self.wall_clock:
            return time.monotonic_ns()
        try:
            return time.clock_gettime_ns(process_cpu_clock(thread.process.pid))
        except (OSError, AttributeError):  # gone meanwhile: nothing more to count
            return 0

    def count(self, name: str, nr: int, failed: bool, ns: int = 0) -> None:
        if self.names is not None and name not in self.names:
            return
        row = self.rows.setdefault(name, CallStats(nr))
        row.calls += 1
        row.errors += failed
        row.ns += ns

    def report_syscall_entry(self, att: Attachment, report: Report) -> None:
        if not report.resumed:  # shown again after a STOP: the same call, timed from the first
            self._entered[att.thread.tid] = self._now(att.thread)
        info = report.syscall  # socketcall and ipc count as the call they carry (strace)
        self._names[att.thread.tid] = subcall_name(att.thread.arch.syscall_name(info.nr),
                                                   info.args)

    def report_syscall_exit(self, att: Attachment, report: Report) -> None:
        info = report.syscall
        entered = self._entered.pop(att.thread.tid, None)
        ns = max(0, self._now(att.thread) - entered) if entered else 0
        name = self._names.pop(att.thread.tid, None)
        if name is None:
            # ppc64 reports no number at the exit of the launch's execve (the exec reset
            # regs->trap): the only call whose entry we never see is that one.
            name = att.thread.arch.syscall_name(info.nr) if info.nr >= 0 else "execve"
        self.count(name, info.nr, info.is_error, ns)

    def _entry_if_path(self, att: Attachment, report: Report) -> None:
        """-P: the call counts only if it accesses one of the paths (strace's rules)."""
        SyscallSummary.report_syscall_entry(self, att, report)
        thread = att.thread
        name = self._names[thread.tid]
        paths = self._filters.get(thread.arch.name)
        if paths is None:
            paths = self._filters[thread.arch.name] = PathFilter(self.paths, thread.arch.name)
        if name in self.names and not paths.thread_accesses(thread, name, report.syscall.args):
            self._names[thread.tid] = HIDDEN

    def _exit_if_entered(self, att: Attachment, report: Report) -> None:
        """-P: a call whose entry was not seen (the launch's execve) has no arguments to
        look at, and is not counted."""
        if att.thread.tid in self._names:
            SyscallSummary.report_syscall_exit(self, att, report)

    def report_exec(self, att: Attachment, report: Report) -> None:
        if report.old_tid is not None and report.old_tid != att.thread.tid:  # a non-leader's
            entered = self._entered.pop(report.old_tid, None)  # execve: it returns as the leader
            if entered is not None:
                self._entered[att.thread.tid] = entered
            name = self._names.pop(report.old_tid, None)
            if name is not None:
                self._names[att.thread.tid] = name

    def report_exit(self, att: Attachment, report: Report) -> None:
        self._entered.pop(att.thread.tid, None)  # exit_group & co. never return: not counted
        self._names.pop(att.thread.tid, None)

    def table(self) -> str:
        """strace's ``-c`` table, column widths and all (strace's src/count.c)."""
        rows = sorted(self.rows.items(), key=self.sort_key)
        total_ns = sum(r.ns for _, r in rows)
        total_calls = sum(r.calls for _, r in rows)
        total_errors = sum(r.errors for _, r in rows)
        avg_max = max((r.ns // r.calls // 1000 for _, r in rows), default=0)
        widths = (
            6,
            max(11, len(f"{total_ns / 1e9:.6f}")),
            max(11, len(str(avg_max))),
            max(9, len(str(total_calls))),
            max(9, len(str(total_errors))),
            max(16, max((len(n) for n, _ in rows), default=0) + 1),
        )
        heads = ("% time", "seconds", "usecs/call", "calls", "errors")
        lines = [" ".join(h.rjust(w) for h, w in zip(heads, widths, strict=False)) + " syscall"]
        divider = " ".join("-" * w for w in widths)
        lines.append(divider)
        for name, row in rows:
            percent = 100.0 * row.ns / total_ns if row.ns else 0.0
            lines.append(_row(widths, percent, row.ns, row.ns // row.calls // 1000, row.calls,
                              row.errors, name))
        lines.append(divider)
        average = total_ns // total_calls // 1000 if total_calls else 0
        lines.append(_row(widths, 100.0, total_ns, average, total_calls, total_errors, "total"))
        return "\n".join(lines) + "\n"


def _row(widths: tuple[int, ...], percent: float, ns: int, usecs: int, calls: int,
         errors: int, name: str) -> str:
    cells = (f"{percent:.2f}", f"{ns / 1e9:.6f}", str(usecs), str(calls),
             str(errors) if errors else "")
    return " ".join(c.rjust(w) for c, w in zip(cells, widths, strict=False)) + " " + name


def write_table(summary: SyscallSummary, out: TextIO) -> None:
    out.write(summary.table())
    out.flush()
