"""The seccomp-bpf fast path on real processes (pydbg_utrace/seccomp.py, docs/engine-api.md).

Every test compares what engines are told with what the program really did
(it prints its own results) or with the full ``PTRACE_SYSCALL`` path on the
same program.  Stops are counted by an engine with only ``QUIESCE``: it is
told of every stop the thread makes, so a fast path that silently fell back
to stopping at every call shows up as thousands of stops.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import signal
import subprocess
import sys
import threading

import pytest

from pydbg_utrace import Engine, Event, Resume, SyscallAction, arch, kernel, seccomp
from pydbg_utrace.memory import read_string

pytestmark = pytest.mark.live
HOST = arch.host()
TIMEOUT = 30
OPENAT = HOST.syscall_number_of("openat")
GETPPID = HOST.syscall_number_of("getppid")
CLOSE = HOST.syscall_number_of("close")
CLOCK_NANOSLEEP = HOST.syscall_number_of("clock_nanosleep")
PPID_CALLS = 3000  # a full path makes >= 2 stops for each


@pytest.fixture(autouse=True)
def _needs_the_fast_path():
    reason = seccomp.unavailable_reason()
    if reason:
        pytest.skip(f"no seccomp fast path here: {reason}")


class Calls(Engine):
    """Logs syscall entries/exits (``(what, tid, nr, detail)``) and signals; may follow forks."""

    def __init__(self, numbers=None, events=Event.SYSCALL, follow=False, signal_at=None):
        self.numbers = numbers
        self.wanted = events
        self.follow = follow
        self.signal_at = signal_at  # send SIGALRM to the thread at this call's first entry
        self.log: list[tuple] = []

    def attach_to(self, thread):
        att = thread.attach(self)
        att.set_syscall_filter(self.numbers)
        att.set_events(self.wanted | (Event.CLONE if self.follow else Event.NONE))
        return att

    def report_clone(self, att, report):
        if self.follow:
            self.attach_to(report.child)

    def report_syscall_entry(self, att, report):
        info = report.syscall
        detail = None
        if info.nr == OPENAT:
            detail = read_string(att.thread.tid, info.args[1], 64)[0]
        self.log.append(("entry", att.thread.tid, info.nr, detail))
        if info.nr == self.signal_at:
            # Pending before the call runs: it is cut short at once (no timing).
            self.signal_at = None
            kernel.tgkill(att.thread.process.pid, att.thread.tid, signal.SIGALRM)

    def report_syscall_exit(self, att, report):
        self.log.append(("exit", att.thread.tid, report.syscall.nr, report.syscall.rval))

    def report_signal(self, att, report):
        self.log.append(("signal", att.thread.tid, report.signo, None))

    def calls(self, nr, what="entry"):
        return [entry for entry in self.log if entry[0] == what and entry[2] == nr]


class StopCounter(Engine):
    """QUIESCE only: told of every stop of the thread, whatever it is."""

    def __init__(self):
        self.stops = 0

    def attach_to(self, thread):
        att = thread.attach(self)
        att.set_events(Event.QUIESCE)
        return att

    def report_quiesce(self, att, report):
        self.stops += 1


def run(tracer, tracee, args, engines, syscall_filter=None):
    """Launch the tracee with ``args``, attach ``engines``; (process, status, stdout)."""
    read_end, write_end = os.pipe()
    try:
        process = tracer.launch([tracee("seccomp_calls"), *args], stdout=write_end,
                                syscall_filter=syscall_filter)
    finally:
        os.close(write_end)
    for engine in engines:
        engine.attach_to(process.main_thread)
    process.start()
    status = process.wait(TIMEOUT)
    assert status is not None, f"{process} did not finish within {TIMEOUT}s"
    with os.fdopen(read_end) as out:
        return process, status, out.read()


def normalised(log, pid):
    """The log with tids as 'main' / 'other' (they differ between runs)."""
    return [(what, "main" if tid == pid else "other", nr, detail)
            for what, tid, nr, detail in log]


def test_the_kernel_stops_in_the_order_the_fast_path_relies_on():
    # strace's check_seccomp_order: entry stop, seccomp stop, exit stop (Linux >= 4.8).
    assert seccomp.order_problem() == ""


def test_a_filtered_launch_stops_only_at_the_traced_calls(tracer, tracee):
    calls, counter = Calls({OPENAT}), StopCounter()
    process, status, out = run(tracer, tracee, [f"ppid:{PPID_CALLS}", "open:5"],
                               [calls, counter], syscall_filter={OPENAT})
    assert status == 0 and out.endswith("done\n")
    assert process.syscall_filter == {OPENAT}
    opens = [detail for _, _, _, detail in calls.calls(OPENAT)]
    assert opens.count(b"/dev/null") == 5  # ld.so's and libc's own openat come first
    assert len(calls.calls(OPENAT, "exit")) == len(opens)
    assert {nr for _, _, nr, _ in calls.log} == {OPENAT}
    # Two stops per openat (seccomp + exit) and a few for exit/death; never
    # one per getppid.
    assert counter.stops <= 2 * len(opens) + 10, counter.stops


def test_the_same_reports_as_the_full_path_for_the_traced_calls(tracer, tracee):
    args = [f"ppid:{PPID_CALLS}", "open:3", "thread:open:2,ppid:10", "signal", "sleep"]
    wanted = {OPENAT, CLOSE, CLOCK_NANOSLEEP}
    logs = []
    for syscall_filter in (wanted, None):
        calls = Calls(wanted, events=Event.SYSCALL | Event.SIGNAL, follow=True,
                      signal_at=CLOCK_NANOSLEEP)
        process, status, out = run(tracer, tracee, args, [calls], syscall_filter)
        assert status == 0 and "handled=2" in out, out
        assert process.syscall_filter == (None if syscall_filter is None else wanted)
        logs.append(normalised(calls.log, process.pid))
    fast, full = logs
    assert fast == full
    # And they are what the program did: 3 + 2 + 1 opens of /dev/null,
    # SIGUSR1, then SIGALRM cutting the sleep short, and the sleep again.
    assert sum(1 for e in fast if e[0] == "entry" and e[3] == b"/dev/null") == 6
    assert [e[2] for e in fast if e[0] == "signal"] == [signal.SIGUSR1, signal.SIGALRM]
    sleeps = [e for e in fast if e[2] == CLOCK_NANOSLEEP]
    assert [e[0] for e in sleeps] == ["entry", "exit", "entry", "exit"]
    assert sleeps[1][3] < 0 and sleeps[3][3] == 0  # cut short (a restart code), then done
    assert any(e[1] == "other" and e[3] == b"/dev/null" for e in fast)  # the thread's


def test_the_exit_stop_only_when_an_engine_wants_it(tracer, tracee):
    stops = {}
    for events in (Event.SYSCALL_ENTRY, Event.SYSCALL):
        calls, counter = Calls({OPENAT}, events=events), StopCounter()
        _, status, _ = run(tracer, tracee, [f"ppid:{PPID_CALLS}", "open:20"],
                           [calls, counter], syscall_filter={OPENAT})
        assert status == 0
        stops[events] = (counter.stops, len(calls.calls(OPENAT)))
    (entry_only, opens), (both, opens_again) = stops.values()
    assert opens == opens_again >= 20
    assert both - entry_only == opens  # one exit stop per call, and only with SYSCALL_EXIT


EXECVE = HOST.syscall_number_of("execve")


@pytest.mark.parametrize("syscall_filter", [{EXECVE, OPENAT}, {OPENAT}, None])
def test_the_launchs_own_execve_exit_is_reported_when_the_filter_traces_it(
        tracer, tracee, syscall_filter):
    """The child's execve makes its seccomp stop before any engine is attached: its exit
    is reported all the same when the filter traces execve (strace prints the launch's
    execve line with --seccomp-bpf -e trace=execve, and not without it)."""
    calls = Calls(None if syscall_filter is None else syscall_filter)
    process, status, _ = run(tracer, tracee, ["open:1"], [calls], syscall_filter)
    assert status == 0
    first = calls.log[0]
    if syscall_filter is None or EXECVE in syscall_filter:
        assert first == ("exit", process.pid, EXECVE, 0), calls.log[:3]
    else:
        assert first[2] == OPENAT and not calls.calls(EXECVE, "exit"), calls.log[:3]


class AbortOpenat(Engine):
    """Aborts every openat after the program's first getppid (ld.so's must run)."""

    def __init__(self, err):
        self.err = err
        self.armed = False

    def attach_to(self, thread):
        att = thread.attach(self)
        att.set_syscall_filter({OPENAT, GETPPID})
        att.set_events(Event.SYSCALL_ENTRY)

    def report_syscall_entry(self, att, report):
        if report.syscall.nr == GETPPID:
            self.armed = True
        elif self.armed:
            if self.err is not None:
                report.set_syscall_result(-1, errno=self.err)
            return Resume.RESUME, SyscallAction.ABORT
        return None


@pytest.mark.parametrize("err", [errno.EACCES, None])
@pytest.mark.parametrize("path", ["lane", "general"])
def test_a_call_aborted_at_its_seccomp_stop_returns_the_chosen_error(tracer, tracee, err, path):
    # A QUIESCE engine beside it keeps the thread off the fast lane (the general path).
    engines = [AbortOpenat(err)] + ([StopCounter()] if path == "general" else [])
    process, status, out = run(tracer, tracee, ["ppid:1", "open:1"], engines,
                               syscall_filter={OPENAT, GETPPID})
    assert status == 0 and process.syscall_filter == {OPENAT, GETPPID}
    expected = errno.ENOSYS if err is None else err
    assert f"openat=-1 errno={expected} " in out, out


def test_an_engine_wanting_more_falls_back_to_the_full_path(tracer, tracee):
    """A second engine wants getppid, which the filter does not trace."""
    calls = Calls({OPENAT})
    more = Calls({GETPPID}, events=Event.SYSCALL_ENTRY)
    counter = StopCounter()
    process, status, _ = run(tracer, tracee, [f"ppid:{PPID_CALLS}", "open:4"],
                             [calls, more, counter], syscall_filter={OPENAT})
    assert status == 0
    assert process.syscall_filter == {OPENAT}
    assert len(more.calls(GETPPID)) == PPID_CALLS
    opens = calls.calls(OPENAT)
    # Each openat once, although the kernel stops at its entry and at its seccomp stop.
    assert [d for _, _, _, d in opens].count(b"/dev/null") == 4
    assert len(opens) == len(calls.calls(OPENAT, "exit"))
    assert counter.stops >= 2 * PPID_CALLS  # really the full path


class Journal(Engine):
    """Writes (name, entry|exit, nr, path or result) of its calls into a shared journal."""

    def __init__(self, name, journal, numbers):
        self.name, self.journal, self.numbers = name, journal, numbers

    def attach_to(self, thread):
        att = thread.attach(self)
        att.set_syscall_filter(self.numbers)
        att.set_events(Event.SYSCALL)
        return att

    def report_syscall_entry(self, att, report):
        path = read_string(att.thread.tid, report.syscall.args[1], 64)[0]
        self.journal.append((self.name, "entry", report.syscall.nr, path))

    def report_syscall_exit(self, att, report):
        self.journal.append((self.name, "exit", report.syscall.nr, report.syscall.rval >= 0))


class ResumeCounter:
    """Counts the tracer's PTRACE_SYSCALL resumes (the fast path makes one per exit wanted)."""

    def __init__(self, monkeypatch):
        self.count = 0
        for name in ("resume_syscall", "cont_syscall"):
            real = getattr(kernel, name)
            monkeypatch.setattr(kernel, name, self._counting(real))

    def _counting(self, real):
        def resume(*args):
            self.count += 1
            return real(*args)
        return resume


