"""``trace --json``: one JSON object per system call, one per line, for scripts.

Each object (written at the call's exit, or at the thread's exit for a call
that never returns) has::

    {"pid": 1234, "tid": 1235, "name": "openat", "nr": 257,
     "args": [{"raw": 4294967196, "decoded": "-100"}, ...],
     "arguments": "AT_FDCWD, \"/etc/passwd\", O_RDONLY",
     "result": 3, "errno": null, "unfinished": false,
     "entry_time": 1764598800.123456, "exit_time": 1764598800.123470}

``raw`` is the register value (unsigned), ``decoded`` a per-argument
rendering (from ``decode``; without one: signed ints and strings read from
the tracee at entry); ``arguments`` the log's own text of the arguments at
entry, as strace prints them (output buffers by address; ``null`` where the
syscall log has no ``call_arguments``); ``errno`` the name (``"ENOENT"``,
or strace's ``"ERESTARTSYS"`` & co. for an interrupted call the kernel
restarts) when the call failed,
``result`` then -1 as in C; times are seconds since the epoch at the entry and
exit reports.  A call whose entry came before the engine (a launched
program's ``execve``, a call in progress at ``-p``) has ``"args": []`` and
``"entry_time": null``.  A call that never returns has ``"result": null`` and
``"unfinished": true``.  ``-e trace=`` and ``-e status=`` select the objects.
"""

from __future__ import annotations

import errno
import json
import time
from collections.abc import Callable
from typing import TextIO

from pydbg_utrace import Attachment, Event, Report, kernel, read_string

from .following import FollowingEngine
from .path_trace import PathFilter
from .trace_options import TraceOptions

#: The kernel's restart codes (include/linux/errno.h), by strace's names: an
#: interrupted call shows one at its exit and is made again.
RESTART_NAMES = {512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND",
                 516: "ERESTART_RESTARTBLOCK"}

#: decode(tid, name, raw args) -> one decoded string per argument
Decoder = Callable[[int, str, tuple[int, ...]], list[str]]
Output = TextIO | Callable[[int], TextIO]


