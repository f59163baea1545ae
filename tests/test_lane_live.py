"""The fast lane on real tracees: it reports what the general path reports.

The lane knows entry from exit without asking the kernel when the previous
stop was a syscall stop it resumed plainly (pydbg_utrace/syscall_stop.py).
Here an engine asks the kernel anyway at every report (``report.syscall``
fetches GET_SYSCALL_INFO on the lane) and checks the kernel agrees, through
signals that interrupt system calls, fork, exec from a non-leader thread
and many threads.  And the same program traced by an engine that wants
QUIESCE (which keeps every stop off the lane) gives the same sequence of
system calls as one traced on the lane.
"""

from __future__ import annotations

import pytest

from pydbg_utrace import Engine, Event, Resume, kernel

pytestmark = pytest.mark.live

ENTRY, EXIT = kernel.PTRACE_SYSCALL_INFO_ENTRY, kernel.PTRACE_SYSCALL_INFO_EXIT


class Checker(Engine):
    """Records (event, nr) and what the kernel said the stop was; follows new tasks."""

    def __init__(self, events=Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT, read=True):
        self.events = events | Event.CLONE
        self.read = read
        self.seen: list[tuple[int, str, int]] = []
        self.wrong: list[tuple] = []

    def _note(self, att, report, kind, expected_op):
        if not self.read:
            self.seen.append((att.thread.tid, kind, -2))
            return
        info = report.syscall
        if info.op != expected_op:
            self.wrong.append((att.thread.tid, kind, info))
        self.seen.append((att.thread.tid, kind, info.nr))

    def report_syscall_entry(self, att, report):
        self._note(att, report, "entry", ENTRY)

    def report_syscall_exit(self, att, report):
        self._note(att, report, "exit", EXIT)

    def report_clone(self, att, report):
        child = report.child.attach(self)
        child.set_events(self.events)


def trace(tracer, argv, engine):
    process = tracer.launch(argv)
    att = process.main_thread.attach(engine)
    att.set_events(engine.events)
    process.start()
    assert process.wait(timeout=60) is not None, "the tracee did not finish"
    return process


@pytest.mark.parametrize("program", [["signals", "50"], ["forkexec"], ["thread_exec"],
                                     ["threads", "20"]])
def test_the_kernel_agrees_with_the_lane_on_entry_and_exit(tracer, tracee, program):
    engine = Checker()
    trace(tracer, [tracee(program[0]), *program[1:]], engine)
    assert engine.seen, "no system call reported"
    assert engine.wrong == []


def test_exit_reports_carry_the_entry_number_on_the_lane(tracer, tracee):
    engine = Checker()
    trace(tracer, [tracee("getppid")], engine)
    by_thread: dict[int, int] = {}
    for tid, kind, nr in engine.seen:
        if kind == "entry":
            by_thread[tid] = nr
        elif tid in by_thread:
            assert nr == by_thread.pop(tid)


class Quiet(Checker):
    """The same, with QUIESCE: no stop of its thread goes on the lane."""

    def __init__(self):
        super().__init__()
        self.events |= Event.QUIESCE


def test_the_lane_and_the_general_path_report_the_same_calls(tracer, tracee):
    argv = [tracee("signals"), "20"]
    on_lane, general = Checker(), Quiet()
    trace(tracer, argv, on_lane)
    trace(tracer, argv, general)
    strip = [(kind, nr) for _, kind, nr in on_lane.seen]
    assert strip == [(kind, nr) for _, kind, nr in general.seen]


def test_unread_reports_still_alternate_entry_and_exit(tracer, tracee):
    engine = Checker(read=False)
    trace(tracer, [tracee("signals"), "50"], engine)
    kinds = [kind for _, kind, _ in engine.seen]
    assert kinds and all(a != b for a, b in zip(kinds, kinds[1:], strict=False))


class SparseReader(Engine):
    """Wants only exits and reads ``report.syscall`` at every third one.

    Nobody reads at the entries, so the lane leaves the entry's info unread
    once an exit went unread, and the exit after it must recover the call's
    number and arguments (from the registers on x86_64).
    """

    events = Event.SYSCALL_EXIT

    def __init__(self):
        self.exits = 0
        self.read: list[tuple[int, int, tuple, int]] = []  # (op, nr, args, rval)

    def report_syscall_exit(self, att, report):
        self.exits += 1
        if self.exits % 3 == 0:
            info = report.syscall
            self.read.append((info.op, info.nr, info.args, info.rval))


