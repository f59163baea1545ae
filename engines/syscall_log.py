"""An engine that logs every system call, one line each, in strace's manner.

``TID name(args) = result`` with string arguments read from the tracee and
errors spelled as ``-1 ENOENT (No such file or directory)``.  With
``follow`` it attaches itself to every new thread and process it sees.
"""

from __future__ import annotations

import errno
import os
from typing import TextIO

from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES

from pydbg_utrace import (
    AttachFlags,
    Attachment,
    Engine,
    Event,
    ExistsError,
    NoSuchThreadError,
    Report,
    kernel,
)
from pydbg_utrace.memory import read_string

STRING_LIMIT = 32  # characters shown of a string argument, as strace -s 32
EVENTS = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT | Event.EXEC | Event.EXIT | Event.DEATH


def quote(data: bytes, complete: bool) -> str:
    """A C-style quoted string, cut at STRING_LIMIT characters."""
    shown = data[:STRING_LIMIT]
    text = "".join(
        chr(b) if 32 <= b < 127 and b not in (34, 92) else
        {10: "\\n", 9: "\\t", 34: '\\"', 92: "\\\\"}.get(b, f"\\{b:o}")
        for b in shown)
    more = "..." if len(data) > STRING_LIMIT or not complete else ""
    return f'"{text}"{more}'


#: The kernel's internal restart codes (include/linux/errno.h): never seen by
#: the program, but a tracer sees them at the exit of an interrupted call.
#: strace's names and words.
RESTART_CODES = {
    512: ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    513: ("ERESTARTNOINTR", "To be restarted"),
    514: ("ERESTARTNOHAND", "To be restarted if no handler"),
    516: ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
}


def format_result(rval: int, is_error: bool) -> str:
    if is_error and -rval in RESTART_CODES:
        name, words = RESTART_CODES[-rval]
        return f"? {name} ({words})"
    if is_error:
        err = -rval
        name = errno.errorcode.get(err, f"E{err}")
        return f"-1 {name} ({os.strerror(err)})"
    return f"{rval:#x}" if rval > 0xFFFF else str(rval)


class SyscallLogger(Engine):
    """Writes one line per system call to ``out``."""

    name = "syscall-log"

    def __init__(self, out: TextIO, follow: bool = False):
        self.out = out
        self.follow = follow
        self._pending: dict[int, str] = {}  # tid -> "name(args)" awaiting its result

    def events(self) -> Event:
        return EVENTS | (Event.CLONE if self.follow else Event.NONE)

    def attach_to(self, thread) -> Attachment:
        att = thread.attach(self)
        att.set_events(self.events())
        return att

    def attach_to_process(self, process) -> list[Attachment]:
        """Attach to every thread of a running process, however its threads come and go.

        A thread that dies before we reach it is skipped; a thread born
        meanwhile is attached by ``report_clone`` (its creator has us already)
        or by the next pass over ``process.threads``, never twice.
        """
        attachments: list[Attachment] = []
        tried: set = set()
        while True:
            new = [t for t in list(process.threads.values()) if t not in tried]
            if not new:
                return attachments
            for thread in new:
                tried.add(thread)
                try:
                    att = thread.attach(self, AttachFlags.CREATE | AttachFlags.EXCLUSIVE
                                        | AttachFlags.MATCH_OPS)
                    att.set_events(self.events())
                except ExistsError:
                    continue  # report_clone was first
                except NoSuchThreadError:
                    continue  # it died meanwhile: nothing to log
                attachments.append(att)

    def report_clone(self, att: Attachment, report: Report) -> None:
        if self.follow and report.child is not None:
            self.attach_to(report.child)

    def report_syscall_entry(self, att: Attachment, report: Report) -> None:
        info = report.syscall
        thread = att.thread
        name = thread.arch.syscall_name(info.nr)
        self._pending[thread.tid] = f"{name}({self._arguments(thread.tid, name, info.args)})"

    def report_syscall_exit(self, att: Attachment, report: Report) -> None:
        call = self._pending.pop(att.thread.tid, None)
        if call is None:  # its entry came before we attached (or was execve's)
            call = "<... resumed>"
        info = report.syscall
        self.out.write(f"{att.thread.tid} {call} = {format_result(info.rval, info.is_error)}\n")

    def report_exec(self, att: Attachment, report: Report) -> None:
        # A thread other than the leader called execve: it returns as the
        # leader (its tid is the process's now), so its pending call moves.
        if report.old_tid is not None and report.old_tid != att.thread.tid:
            call = self._pending.pop(report.old_tid, None)
            if call is not None:
                self._pending[att.thread.tid] = call

    def report_exit(self, att: Attachment, report: Report) -> None:
        call = self._pending.pop(att.thread.tid, None)
        if call is not None:  # exit_group and friends never return
            self.out.write(f"{att.thread.tid} {call} = ?\n")

    def report_death(self, att: Attachment, report: Report) -> None:
        status = report.exit_code or 0
        if report.old_tid is not None:  # strace's words for a leader replaced by an exec
            how = f"superseded by execve in pid {report.old_tid}"
        elif os.WIFSIGNALED(status):
            how = f"killed by signal {os.WTERMSIG(status)}"
        else:
            how = f"exited with {os.WEXITSTATUS(status)}"
        self.out.write(f"{att.thread.tid} +++ {how} +++\n")

    @staticmethod
    def _arguments(tid: int, name: str, args: tuple[int, ...]) -> str:
        prototype = SYSCALL_PROTOTYPES.get(name)
        if prototype is None:
            return ", ".join(_number(a) for a in args)
        params = prototype[1]
        shown = []
        for i, (value, (ctype, argname)) in enumerate(zip(args, params, strict=False)):
            if ctype == "const char *" and value:
                try:
                    shown.append(_string_argument(tid, value, argname, args[i + 1:i + 2]))
                    continue
                except kernel.KernelError:
                    pass
            shown.append(_number(value, signed=ctype == "int"))
        return ", ".join(shown)


def _string_argument(tid: int, address: int, argname: str, following: tuple[int, ...]) -> str:
    """A path is read to its NUL; a buffer (write's ``buf``) only to its length."""
    if argname == "buf" and following:
        size = following[0]
        data = kernel.read_memory(tid, address, min(size, STRING_LIMIT + 1))
        return quote(data, len(data) >= size)
    return quote(*read_string(tid, address, STRING_LIMIT + 1))


def _number(value: int, signed: bool = False) -> str:
    if signed:
        value &= 0xFFFFFFFF
        if value >= 1 << 31:
            return str(value - (1 << 32))
    return f"{value:#x}" if value > 0xFFFF else str(value)