def test_engines_narrowed_to_the_filter_hear_each_call_in_utrace_order(tracer, tracee,
                                                                       monkeypatch):
    """The fast lane's case (every engine narrowed to exactly the filter, none wants
    QUIESCE): entries in reverse attach order, exits in attach order, as on the full path."""
    journals = []
    for syscall_filter in ({OPENAT}, None):
        journal = []
        resumes = ResumeCounter(monkeypatch)
        engines = [Journal(name, journal, {OPENAT}) for name in ("a", "b")]
        _, status, out = run(tracer, tracee, [f"ppid:{PPID_CALLS}", "open:3"], engines,
                             syscall_filter)
        assert status == 0 and out.endswith("done\n")
        journals.append(journal)
        if syscall_filter is not None:  # one PTRACE_SYSCALL per openat (to its exit stop)
            assert resumes.count <= len(journal) // 4 + 10, resumes.count
        else:
            assert resumes.count >= 2 * PPID_CALLS
    fast, full = journals
    assert fast == full
    dev_null = [i for i, entry in enumerate(fast) if entry[3] == b"/dev/null"]
    assert len(dev_null) == 6  # each of the 3 calls told to both engines
    first = dev_null[0]
    assert [(name, what) for name, what, _, _ in fast[first:first + 4]] == \
        [("b", "entry"), ("a", "entry"), ("a", "exit"), ("b", "exit")]
    assert all(ok for _, what, _, ok in fast if what == "exit")


