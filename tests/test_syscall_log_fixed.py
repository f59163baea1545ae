"""decode.fixed_entry: the logger's shortcut for calls with no arguments is decode_entry's answer.

The logger (engines/syscall_log.py) keeps ``fixed_entry(name)`` by syscall
number and skips ``decode_entry`` for such calls, so the two must agree: the
very Pending decode_entry gives every call of the name, whatever the
arguments' registers hold, and None for any call whose entry shows something
of the call (arguments, a carried call).  Pure: no process.
"""

from __future__ import annotations

import io

import pytest
from pydbg_utrace.engines import decode
from pydbg_utrace.engines.syscall_log import SyscallLogger
from pydbg_utrace.engines.trace_options import TraceOptions

from pydbg_utrace import arch as arches

ABI = decode.abi_for(arches.host().name)


class NoMemory:
    def read(self, address, size):
        raise AssertionError("a call with no arguments reads no memory")

    def read_string(self, address, limit):
        raise AssertionError("a call with no arguments reads no memory")


@pytest.mark.parametrize("name", ["getppid", "getpid", "gettid", "sched_yield", "getuid"])
def test_a_call_with_no_arguments_has_one_entry_whatever_its_registers(name):
    fixed = decode.fixed_entry(name)
    assert fixed is not None and fixed.entry_text == f"{name}("
    for args in [(0,) * 6, (0xDEAD, 1, 2, 3, 4, 5), tuple(range(6))]:
        assert decode.decode_entry(ABI, name, args, NoMemory(), TraceOptions()) is fixed


@pytest.mark.parametrize("name", ["read", "openat", "close", "socketcall", "ipc", "mmap",
                                  "no_such_call"])
def test_a_call_whose_entry_shows_something_has_none(name):
    assert decode.fixed_entry(name) is None


class Thread:
    def __init__(self, tid):
        self.tid = tid
        self.arch = arches.host()


class Attachment:
    def __init__(self, thread):
        self.thread = thread


class Info:
    def __init__(self, nr, rval=0):
        self.nr, self.args, self.stack_pointer = nr, (7, 8, 9, 0, 0, 0), 0
        self.rval, self.is_error = rval, False


class Report:
    def __init__(self, info):
        self.syscall = info


def log_of(options: TraceOptions, calls: list[tuple[str, int]]) -> str:
    """The log of ``calls`` (name, result) on one thread, its callbacks called directly
    (its first call is an entry: no launch execve to rebuild)."""
    out = io.StringIO()
    logger = SyscallLogger(out, options=options)
    att = Attachment(Thread(4242))
    for name, rval in calls:
        nr = att.thread.arch.syscall_number_of(name)
        logger.report_syscall_entry(att, Report(Info(nr)))
        logger.report_syscall_exit(att, Report(Info(nr, rval)))
    return out.getvalue()


def test_the_log_of_fixed_calls_is_the_decoders_and_trace_still_filters_them():
    calls = [("getppid", 1), ("getpid", 42), ("getppid", 1), ("close", 0)]
    text = log_of(TraceOptions(), calls)
    assert text.splitlines() == [f"{'getppid()':<39} = 1", f"{'getpid()':<39} = 42",
                                 f"{'getppid()':<39} = 1", f"{'close(7)':<39} = 0"]
    only = log_of(TraceOptions(trace=frozenset({"getpid"})), calls)
    assert only.splitlines() == [f"{'getpid()':<39} = 42"]