def test_an_exit_whose_entry_went_unread_has_its_number_and_arguments(tracer, tracee,
                                                                      monkeypatch):
    fetches = []
    fetch = kernel.get_syscall_info  # (the lane's one GET_SYSCALL_INFO, fetched and decoded)

    def counting_fetch(tid):
        fetches.append(tid)
        return fetch(tid)

    monkeypatch.setattr(kernel, "get_syscall_info", counting_fetch)
    engine = SparseReader()
    arch = trace(tracer, [tracee("seccomp_calls"), "open:60"], engine).arch
    assert len(engine.read) >= 40
    assert all(op == EXIT for op, *_ in engine.read)
    if arch.keeps_syscall_at_exit:
        # Two of three entries went unread: about two requests per read exit
        # (the read, and the entry after it); reading every entry would make
        # it four (three entries and the read).
        assert len(fetches) < 3 * len(engine.read), (len(fetches), len(engine.read))
    at_fdcwd = (1 << 32) - 100  # AT_FDCWD, an int: the register's upper half is the ABI's
    opens = [(args, rval) for _, nr, args, rval in engine.read
             if nr == arch.syscall_number_of("openat")]
    closes = [(args, rval) for _, nr, args, rval in engine.read
              if nr == arch.syscall_number_of("close")]
    assert len(opens) >= 10 and len(closes) >= 10, engine.read
    for args, rval in opens:
        # O_RDONLY: the program's and the loader's (which adds O_CLOEXEC)
        assert len(args) == 6 and args[0] & 0xFFFFFFFF == at_fdcwd and args[2] & 3 == 0, args
        assert rval >= 0
    for args, rval in closes:
        assert 0 <= args[0] < 1024 and rval == 0, args


class Keeper(Engine):
    """Keeps every other report it is shown; at one exit writes a field no syscall report has."""

    events = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT

    def __init__(self):
        self.stops = 0
        self.kept: list[tuple[object, Event, int]] = []  # (report, event then, op then)
        self.odd_seen_after_write: list[object] = []
        self.wrote_at = 41

    def _see(self, report):
        self.stops += 1
        if self.stops > self.wrote_at and report.address is not None:
            self.odd_seen_after_write.append(report.address)
        if self.stops == self.wrote_at:
            report.address = 0x1234  # a breakpoint's field, on a syscall report
        if self.stops % 2 == 0 and len(self.kept) < 100:
            self.kept.append((report, report.event, report.syscall.op))

    def report_syscall_entry(self, att, report):
        self._see(report)

    def report_syscall_exit(self, att, report):
        self._see(report)


def test_a_report_an_engine_keeps_or_writes_odd_fields_to_is_not_reused(tracer, tracee):
    engine = Keeper()
    trace(tracer, [tracee("seccomp_calls"), "ppid:100"], engine)
    assert len(engine.kept) == 100
    # Each kept report is still the report of its own stop.
    assert len({id(report) for report, _, _ in engine.kept}) == 100
    for report, event, op in engine.kept:
        assert report.event == event
        assert report.syscall.op == op
        assert op == (ENTRY if event == Event.SYSCALL_ENTRY else EXIT)
    assert engine.odd_seen_after_write == []


class Counting(Engine):
    events = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT

    def __init__(self):
        self.exits = 0
        self.att = None

    def report_syscall_exit(self, att, report):
        self.exits += 1


class Cutter(Counting):
    """At its 10th exit, detaches the other engine, or takes its exits away."""

    def __init__(self, other: Counting, how: str):
        super().__init__()
        self.other, self.how = other, how
        self.other_exits_then = -1

    def report_syscall_exit(self, att, report):
        super().report_syscall_exit(att, report)
        if self.exits == 10:
            self.other_exits_then = self.other.exits
            if self.how == "detach":
                self.other.att.control(Resume.DETACH)
            else:
                self.other.att.set_events(Event.SYSCALL_ENTRY)


@pytest.mark.parametrize("how", ["detach", "set_events"])
def test_an_engine_cut_off_by_an_earlier_one_is_not_called_in_the_same_report(tracer, tracee,
                                                                               how):
    # Exit reports go in attach order: the cutter (attached first) runs before
    # the other in each, so the other must miss the 10th exit already.
    other = Counting()
    cutter = Cutter(other, how)
    process = tracer.launch([tracee("seccomp_calls"), "ppid:50"])
    for engine in (cutter, other):
        engine.att = process.main_thread.attach(engine)
        engine.att.set_events(engine.events)
    process.start()
    assert process.wait(timeout=60) is not None
    assert cutter.exits > 50
    assert cutter.other_exits_then == 9
    assert other.exits == 9