class WidenAtFirstOpen(Calls):
    """Narrowed to openat until the first /dev/null openat's entry, then wants every call."""

    def report_syscall_entry(self, att, report):
        super().report_syscall_entry(att, report)
        if self.log[-1][3] == b"/dev/null" and self.numbers is not None:
            self.numbers = None
            att.set_syscall_filter(None)  # from inside its own callback, on the lane


def test_an_engine_widening_its_calls_in_a_seccomp_stop_callback_falls_back(tracer, tracee):
    calls = WidenAtFirstOpen({OPENAT})
    _, status, out = run(tracer, tracee, ["open:1", f"ppid:{PPID_CALLS}", "open:1"], [calls],
                         syscall_filter={OPENAT})
    assert status == 0 and out.endswith("done\n")
    assert len(calls.calls(GETPPID)) == PPID_CALLS  # the full path from there on
    assert len(calls.calls(GETPPID, "exit")) == PPID_CALLS
    opens = [e for e in calls.log if e[2] == OPENAT]
    # The call where it widened still has its exit, and the next openat is told once.
    assert [what for what, _, _, d in opens if d == b"/dev/null" or what == "exit"][-4:] == \
        ["entry", "exit", "entry", "exit"]


class HoldAtFirstOpen(Calls):
    """Calls that answers STOP at the program's first /dev/null openat (once)."""

    def __init__(self):
        super().__init__({OPENAT})
        self.held = threading.Event()
        self.att = None

    def attach_to(self, thread):
        self.att = super().attach_to(thread)
        return self.att

    def report_syscall_entry(self, att, report):
        super().report_syscall_entry(att, report)
        if self.log[-1][3] == b"/dev/null" and not self.held.is_set():
            self.held.set()
            return Resume.STOP
        return None


