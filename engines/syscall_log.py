"""An engine that logs every system call, one line each, as strace prints them.

The text of each call comes from the pure decoder (:mod:`.decode`); this
engine brings it the tracee's memory and assembles strace's lines around it:

- the pid prefix by strace's rules: ``PID `` (``%-5d``) in a log file with
  ``-f`` (or several processes), ``[pid N] `` on stderr once several
  processes run, none with ``-ff`` (one file per thread);
- ``name(args) = result`` with the result at column 40, ``<unfinished ...>``
  when another line comes between a call's entry and its exit, then
  ``<... name resumed>``; ``= ?`` for calls that never return;
- ``--- SIGCHLD {si_signo=...} ---`` at each signal, ``+++ exited with N +++``
  / ``+++ killed by SIGKILL +++`` at each death;
- the launched program's own ``execve``, rebuilt from its new stack (its entry
  was never seen: the program is traced from its exec on);
- :class:`TraceOptions`: ``-s -v -x -y -T -t -r``, the ``trace=``,
  ``signal=`` and ``status=`` filters, ``-q``.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from pydbg_utrace import (
    Attachment,
    Event,
    Report,
    SignalAction,
    kernel,
    read_string,
)

from . import decode, io_dump
from .decode.multiplexed import subcall_name
from .following import FollowingEngine
from .path_trace import HIDDEN, EveryName, PathFilter
from .trace_options import TraceOptions

RESULT_COLUMN = 40  # strace's -a default: where "= result" starts (TraceOptions.result_column)
EVENTS = (Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT | Event.EXEC | Event.EXIT | Event.DEATH
          | Event.SIGNAL_ALL)
AT_FDCWD = -100

Output = TextIO | Callable[[int], TextIO]


class TraceeMemory:
    """A thread's memory for the decoder, through ``process_vm_readv`` (no stop needed)."""

    def __init__(self, tid: int):
        self.tid = tid

    def read(self, address: int, size: int) -> bytes:
        if size <= 0:
            return b""
        return kernel.read_memory(self.tid, address, size)

    def read_string(self, address: int, limit: int) -> tuple[bytes, bool]:
        return read_string(self.tid, address, limit)

    def netlink_protocol(self, fd: int) -> int | None:
        """The protocol of the netlink socket ``fd`` (-1: not bound yet), None if it is
        none: its inode's line in the tracee's /proc/net/netlink, which lists bound
        sockets only (as the sock_diag strace asks)."""
        link = f"/proc/{self.tid}/fd/{fd}"
        try:
            if os.getxattr(link, "system.sockprotoname") != b"NETLINK\0":
                return None
            inode = os.stat(link).st_ino
            with open(f"/proc/{self.tid}/net/netlink") as table:
                for line in table:
                    fields = line.split()
                    if fields[-1] == str(inode):
                        return int(fields[1])
        except (OSError, ValueError, IndexError):
            return None
        return -1


def fd_path(tid: int) -> Callable[[int], str | None]:
    """``-y``: what ``/proc/TID/fd/N`` (or ``cwd`` for AT_FDCWD) points at, read when
    the line is printed."""
    def lookup(fd: int) -> str | None:
        try:
            if fd == AT_FDCWD:
                return os.readlink(f"/proc/{tid}/cwd")
            return os.readlink(f"/proc/{tid}/fd/{fd}")
        except OSError:
            return None
    return lookup


def call_arguments(tid: int, name: str, args: tuple[int, ...], arch=None,
                   options: TraceOptions | None = None) -> str:
    """The arguments of a call at its entry, as strace shows them (``3, "abc", 3``).

    For front ends that show one call at a time (the REPL); output buffers,
    filled only at the exit, are shown by their address.
    """
    if arch is None:
        from pydbg_utrace.arch import for_pid

        arch = for_pid(tid)
    pending = decode.decode_entry(decode.abi_for(arch.name), name, args, TraceeMemory(tid),
                                  options or TraceOptions())
    text = pending.entry_text[len(name) + 1:]
    if pending.rest:  # not filled yet: shown as the addresses they are (as if it failed)
        text += decode.decode_exit(pending, 0, errno.EFAULT)[:-1]
    return text