class SyscallJson(FollowingEngine):
    """Writes one JSON object per system call to ``out`` (or ``out(pid)`` with -ff)."""

    name = "syscall-json"
    wanted = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT | Event.EXEC | Event.EXIT

    def __init__(self, out: Output, follow: bool = False, options: TraceOptions | None = None,
                 decode: Decoder | None = None) -> None:
        super().__init__(follow)
        self.out = out
        self.options = options or TraceOptions()
        self.decode = decode or simple_decode(self.options.string_limit)
        self.call_text = _log_call_text(self.options)
        self._pending: dict[int, dict] = {}  # tid -> the object of its call in progress
        if self.options.paths is not None:  # -P: wrapped here, once (no cost without it)
            self._paths = PathFilter(self.options.paths, "x86_64")  # (made again per arch)
            self._hidden: set[int] = set()  # threads whose call -P hides
            self.report_syscall_entry = self._entry_if_path
            self.report_syscall_exit = self._exit_if_path

    def report_syscall_entry(self, att: Attachment, report: Report) -> None:
        if report.resumed:
            return
        thread = att.thread
        info = report.syscall
        name = thread.arch.syscall_name(info.nr)
        if self.options.trace is not None and name not in self.options.trace:
            return
        try:
            decoded = self.decode(thread.tid, name, info.args)
        except kernel.KernelError:
            decoded = [None] * len(info.args)
        self._pending[thread.tid] = {
            "pid": thread.process.pid, "tid": thread.tid, "name": name, "nr": info.nr,
            "args": [{"raw": raw, "decoded": text}
                     for raw, text in zip(info.args, decoded, strict=False)],
            "arguments": self.call_text(thread, name, info.args),
            "result": None, "errno": None, "unfinished": False,
            "entry_time": time.time(), "exit_time": None,
        }

    def report_syscall_exit(self, att: Attachment, report: Report) -> None:
        info = report.syscall
        call = self._pending.pop(att.thread.tid, None)
        if call is None:
            call = self._unseen_entry(att, info)
            if call is None:
                return  # not traced
        call["exit_time"] = time.time()
        if info.is_error:
            call["result"] = -1
            err = -info.rval
            call["errno"] = RESTART_NAMES.get(err) or errno.errorcode.get(err, f"E{err}")
        else:
            call["result"] = info.rval
        if self.options.status == "successful" and info.is_error:
            return
        if self.options.status == "failed" and not info.is_error:
            return
        self._write(att, call)

    def _entry_if_path(self, att: Attachment, report: Report) -> None:
        """-P: an object only for the calls that access one of the paths (strace's rules)."""
        SyscallJson.report_syscall_entry(self, att, report)
        thread = att.thread
        call = self._pending.get(thread.tid)
        if call is None or report.resumed:
            return
        if self._paths.arch_name != thread.arch.name:
            self._paths = PathFilter(self.options.paths, thread.arch.name)
        if not self._paths.thread_accesses(thread, call["name"], report.syscall.args):
            del self._pending[thread.tid]
            self._hidden.add(thread.tid)

    def _exit_if_path(self, att: Attachment, report: Report) -> None:
        """-P: nothing for a hidden call, nor for one whose entry came before us (the
        launch's execve: no arguments to look at)."""
        tid = att.thread.tid
        if tid in self._hidden:
            self._hidden.discard(tid)
        elif tid in self._pending:
            SyscallJson.report_syscall_exit(self, att, report)

    def _unseen_entry(self, att: Attachment, info) -> dict | None:
        """A call whose entry came before us (the launch's execve, or attached mid-call)."""
        if info.nr < 0:
            return None
        name = att.thread.arch.syscall_name(info.nr)
        if self.options.trace is not None and name not in self.options.trace:
            return None
        return {"pid": att.thread.process.pid, "tid": att.thread.tid, "name": name,
                "nr": info.nr, "args": [], "arguments": None, "result": None, "errno": None,
                "unfinished": False,
                "entry_time": None, "exit_time": None}

    def report_exec(self, att: Attachment, report: Report) -> None:
        # A thread other than the leader called execve: it returns as the leader
        # (its tid is the process's now); the call stays the caller's ("tid" of
        # its entry, as strace -ff writes it in the caller's file).
        if report.old_tid is not None and report.old_tid != att.thread.tid:
            call = self._pending.pop(report.old_tid, None)
            if call is not None:
                self._pending[att.thread.tid] = call

    def report_exit(self, att: Attachment, report: Report) -> None:
        call = self._pending.pop(att.thread.tid, None)
        if call is not None and self.options.status == "all":  # neither failed nor successful
            call["unfinished"] = True
            self._write(att, call)

    def _write(self, att: Attachment, call: dict) -> None:
        out = self.out(att.thread.tid) if callable(self.out) else self.out
        out.write(json.dumps(call) + "\n")


def _log_call_text(options: TraceOptions) -> Callable:
    """The syscall log's ``call_arguments`` (strace's text of a call's arguments), if it has one."""
    from . import syscall_log

    call_arguments = getattr(syscall_log, "call_arguments", None)

    def text(thread, name: str, args: tuple[int, ...]) -> str | None:
        if call_arguments is None:
            return None
        try:
            return call_arguments(thread.tid, name, args, thread.arch, options)
        except (OSError, ValueError, KeyError):  # unreadable memory, a call it cannot decode
            return None

    return text


def simple_decode(limit: int) -> Decoder:
    """Signed ``int`` arguments and NUL-terminated strings, from python-ptrace's prototypes.

    A stand-in where no decoder is given: the full decoding is the syscall
    log's (engines/decode), and the trace command passes it when it has one.
    """
    try:
        from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES
    except (ImportError, NotImplementedError):  # python-ptrace refuses some hosts (s390x)
        SYSCALL_PROTOTYPES = {}  # noqa: N806

    def decode(tid: int, name: str, args: tuple[int, ...]) -> list[str]:
        params = SYSCALL_PROTOTYPES.get(name, (None, ()))[1]
        shown = []
        for i, value in enumerate(args[:len(params)] if params else args):
            ctype = params[i][0] if i < len(params) else ""
            if ctype == "const char *" and value:
                data, complete = read_string(tid, value, limit + 1)
                shown.append(json.dumps(data[:limit].decode("latin-1"))
                             + ("" if complete and len(data) <= limit else "..."))
            elif ctype == "int":
                signed = value & 0xFFFFFFFF
                shown.append(str(signed - (1 << 32) if signed >= 1 << 31 else signed))
            else:
                shown.append(f"{value:#x}" if value > 0xFFFF else str(value))
        return shown

    return decode