class EveryCallUntilOpen(Engine):
    """Wants every call (no filter) until the next openat, where it detaches."""

    def __init__(self):
        self.ppids = 0

    def report_syscall_entry(self, att, report):
        if report.syscall.nr == OPENAT:
            return Resume.DETACH
        self.ppids += report.syscall.nr == GETPPID
        return None


def test_stop_at_a_seccomp_stop_holds_the_thread_at_the_call(tracer, tracee):
    """STOP answered at a filtered call's entry (on the fast lane): the thread waits
    at that call until the engine resumes it, and the call's exit is still reported."""
    holder = HoldAtFirstOpen()
    read_end, write_end = os.pipe()
    try:
        process = tracer.launch([tracee("seccomp_calls"), "open:1", f"ppid:{PPID_CALLS}",
                                 "open:1"], stdout=write_end, syscall_filter={OPENAT})
    finally:
        os.close(write_end)
    holder.attach_to(process.main_thread)
    process.start()
    assert holder.held.wait(TIMEOUT)
    with holder.att.examine() as regs:  # NotStoppedError unless held
        assert HOST.syscall_number(regs) == OPENAT
    assert [what for what, _, _, d in holder.log if d == b"/dev/null" or what == "exit"][-1] \
        == "entry"
    holder.att.control(Resume.RESUME)
    assert process.wait(TIMEOUT) == 0
    with os.fdopen(read_end) as out:
        assert out.read().endswith("done\n")
    assert len(holder.calls(OPENAT)) == len(holder.calls(OPENAT, "exit"))
    assert all(rval >= 0 for _, _, _, rval in holder.calls(OPENAT, "exit"))


