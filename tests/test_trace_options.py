"""strace's command line parsed into TraceOptions (no processes), and the engines' pure parts."""

from __future__ import annotations

import errno
import signal

import pytest
from pydbg_utrace.arch import by_name
from pydbg_utrace.engines.syscall_classes import CLASSES
from pydbg_utrace.engines.syscall_inject import applies
from pydbg_utrace.engines.syscall_summary import SyscallSummary
from pydbg_utrace.engines.trace_options import Injection

from pydbg_utrace.strace_options import HelpRequested, UsageError, parse, traced_numbers


def options(*argv, arch="x86_64"):
    return parse([*argv, "prog"], arch).options


def error(*argv):
    with pytest.raises(UsageError) as caught:
        parse(list(argv), "x86_64")
    return str(caught.value)


def test_defaults():
    request = parse(["prog", "-f"], "x86_64")  # after PROG, options are PROG's (strace's "+")
    assert request.command == ("prog", "-f")
    o = request.options
    assert (o.follow, o.string_limit, o.trace, o.status, o.summary, o.quiet) == \
        (False, 32, None, "all", "", 0)


@pytest.mark.parametrize("argv, field, value", [
    (["-f"], "follow", True),
    (["-s", "64"], "string_limit", 64),
    (["-v"], "verbose", True),
    (["-x"], "hex_strings", 1),
    (["-xx"], "hex_strings", 2),
    (["-x", "-x", "-x"], "hex_strings", 2),
    (["-y"], "fd_paths", True),
    (["-T"], "syscall_times", True),
    (["-t"], "timestamps", 1),
    (["-tt"], "timestamps", 2),
    (["-ttt"], "timestamps", 3),
    (["-r"], "relative", True),
    (["-z"], "status", "successful"),
    (["-Z"], "status", "failed"),
    (["-e", "status=failed"], "status", "failed"),
    (["-e", "status=successful,failed"], "status", "all"),
    (["-q"], "quiet", 1),
    (["-qq"], "quiet", 2),
    (["-c"], "summary", "c"),
    (["-C"], "summary", "C"),
    (["-c", "-w"], "summary_wall", True),
    (["-c", "-S", "calls"], "summary_sort", "calls"),
    (["-c", "-S", "count"], "summary_sort", "calls"),
    (["-c", "--summary-sort-by=name"], "summary_sort", "name"),
    (["--json"], "json", True),
    (["-n"], "syscall_numbers", True),
    (["--syscall-number"], "syscall_numbers", True),
    (["-i"], "instruction_pointers", True),
    (["--instruction-pointer"], "instruction_pointers", True),
    (["-a", "20"], "result_column", 20),
    (["--columns=0"], "result_column", 0),
    (["-f", "--seccomp-bpf"], "seccomp_bpf", True),
    (["--seccomp-bpf"], "seccomp_bpf", False),  # strace: not without -f
])
def test_letters(argv, field, value):
    assert getattr(options(*argv), field) == value


def test_ff_needs_o_for_files():
    assert options("-ff").follow_files is False  # strace: -ff without -o is -f
    request = parse(["-ff", "-o", "log", "prog"], "x86_64")
    assert request.options.follow_files and request.options.follow
    assert request.output == "log"


def test_append():
    assert parse(["-A", "-o", "log", "prog"], "x86_64").append
    assert not parse(["-o", "log", "prog"], "x86_64").append


def test_pids_comma_and_repeated():
    assert parse(["-p", "12,13", "-p", "14"], "x86_64").pids == (12, 13, 14)
    assert error("-p", "12,x") == "Invalid process id: 'x'"


def test_trace_names_and_negation():
    assert options("-e", "trace=open,close").trace == {"open", "close"}
    assert options("-e", "open").trace == {"open"}  # a bare -e is trace=
    assert options("--trace=read").trace == {"read"}
    negated = options("-e", "trace=!open,close").trace
    assert "open" not in negated and "close" not in negated and "read" in negated
    assert options("-e", "trace=none").trace == frozenset()
    assert options("-e", "trace=?nosuchcall,read").trace == {"read"}  # strace's "?"
    assert options("-e", "trace=open", "-e", "trace=read").trace == {"read"}  # the last wins