def format_result(rval: int, is_error: bool, name: str = "") -> str:
    """What follows ``= ``: ``-1 ENOENT (No such file or directory)``, ``0x7f...`` for mmap."""
    return decode.format_result(None, name, rval, -rval if is_error else None)


class _Traced:
    """What the logger keeps of one thread for its next calls, worked out at its first."""

    __slots__ = ("abi", "memory", "paths", "links", "calls", "fixed")

    def __init__(self, thread, fd_paths: bool, calls: dict, fixed: dict):
        self.abi = decode.abi_for(thread.arch.name)
        self.memory = TraceeMemory(thread.tid)
        self.links = fd_path(thread.tid)  # (-P: what an fd points at)
        self.paths = self.links if fd_paths else None
        # (both shared by the threads of an arch, filled as numbers are first seen)
        self.calls = calls  # syscall number -> name
        self.fixed = fixed  # syscall number -> its decode.fixed_entry, for calls shown


class _Sink:
    """One output stream and its unfinished line (strace's ``printing_tcp``).

    (Always true: ``self._shared or self._sink(tid)`` picks the shared one if any.)
    """

    __slots__ = ("out", "open_tid", "column")

    def __init__(self, out: TextIO):
        self.out = out
        self.open_tid: int | None = None  # whose line is not finished yet
        self.column = 0

    def end_line(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.open_tid = None
        self.column = 0


#: The two layouts: strace's own, and one whole line per call for streams shared
#: with other output (the REPL's terminal, a gdbserver's --trace file).
STRACE, LINES = "strace", "lines"


class SyscallLogger(FollowingEngine):
    """Writes strace's lines for every traced thread to ``out``.

    ``out`` is a stream, or for ``-ff`` a callable giving the stream of a
    thread id.  ``layout`` STRACE (the default with ``options``) is strace's
    own: its pid prefix rules, the result at column 40, a call's line begun at
    its entry and cut by ``<unfinished ...>`` when another comes first.  LINES
    (the default without ``options``: the REPL, gdbserver ``--trace``) writes
    each call whole at its exit as ``TID name(args) = result``, so that a
    stream shared with other output never holds half a line.
    """

    name = "syscall-log"
    wanted = EVENTS

    def __init__(self, out: Output, follow: bool = False, options: TraceOptions | None = None,
                 layout: str | None = None):
        self.options = options or TraceOptions(follow=follow)
        super().__init__(follow or self.options.follow or self.options.follow_files)
        self.layout = layout or (STRACE if options is not None else LINES)
        if self.layout not in (STRACE, LINES):
            raise ValueError(f"layout {self.layout!r}: not {STRACE!r} or {LINES!r}")
        self.whole_lines = self.layout == LINES
        self.separate = not hasattr(out, "write")
        self._out = out
        self._to_file = not self.separate and out not in (sys.stderr, sys.stdout)
        # strace decides once, at the start: a shared log file with -f shows every pid.
        self._pid_column = self._to_file and self.follow
        self._sinks: dict[int, _Sink] = {}
        self._shared = None if self.separate else _Sink(out)
        self._pending: dict[int, decode.Pending] = {}  # tid -> call awaiting its exit
        self._entered: dict[int, float] = {}  # tid -> entry time (-T)
        self._held: dict[int, str] = {}  # tid -> entry text kept until the exit (-z/-Z)
        self._seen: set[int] = set()  # threads whose first syscall stop we had
        self._alive: set[int] = set()
        self._last_line = None  # monotonic time of the previous line (-r)
        self._threads: dict[int, _Traced] = {}  # tid -> its memory, ABI...: made once
        # arch name -> (syscall number -> name, syscall number -> fixed entry): _Traced's
        self._names: dict[str, tuple[dict[int, str], dict[int, decode.Pending]]] = {}
        # Worked out once: what each line needs (most need none of it).
        self._timed = bool(self.options.timestamps or self.options.relative)
        # -n / -i: each line names its thread's call (its number) and where it was made
        self._marked = self.options.syscall_numbers or self.options.instruction_pointers
        self._marks: dict[int, tuple[int, int | None]] = {}  # tid -> (call number, PC)
        self._holding = self.whole_lines or self.options.status != "all"
        self._prefixed = not self.separate and (self.whole_lines or self._pid_column
                                                or not self._to_file)
        self._decorated = self._timed or self._prefixed or self._marked
        #: the spaces before "= result" (strace's -a column), by the column the line
        #: has reached (none for whole lines)
        self._column = 0 if self.whole_lines else self.options.result_column
        self._pads = tuple(" " * (self._column - column) for column in range(self._column))
        self._trace = self.options.trace
        self._call_times = self.options.syscall_times
        # -P: a call is shown only if it accesses a path; decided in _entry's filtered
        # branch, so _trace is made a set of every name (the default path is untouched)
        self._path_filter = None
        if self.options.paths is not None:
            self._path_filter = {}  # arch name -> its PathFilter, made at its first call
            self._trace = EveryName() if self._trace is None else self._trace
        # -e read= / -e write=: the exit report is wrapped (here, once), not tested per call
        if self.options.read_fds is not None or self.options.write_fds is not None:
            self.report_syscall_exit = self._exit_and_dump

    # -- attaching -----------------------------------------------------------------------
    def attach_to(self, thread) -> Attachment:
        att = super().attach_to(thread)
        self._alive.add(thread.tid)
        self._threads.pop(thread.tid, None)  # (a tid seen before is another thread now)
        return att

    def attach_running(self, thread) -> Attachment:
        # Marked first: the tracer may report its next call before we return.
        self._seen.add(thread.tid)  # attached mid-run: no launch execve to rebuild
        return self.attach_to(thread)

    def detached(self, tid: int) -> None:
        """The tracer let go of ``tid`` (``trace`` interrupted, or ``-b execve``): its line,
        if still open, ends with strace's `` <detached ...>``.  Call once the tracer is
        closed, or on the tracer thread."""
        for sink in (self._shared, self._sinks.get(tid)):
            if sink is not None and sink.open_tid == tid:
                sink.end_line(" <detached ...>")
        self._alive.discard(tid)  # (strace's prefix rule counts the traced ones)

    # -- lines -----------------------------------------------------------------------------
    def _sink(self, tid: int) -> _Sink:
        if self._shared is not None:
            return self._shared
        sink = self._sinks.get(tid)
        if sink is None:
            sink = self._sinks[tid] = _Sink(self._out(tid))
        return sink

    def _prefix(self, tid: int) -> str:
        if self.separate:
            return ""
        if self.whole_lines:
            return f"{tid} "
        if self._pid_column:
            return f"{tid:<5} "
        if not self._to_file and len(self._alive) > 1:
            return f"[pid {tid:5}] "
        return ""

    def _leader(self, tid: int) -> str:
        """What strace writes before a line: the pid, the time, -n's number, -i's PC."""
        text = self._prefix(tid) if self._prefixed else ""
        if self._timed:
            text += self._times()
        if self._marked:
            nr, pc = self._marks.get(tid, (-1, None))
            if self.options.syscall_numbers:
                text += f"[{nr:4d}] " if nr >= 0 else "[????] "
            if self.options.instruction_pointers:
                width = 2 * self._word_size(tid)
                text += f"[{pc:0{width}x}] " if pc is not None else f"[{'?' * width}] "
        return text

    def _word_size(self, tid: int) -> int:
        traced = self._threads.get(tid)
        return traced.abi.word_size if traced is not None else 8

    def _mark(self, tid: int, nr: int, pc: int | None) -> None:
        """-n / -i: the thread's lines from here on name call ``nr`` made at ``pc``."""
        self._marks[tid] = (nr, pc)

    def _times(self) -> str:
        opts = self.options
        text = ""
        if opts.timestamps:
            now = time.time()
            if opts.timestamps >= 3:
                text += f"{now:.6f} "
            else:
                text += time.strftime("%H:%M:%S", time.localtime(now))
                text += f".{int(now % 1 * 1e6):06d} " if opts.timestamps == 2 else " "
        if opts.relative:
            now = time.monotonic()
            delta = 0.0 if self._last_line is None else now - self._last_line
            self._last_line = now
            text += f"{delta:13.6f} "
        return text

    def _begin(self, tid: int, text: str = "") -> _Sink:
        """Start a line for ``tid`` with ``text``: an unfinished line of another call is
        cut first."""
        sink = self._shared or self._sink(tid)
        if sink.open_tid is not None:
            sink.end_line(" <unfinished ...>")
        if self._decorated:
            text = self._leader(tid) + text
        sink.out.write(text)
        sink.column = len(text)  # (a line begins here: the last one ended)
        return sink

    def _line(self, tid: int, text: str) -> None:
        self._begin(tid).end_line(text)

    def _finish(self, sink: _Sink, tid: int, tail: str, result: str) -> None:
        """End the call's line: ``tail`` (its last arguments), the result at its column."""
        column = sink.column + len(tail) + 1
        pad = self._pads[column] if column < self._column else ""
        if self._call_times and tid in self._entered:
            result += f" <{time.monotonic() - self._entered.pop(tid):.6f}>"
        sink.out.write(f"{tail} {pad}= {result}\n")
        sink.open_tid = None
        sink.column = 0

    def _holds(self) -> bool:
        return self._holding

    def _shown(self, name: str) -> bool:
        return self._trace is None or name in self._trace

    def _traced(self, thread) -> _Traced:
        """The thread's :class:`_Traced`, made at its first call (and again after an exec)."""
        traced = self._threads.get(thread.tid)
        if traced is None:
            calls, fixed = self._names.setdefault(thread.arch.name, ({}, {}))
            traced = self._threads[thread.tid] = _Traced(thread, self.options.fd_paths, calls,
                                                         fixed)
        return traced

    def _name(self, thread, traced: _Traced, nr: int) -> str:
        name = traced.calls.get(nr)
        if name is None:
            name = traced.calls[nr] = thread.arch.syscall_name(nr)
            fixed = decode.fixed_entry(name)  # (no carrier: its name is the one shown)
            if fixed is not None and self._path_filter is None and (
                    self._trace is None or name in self._trace):  # (-P: no path, never)
                traced.fixed[nr] = fixed
        return name

    # -- system calls --------------------------------------------------------------------
    def report_syscall_entry(self, att: Attachment, report: Report) -> None:
        tid = att.thread.tid
        traced = self._threads.get(tid)
        if traced is None:
            self._seen.add(tid)
            traced = self._traced(att.thread)
        info = report.syscall
        pending = traced.fixed.get(info.nr)  # getppid(: the same at every call
        if pending is None:
            pending = self._entry(att.thread, traced, info)
            if pending is None:  # not shown (-e trace=)
                return
        self._pending[tid] = pending
        if self._marked:
            self._mark(tid, info.nr, info.instruction_pointer)
        if self._call_times:
            self._entered[tid] = time.monotonic()
        if self._holding:  # the result decides (-z/-Z), or whole lines: print it at the exit
            self._held[tid] = pending.entry_text
            return
        self._begin(tid, pending.entry_text).open_tid = tid

    def _entry(self, thread, traced: _Traced, info) -> decode.Pending | None:
        """The call's entry decoded; None if ``-e trace=`` does not show it."""
        args = info.args
        raw = traced.calls.get(info.nr) or self._name(thread, traced, info.nr)
        trace = self._trace
        if trace is not None:  # -e trace=connect: s390x's socketcall(3, ...) too
            name = subcall_name(raw, args)
            if name not in trace:  # its exit needs no decoding
                self._pending[thread.tid] = decode.Pending(None, "", [], name=name)
                return None
            if self._path_filter is not None and not self._accesses(thread, traced, name,
                                                                    args):
                self._pending[thread.tid] = decode.Pending(None, "", [], name=HIDDEN)
                return None
        return decode.decode_entry(traced.abi, raw, args, traced.memory, self.options,
                                   info.stack_pointer, traced.paths)

    def _accesses(self, thread, traced: _Traced, name: str, args: tuple[int, ...]) -> bool:
        """-P: does the call access one of the paths (strace's rules: engines/path_trace)?"""
        arch_name = thread.arch.name
        paths = self._path_filter.get(arch_name)
        if paths is None:
            paths = self._path_filter[arch_name] = PathFilter(self.options.paths, arch_name)
        return paths.matches(name, args, traced.memory, traced.links, traced.abi.word_size,
                             traced.abi.byteorder)

    def report_syscall_exit(self, att: Attachment, report: Report) -> None:
        tid = att.thread.tid
        info = report.syscall
        pending = self._pending.pop(tid, None)
        rval = info.rval
        error = -rval if info.is_error else None
        if pending is None:
            first = tid not in self._seen
            self._seen.add(tid)
            if self._marked:
                self._mark(tid, info.nr, info.instruction_pointer)
            pending = self._unseen_entry(att, info, first)
            if pending is None:
                return
        name = pending.name
        trace = self._trace
        if trace is not None and name not in trace:
            return
        if self._marked and tid in self._marks:  # -i: a resumed half shows where it is now
            self._mark(tid, info.nr, info.instruction_pointer)  # (after execve: the new image)
        if self._holding:
            status = self.options.status
            if status != "all" and (status == "successful") == (error is not None):
                self._held.pop(tid, None)
                self._entered.pop(tid, None)
                return
            sink = self._begin(tid, self._held.pop(tid, pending.entry_text))
        else:
            sink = self._shared or self._sink(tid)
            if sink.open_tid != tid:
                sink = self._begin(tid, f"<... {name} resumed>")
        # (the memory again: after a non-leader's execve the call goes on under another tid)
        tail = decode.decode_exit(pending, rval, error, self._memory(tid) if pending.rest
                                  else None)
        self._finish(sink, tid, tail, decode.format_result(pending, name, rval, error))

    def _exit_and_dump(self, att: Attachment, report: Report) -> None:
        """-e read= / -e write=: the line, then strace's hex dump of the data it moved."""
        tid = att.thread.tid
        pending = self._pending.get(tid)
        SyscallLogger.report_syscall_exit(self, att, report)
        info = report.syscall
        if (pending is None or pending.ctx is None or info.is_error
                or not self._shown(pending.name) or self.options.status == "failed"):
            return
        traced = self._threads.get(tid)
        abi = traced.abi if traced is not None else decode.abi_for(att.thread.arch.name)
        text = io_dump.dump(pending.name, pending.ctx.args, info.rval, self.options.read_fds,
                            self.options.write_fds, self._memory(tid), abi.word_size,
                            abi.byteorder)
        if text:
            (self._shared or self._sink(tid)).out.write(text)

    def _memory(self, tid: int) -> TraceeMemory:
        traced = self._threads.get(tid)
        return traced.memory if traced is not None else TraceeMemory(tid)

    def _unseen_entry(self, att: Attachment, info, first: bool) -> decode.Pending | None:
        """A call whose entry we did not see: the launch's execve, or one interrupted by
        our attach (shown as strace shows a call resumed after attach)."""
        thread = att.thread
        name = thread.arch.syscall_name(info.nr) if info.nr >= 0 else ""
        abi = decode.abi_for(thread.arch.name)
        if first and name in ("execve", "") and not info.is_error:
            pending = decode.execve_from_stack(abi, TraceeMemory(thread.tid),
                                               info.stack_pointer, self.options)
            if pending is not None:
                if self._path_filter is not None and not self._accesses(
                        thread, self._traced(thread), "execve", pending.ctx.args[:3]):
                    return decode.Pending(None, "", [], name=HIDDEN)  # -P: not its path
                if self._marked:  # -i: the PC it was called from is the old image's
                    self._mark(thread.tid, info.nr, None)
                text = pending.entry_text
                if self._shown("execve"):
                    if self.options.syscall_times:
                        self._entered[thread.tid] = time.monotonic()
                    if self._holds():
                        self._held[thread.tid] = text  # printed whole by the caller
                    else:
                        self._begin(thread.tid, text).open_tid = thread.tid
                return pending
        if not name:
            return None
        pending = decode.decode_entry(abi, name, (), TraceeMemory(thread.tid), self.options)
        if pending.rest:  # (a call with no arguments shares one Pending: left as it is)
            pending.rest = []
        return pending

    def report_exec(self, att: Attachment, report: Report) -> None:
        # The program (and maybe its arch) is new: the thread's state is made again.
        self._threads.pop(att.thread.tid, None)
        if report.old_tid is not None:
            self._threads.pop(report.old_tid, None)
        # A thread other than the leader called execve: it returns as the
        # leader (its tid is the process's now), so its pending call moves.
        if report.old_tid is not None and report.old_tid != att.thread.tid:
            for table in (self._pending, self._held, self._entered):
                if report.old_tid in table:
                    table[att.thread.tid] = table.pop(report.old_tid)
            self._alive.discard(report.old_tid)

    def report_exit(self, att: Attachment, report: Report) -> None:
        tid = att.thread.tid
        pending = self._pending.pop(tid, None)
        if pending is None or not self._shown(pending.name):
            return
        if self.options.status != "all":  # -z/-Z: a call with no result is neither
            self._held.pop(tid, None)
            return
        sink = self._sink(tid)
        if tid in self._held:
            sink = self._begin(tid, self._held.pop(tid))
        elif sink.open_tid != tid:
            sink = self._begin(tid, f"<... {pending.name} resumed>")
        self._entered.pop(tid, None)
        self._finish(sink, tid, (" <unfinished ...>" if pending.rest else "") + ")", "?")

    def report_signal(self, att: Attachment, report: Report) -> None:
        info = report.siginfo
        if info is None or report.signal_action == SignalAction.REPORT:
            return  # no signal: a stop we (or another engine) asked for
        wanted = self.options.signals
        if wanted is not None and info.signo not in wanted:
            return
        abi = decode.abi_for(att.thread.arch.name)
        if self._marked:  # -i: where the signal came (-n: still the thread's last call)
            nr, _pc = self._marks.get(att.thread.tid, (-1, None))
            pc = report.regs.pc if self.options.instruction_pointers else None
            self._mark(att.thread.tid, nr, pc)
        self._line(att.thread.tid, decode.signal_line(bytes(info.raw), abi))

    def report_clone(self, att: Attachment, report: Report) -> None:
        if self.follow and report.child is not None:
            self._seen.add(report.child.tid)  # a child's first stop is no launch
            super().report_clone(att, report)

    def report_death(self, att: Attachment, report: Report) -> None:
        tid = att.thread.tid
        status = report.exit_code or 0
        if self._marked:  # -i: no PC at a death ("[????????????????]")
            self._mark(tid, self._marks.get(tid, (-1, None))[0], None)
        # strace's -q levels: -qq drops "exited with", -qqq also "superseded"; a
        # "killed by" line goes only with its signal (-e signal=), never with -q.
        quiet, wanted = self.options.quiet, self.options.signals
        if report.old_tid is not None:  # strace's words for a leader replaced by an exec
            if quiet < 3:
                self._line(tid, f"+++ superseded by execve in pid {report.old_tid} +++")
        elif os.WIFSIGNALED(status):
            if wanted is None or os.WTERMSIG(status) in wanted:
                self._line(tid, decode.death_line(status))
        elif quiet < 2:
            self._line(tid, decode.death_line(status))
        self._alive.discard(tid)  # after its last line: strace counts it in the prefix rule
        self._threads.pop(tid, None)  # (a tid may come back: a new thread)
        self._marks.pop(tid, None)
        sink = self._sinks.get(tid)
        if sink is not None and self.separate:
            sink.out.flush()