def test_an_engine_attached_later_falls_back_then_the_thread_is_fast_again(tracer, tracee):
    """Mid-run: a second engine wanting every call, which leaves at an openat's entry."""
    holder, counter = HoldAtFirstOpen(), StopCounter()
    read_end, write_end = os.pipe()
    try:
        process = tracer.launch([tracee("seccomp_calls"), "open:1", "ppid:1000", "open:1",
                                 f"ppid:{PPID_CALLS}", "open:1"], stdout=write_end,
                                syscall_filter={OPENAT})
    finally:
        os.close(write_end)
    holder.attach_to(process.main_thread)
    counter.attach_to(process.main_thread)
    process.start()
    assert holder.held.wait(TIMEOUT)
    more = EveryCallUntilOpen()
    process.main_thread.attach(more).set_events(Event.SYSCALL_ENTRY)
    holder.att.control(Resume.RESUME)
    assert process.wait(TIMEOUT) == 0
    with os.fdopen(read_end) as out:
        assert out.read().endswith("done\n")
    assert more.ppids == 1000  # the full path, while it was there
    # It left at an openat's entry stop: that call's seccomp stop (next) is not
    # reported again, and its exit is not lost though the thread is fast again.
    opens = [e for e in holder.log if e[2] == OPENAT]
    assert [what for what, _, _, d in opens if d == b"/dev/null" or what == "exit"][-6:] == \
        ["entry", "exit"] * 3
    assert len(holder.calls(OPENAT)) == len(holder.calls(OPENAT, "exit"))
    assert counter.stops < 2 * 1000 + 100, counter.stops  # not the last getppids


def test_an_engine_without_a_filter_falls_back_and_sees_every_call(tracer, tracee):
    calls, everything = Calls({OPENAT}), Calls(None)
    _, status, _ = run(tracer, tracee, [f"ppid:{PPID_CALLS}", "open:2"],
                       [calls, everything], syscall_filter={OPENAT})
    assert status == 0
    assert len(everything.calls(GETPPID)) >= PPID_CALLS
    assert len(everything.calls(OPENAT)) == len(calls.calls(OPENAT))


def test_fork_children_inherit_the_filter_followed_or_not(tracer, tracee):
    # Followed: the child's calls are reported with the child's tid.
    calls, counter = Calls({OPENAT}, follow=True), StopCounter()
    process, status, out = run(
        tracer, tracee, ["fork:open:2,ppid:500", "open:1"], [calls, counter],
        syscall_filter={OPENAT})
    assert status == 0 and "child=0" in out, out
    children = {tid for _, tid, _, d in calls.calls(OPENAT) if d == b"/dev/null"} - {process.pid}
    assert len(children) == 1
    child_opens = [e for e in calls.calls(OPENAT) if e[1] in children]
    assert len(child_opens) == 2 and len(calls.calls(OPENAT, "exit")) == len(calls.calls(OPENAT))
    # Not followed: the child stays traced (untraced, its openat would fail
    # with ENOSYS: the filter's TRACE without a tracer) and is never reported.
    calls = Calls({OPENAT})
    process, status, out = run(tracer, tracee, ["fork:open:2,ppid:500", "open:1"], [calls],
                               syscall_filter={OPENAT})
    assert status == 0 and "child=0" in out, out
    assert {tid for _, tid, _, _ in calls.log} == {process.pid}