def test_trace_regex():
    names = options("-e", "trace=/^getp").trace
    assert {"getpid", "getppid", "getpgid", "getpgrp", "getpriority"} <= names
    assert all(n.startswith("getp") for n in names)


@pytest.mark.parametrize("cls, member, outsider", [
    ("file", "openat", "read"), ("process", "clone3", "read"), ("network", "connect", "open"),
    ("signal", "rt_sigaction", "read"), ("ipc", "shmget", "read"), ("desc", "read", "getpid"),
    ("memory", "mmap", "read"), ("creds", "setuid", "read"), ("stat", "stat", "fstat"),
    ("%stat", "newfstatat", "read"),
])
def test_trace_classes(cls, member, outsider):
    chosen = options("-e", f"trace=%{cls}").trace
    assert member in chosen and outsider not in chosen


@pytest.mark.parametrize("arch, key", [("x86_64", "x86_64"), ("ppc64le", "ppc64"),
                                       ("s390x", "s390x")])
def test_classes_per_arch(arch, key):
    chosen = options("-e", "trace=%file", arch=arch).trace
    assert chosen == CLASSES[key]["file"] and "openat" in chosen


def test_signal_sets():
    assert options("-e", "signal=SIGCHLD,TERM,9").signals == {signal.SIGCHLD, signal.SIGTERM,
                                                               signal.SIGKILL}
    negated = options("-e", "signal=!SIGCHLD").signals
    assert signal.SIGCHLD not in negated and signal.SIGTERM in negated
    assert options("-e", "signal=all").signals is None
    assert options("-e", "signal=none").signals == frozenset()


def test_injections():
    (rule,) = options("-e", "inject=openat:error=ENOENT:when=2+3").injections
    assert rule == Injection("openat", error=errno.ENOENT, first=2, step=3)
    (rule,) = options("-e", "inject=getppid:retval=42").injections
    assert (rule.retval, rule.error, rule.first, rule.step) == (42, None, 1, 1)  # every call
    (rule,) = options("-e", "inject=getppid:signal=USR1:delay_enter=5:when=3+").injections
    assert (rule.signal, rule.delay_enter_us, rule.first, rule.step) == (10, 5, 3, 1)
    (rule,) = options("-e", "inject=getppid:delay_exit=7").injections
    assert (rule.delay_exit_us, rule.error) == (7, None)
    (rule,) = options("-e", "inject=getppid:error=EPERM:when=4").injections
    assert (rule.first, rule.step) == (4, 0)  # only the 4th
    two = options("-e", "inject=open,close:error=13").injections
    assert [(r.syscall, r.error) for r in two] == [("close", 13), ("open", 13)]
    (fault,) = options("-e", "fault=read").injections  # strace's fault= defaults to ENOSYS
    assert fault.error == errno.ENOSYS


@pytest.mark.parametrize("text", [
    "openat", "openat:error=EFOO", "openat:error=ENOENT:retval=1", "openat:when=0:error=1",
    "openat:when=2+0:error=1", "openat:signal=SIGFOO", "openat:colour=red", "openat:error",
    "openat:delay_enter=-1",
])
def test_bad_injections(text):
    assert error("-e", f"inject={text}", "prog") == f"invalid inject argument '{text}'"


