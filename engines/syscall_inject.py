"""``strace -e inject=``: fail, fake, delay or signal chosen system calls, through the engine API.

Per thread and per call name, the calls are counted at their entry (as
strace counts per tracee); a rule applies to call number ``first``, and then
every ``step``-th after it when ``step`` is set (``when=N``, ``N+``, ``N+S``).

- ``error=E`` / ``retval=N``: the call is not made (``SyscallAction.ABORT``)
  and the program sees -1/E or N (``report.set_syscall_result``).
- ``signal=S``: S is sent to the thread at the entry (``tgkill``), as strace
  does; the call runs unless an error or retval is injected too.
- ``delay_enter=US`` / ``delay_exit=US``: the thread is held at the entry /
  the exit (``STOP``) and let go from a timer thread with ``control(RESUME)``:
  a callback must not sleep, since every traced thread waits for it.

The exit report shows what was injected: this engine is attached before the
log's engines (the trace command does so) and rewrites ``report.syscall``'s
result at the exit, which the engines after it see.
"""

from __future__ import annotations

import threading
from collections import Counter

from pydbg_utrace import (
    Attachment,
    Event,
    NoSuchThreadError,
    Report,
    Resume,
    SyscallAction,
    UtraceError,
    kernel,
)

from .following import FollowingEngine
from .trace_options import Injection


def applies(rule: Injection, count: int) -> bool:
    """Whether ``rule`` applies to the ``count``-th call (1-based) of its syscall."""
    if count < rule.first:
        return False
    if rule.step == 0:
        return count == rule.first
    return (count - rule.first) % rule.step == 0


class SyscallInjector(FollowingEngine):
    """Applies ``injections`` to the threads it is attached to."""

    name = "syscall-inject"
    wanted = Event.SYSCALL_ENTRY | Event.SYSCALL_EXIT | Event.EXEC

    def __init__(self, injections: tuple[Injection, ...], follow: bool = False) -> None:
        super().__init__(follow)
        self.rules: dict[str, list[Injection]] = {}
        for rule in injections:
            self.rules.setdefault(rule.syscall, []).append(rule)
        self._counts: dict[int, Counter[str]] = {}
        self._faked: dict[int, tuple[int, int | None]] = {}  # tid -> (value, errno) at exit
        self._exit_delay: dict[int, int] = {}  # tid -> microseconds to hold its call's exit
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()

    def report_syscall_entry(self, att: Attachment, report: Report):
        thread = att.thread
        name = thread.arch.syscall_name(report.syscall.nr)
        rules = self.rules.get(name)
        if not rules:
            return None
        if report.resumed:  # the same call again: keep what was decided for it
            return (Resume.RESUME, SyscallAction.ABORT) if thread.tid in self._faked else None
        counts = self._counts.setdefault(thread.tid, Counter())
        counts[name] += 1
        rule = next((r for r in rules if applies(r, counts[name])), None)
        if rule is None:
            return None
        if rule.signal:
            kernel.tgkill(thread.process.pid, thread.tid, rule.signal)
        disposition = SyscallAction.RUN
        if rule.error is not None or rule.retval is not None:
            value, err = (-1, rule.error) if rule.error is not None else (rule.retval, None)
            report.set_syscall_result(value if err is None else 0, errno=err)
            self._faked[thread.tid] = (value, err)
            disposition = SyscallAction.ABORT
        if rule.delay_exit_us:
            self._exit_delay[thread.tid] = rule.delay_exit_us
        resume = Resume.RESUME
        if rule.delay_enter_us:
            resume = Resume.STOP
            self._release_later(att, rule.delay_enter_us / 1e6)
        return (resume, disposition)

    def report_syscall_exit(self, att: Attachment, report: Report):
        faked = self._faked.pop(att.thread.tid, None)
        if faked is not None:  # the kernel's -ENOSYS of the skipped call: show ours
            value, err = faked
            report.syscall.rval = -err if err is not None else value
            report.syscall.is_error = err is not None
        delay = self._exit_delay.pop(att.thread.tid, None)
        if delay:
            self._release_later(att, delay / 1e6)
            return Resume.STOP
        return None

    def report_exec(self, att: Attachment, report: Report) -> None:
        # A non-leader's execve returns under the leader's tid: its exit delay follows it.
        if report.old_tid is not None and report.old_tid != att.thread.tid:
            delay = self._exit_delay.pop(report.old_tid, None)
            if delay is not None:
                self._exit_delay[att.thread.tid] = delay

    def _release_later(self, att: Attachment, seconds: float) -> None:
        def release() -> None:
            with self._lock:
                self._timers.discard(timer)
            try:
                att.control(Resume.RESUME)
            except (NoSuchThreadError, UtraceError, RuntimeError):
                pass  # it died (SIGKILL wins) or the tracer closed: nothing to release

        timer = threading.Timer(seconds, release)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def release_all(self) -> None:
        """Let every delayed thread go now (before the tracer closes)."""
        with self._lock:
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()
            timer.function()