def test_exec_keeps_the_filter_and_the_fast_path(tracer, tracee):
    program = tracee("seccomp_calls")
    calls, counter = Calls({OPENAT}), StopCounter()
    process, status, out = run(tracer, tracee, [f"exec:{program}", f"ppid:{PPID_CALLS}",
                                                "open:3"], [calls, counter],
                               syscall_filter={OPENAT})
    assert status == 0 and out.endswith("done\n")
    opens = [d for _, _, _, d in calls.calls(OPENAT)]
    assert opens.count(b"/dev/null") == 3
    assert counter.stops <= 2 * len(opens) + 20, counter.stops


def test_without_a_filter_at_launch_a_narrowed_engine_still_sees_only_its_calls(tracer, tracee):
    calls = Calls({OPENAT})
    process, status, _ = run(tracer, tracee, ["ppid:50", "open:2"], [calls])
    assert status == 0 and process.syscall_filter is None
    assert {nr for _, _, nr, _ in calls.log} == {OPENAT}
    assert [d for _, _, _, d in calls.calls(OPENAT)].count(b"/dev/null") == 2


class StopAtGetppid(Engine):
    def __init__(self):
        self.stopped = threading.Event()

    def attach_to(self, thread):
        att = thread.attach(self)
        att.set_syscall_filter({GETPPID})
        att.set_events(Event.SYSCALL_ENTRY)

    def report_syscall_entry(self, att, report):
        self.stopped.set()
        return Resume.STOP


def test_a_detached_filtered_program_fails_its_filtered_calls_with_enosys(tracer, tracee,
                                                                         caplog):
    """What the kernel does once the tracer is gone (we warn when detaching)."""
    read_end, write_end = os.pipe()
    try:
        process = tracer.launch([tracee("seccomp_calls"), "ppid:1", "open:1"],
                                stdout=write_end, syscall_filter={OPENAT, GETPPID})
    finally:
        os.close(write_end)
    engine = StopAtGetppid()
    engine.attach_to(process.main_thread)
    process.start()
    assert engine.stopped.wait(TIMEOUT)
    with caplog.at_level(logging.WARNING, logger="pydbg_utrace"):
        process.detach()  # held at the getppid seccomp stop
    assert process.wait(TIMEOUT) == 0
    with os.fdopen(read_end) as out:
        assert "openat=-1 errno=38 " in out.read()  # ENOSYS: TRACE with no tracer
    assert any("ENOSYS" in record.getMessage() for record in caplog.records)


def test_bad_filters_are_refused_clearly(tracer, tracee):
    with pytest.raises(TypeError, match="not a string"):
        tracer.launch([tracee("seccomp_calls")], syscall_filter="openat")
    with pytest.raises(ValueError, match="not system call numbers"):
        tracer.launch([tracee("seccomp_calls")], syscall_filter={-1})
    process = tracer.launch([tracee("seccomp_calls")])
    att = process.main_thread.attach(Calls())
    with pytest.raises(ValueError, match="not system call numbers"):
        att.set_syscall_filter({"openat"})
    with pytest.raises(TypeError):
        att.set_syscall_filter(257)