@pytest.mark.parametrize("argv, message", [
    (["-K", "prog"], "invalid option -- 'K'"),
    (["--colour", "prog"], "unrecognized option '--colour'"),
    (["-s"], "option requires an argument -- 's'"),
    (["-s", "-1", "prog"], "invalid -s argument: '-1'"),
    ([], "must have PROG [ARGS] or -p PID"),
    (["-p", "1", "prog"], "PROG and -p PID at once are not supported by pydbg-utrace: give one"),
    (["-c", "-C", "prog"], "-c/--summary-only and -C/--summary are mutually exclusive"),
    (["-c", "-ff", "-o", "x", "prog"],
     "(-c/--summary-only or -C/--summary) and -ff/--output-separately are mutually exclusive"),
    (["-e", "trace=nosuchcall", "prog"], "invalid system call 'nosuchcall'"),
    (["-e", "trace=%nosuch", "prog"], "invalid system call '%nosuch'"),
    (["-e", "trace=/^nosuch", "prog"], "invalid system call '/^nosuch'"),
    (["-e", "signal=SIGNOPE", "prog"], "invalid signal 'SIGNOPE'"),
    (["-e", "status=maybe", "prog"], "invalid status 'maybe'"),
    (["-e", "abbrev=none", "prog"],
     "invalid -e qualifier 'abbrev' (pydbg-utrace knows trace, signal, status, inject, "
     "fault, read and write)"),
    (["-k", "prog"], "option -k (stack traces) is not supported by pydbg-utrace"),
    (["-S", "nosuch", "prog"], "invalid sortby: 'nosuch'"),
    (["-o", "|cat", "prog"], "-o |COMMAND (a pipe) is not supported by pydbg-utrace"),
])
def test_errors_are_one_strace_like_line(argv, message):
    assert error(*argv) == message
    assert "\n" not in message


def test_help():
    with pytest.raises(HelpRequested):
        parse(["-h"], "x86_64")


def test_warnings_are_not_errors():
    assert parse(["-w", "prog"], "x86_64").warnings == (
        "-w/--summary-wall-clock has no effect without -c/--summary-only or -C/--summary",)
    assert parse(["-p", "5", "-f", "--seccomp-bpf"], "x86_64").warnings == (
        "--seccomp-bpf is not enabled for processes attached with -p",)


def test_traced_numbers_for_the_seccomp_filter():
    arch = by_name("x86_64")
    assert traced_numbers(options(), arch) is None
    o = options("-e", "trace=openat", "-e", "inject=getppid:error=1")
    assert traced_numbers(o, arch) == {257, 110}  # the injected call is stopped at too


def test_injection_schedule():
    only_third = Injection("x", first=3)
    assert [applies(only_third, n) for n in range(1, 6)] == [False, False, True, False, False]
    every_other = Injection("x", first=2, step=2)
    assert [applies(every_other, n) for n in range(1, 7)] == [False, True, False, True, False,
                                                              True]


def test_summary_table_in_straces_layout():
    summary = SyscallSummary()
    summary.count("read", 0, False, 300_000)
    summary.count("read", 0, True, 100_000)
    summary.count("openat", 257, True, 600_999)
    summary.count("close", 3, False, 0)
    summary.count("a_rather_long_syscall_name", 999, False, 0)
    assert summary.table() == (
        "% time     seconds  usecs/call     calls    errors syscall\n"
        "------ ----------- ----------- --------- --------- ---------------------------\n"
        " 60.04    0.000601         600         1         1 openat\n"  # printf rounds
        " 39.96    0.000400         200         2         1 read\n"
        "  0.00    0.000000           0         1           close\n"
        "  0.00    0.000000           0         1           a_rather_long_syscall_name\n"
        "------ ----------- ----------- --------- --------- ---------------------------\n"
        "100.00    0.001001         200         5         2 total\n")


@pytest.mark.parametrize("sort_by, order", [
    ("time", ["openat", "read", "close"]), ("calls", ["read", "close", "openat"]),
    ("errors", ["openat", "read", "close"]), ("name", ["close", "openat", "read"]),
    ("nothing", ["read", "close", "openat"]), ("avg-time", ["openat", "read", "close"]),
])
def test_summary_sort(sort_by, order):
    summary = SyscallSummary(sort_by=sort_by)
    for name, nr, failed, ns in (("read", 0, False, 300), ("read", 0, False, 300),
                                 ("openat", 257, True, 900), ("close", 3, False, 0)):
        summary.count(name, nr, failed, ns)
    assert [line.split()[-1] for line in summary.table().splitlines()[2:-2]] == order