def trace_command(tracee, tmp_path, *options):
    """`pydbg-utrace trace -o LOG OPTIONS -- seccomp_calls ...`: (exit code, log lines, stderr).

    The log's lines lose their pid column (strace's "PID " or "[pid N] ")."""
    log = tmp_path / f"log{len(list(tmp_path.iterdir()))}"
    argv = [sys.executable, "-m", "pydbg_utrace", "trace", "-o", str(log), *options, "--",
            tracee("seccomp_calls"), "ppid:200", "fork:open:1", "open:2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    lines = []
    for line in log.read_text().splitlines() if log.exists() else ():
        line = re.sub(r"^(\[pid +\d+\] |\d+ +)", "", line)
        line = re.sub(r"si_pid=\d+", "si_pid=PID", line)  # a SIGCHLD line names the child
        lines.append(re.sub(r"0x[0-9a-f]{6,}", "0xADDR", line))
    return done.returncode, lines, done.stderr


def test_the_trace_command_with_seccomp_bpf_logs_what_the_full_path_logs(tracee, tmp_path):
    code, fast, _ = trace_command(tracee, tmp_path, "-f", "-e", "trace=openat", "--seccomp-bpf")
    full_code, full, _ = trace_command(tracee, tmp_path, "-f", "-e", "trace=openat")
    assert code == full_code == 0
    assert fast == full
    assert sum('"/dev/null"' in line for line in fast) == 3  # the child's and the parent's


def test_the_trace_command_says_when_seccomp_bpf_cannot_be_used(tracee, tmp_path):
    code, lines, stderr = trace_command(tracee, tmp_path, "-e", "trace=openat", "--seccomp-bpf")
    assert code == 0, stderr
    assert "--seccomp-bpf cannot be used without -f/--follow-forks, disabling" in stderr
    assert lines and all(line.startswith(("openat(", "+++", "--- SIG")) for line in lines)
    code, _, stderr = trace_command(tracee, tmp_path, "-e", "trace=nosuchcall")
    assert code == 1 and "invalid system call 'nosuchcall'" in stderr


@pytest.mark.parametrize("missing", ["order", "binding"])
def test_without_the_fast_path_launch_warns_and_every_call_stops(tracer, tracee, monkeypatch,
                                                                  caplog, missing):
    """strace's rule: an unavailable filter is a warning, and the full path does the job."""
    if missing == "order":  # as on Linux < 4.8, where strace's check fails
        monkeypatch.setattr(seccomp, "order_problem", lambda: "unexpected order (test)")
    else:
        monkeypatch.setattr(seccomp, "_binding_found", (None, "no binding (test)"))
    calls, counter = Calls({OPENAT}), StopCounter()
    with caplog.at_level(logging.WARNING, logger="pydbg_utrace"):
        process, status, _ = run(tracer, tracee, [f"ppid:{PPID_CALLS}", "open:2"],
                                 [calls, counter], syscall_filter={OPENAT})
    assert status == 0 and process.syscall_filter is None
    assert any("requested but unavailable" in r.getMessage() for r in caplog.records)
    assert [d for _, _, _, d in calls.calls(OPENAT)].count(b"/dev/null") == 2
    assert counter.stops >= 2 * PPID_CALLS


class StepIntoGetppid(Engine):
    """From the first /dev/null openat's exit, single-steps until past the getppid call."""

    LIMIT = 200_000  # steps: a bound, so that a step that never ends is a failure

    def __init__(self):
        self.log: list[str] = []
        self.steps = 0
        self.armed = False

    def attach_to(self, thread):
        att = thread.attach(self)
        att.set_syscall_filter({OPENAT, GETPPID})
        att.set_events(Event.SYSCALL | Event.STEP | Event.QUIESCE)

    def report_syscall_entry(self, att, report):
        if report.syscall.nr == OPENAT:
            self.armed = read_string(att.thread.tid, report.syscall.args[1], 64)[0] == \
                b"/dev/null" and not self.log
        else:
            self.log.append(f"entry {report.syscall.nr} after {self.steps} steps")
        return None

    def report_syscall_exit(self, att, report):
        if self.armed:
            self.armed = False
            self.log.append("stepping")
            return Resume.SINGLESTEP
        if report.syscall.nr == GETPPID:
            self.log.append("exit")
        return None

    def report_step(self, att, report):
        self.steps += 1
        if self.steps >= self.LIMIT or self.log[-1].startswith("entry"):
            self.log.append("step after the entry")
            return None
        return Resume.SINGLESTEP


@pytest.mark.skipif(not HOST.has_singlestep, reason="no hardware single-step on this arch")
def test_single_stepping_into_a_filtered_call_reports_its_entry(tracer, tracee):
    """The kernel makes a seccomp stop under PTRACE_SINGLESTEP too: the entry is
    reported, the exit not (a step makes no syscall stops), then the step ends."""
    engine = StepIntoGetppid()
    _, status, out = run(tracer, tracee, ["open:1", "ppid:1", "open:1"], [engine],
                         syscall_filter={OPENAT, GETPPID})
    assert status == 0 and out.endswith("done\n")
    assert engine.steps < engine.LIMIT
    assert engine.log[0] == "stepping" and engine.log[1].startswith(f"entry {GETPPID}")
    assert engine.log[2:] == ["step after the entry"], engine.log
