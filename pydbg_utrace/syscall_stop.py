"""A syscall stop on the fast lane: lazily read syscall info, and a light report.

The lane (:mod:`pydbg_utrace.lane`) decides; this module (and ``lane.LaneState``)
keep the data of one thread's syscall stops so that a stop costs only what
it uses:

* **Entry or exit** is known without asking the kernel when the last stop
  was a syscall stop that we resumed with a plain ``PTRACE_SYSCALL`` and the
  next status is a syscall stop again: after an entry comes its exit, after
  an exit the next entry (anything in between -- a signal, an event, exec,
  an interrupt -- is another kind of stop, which forgets it).
* **GET_SYSCALL_INFO** is requested at an entry or an exit only when an
  engine reads ``report.syscall``.  An exit carries the entry's number
  and arguments: the entry's info where it was read, else the exit stop's
  registers (``Arch.syscall_at_exit``).  Where the registers lose them
  (``Arch.keeps_syscall_at_exit`` false), or while the thread's exit reports
  read them, the tracer reads the entry's info at every entry stop whose
  exit some engine wants (``LaneState.fetch_entry``).
"""

from __future__ import annotations

from . import dispatch, kernel
from .engine import Report
from .events import Event, SyscallAction

ENTRY = kernel.PTRACE_SYSCALL_INFO_ENTRY
EXIT = kernel.PTRACE_SYSCALL_INFO_EXIT
#: The op the stop after a plain PTRACE_SYSCALL from this one will have.
NEXT_OP = {ENTRY: EXIT, EXIT: ENTRY}


_SET_HERE = ("event", "thread", "action", "syscall_action", "_tracer")
_RUN = SyscallAction.RUN
_ENTRY_EVENT = Event.SYSCALL_ENTRY


class SyscallReport(Report):
    """A :class:`Report` for a syscall stop that fills only what is read.

    ``syscall`` is fetched on first read; the fields a
    syscall report does not use read as ``None`` (``resumed`` as False)
    without being set one by one at every stop.  The tracer reuses one for
    the thread's next stop (:meth:`renew`) only if nothing else holds a
    reference to it and no engine wrote one of those other fields
    (``written``: such a write takes it out of ``LaneState.report`` at once).
    """

    __slots__ = ("_entry", "written", "_info")

    def __init__(self, tracer, thread, event, syscall: kernel.SyscallInfo | None,
                 entry: kernel.SyscallInfo | None):
        # (Report's own constructor, whose writes of the odd fields go through
        # the defaulted properties below and mark it written: not yet, then.)
        Report.__init__(self, tracer, thread, event)
        self.written = False
        self.renew(event, syscall, entry, _RUN if event == _ENTRY_EVENT else None)

    def renew(self, event, syscall: kernel.SyscallInfo | None,
              entry: kernel.SyscallInfo | None, syscall_action: SyscallAction | None) -> None:
        """Make it the report of a new stop of the same thread.

        ``syscall_action``: RUN at an entry, None at an exit (dispatch's start).
        (``action`` is not reset: the lane and dispatch set it before each callback.)
        """
        self.event = event
        self.syscall_action = syscall_action
        self._entry = entry  # exit: the entry whose number and arguments it carries
        self._info = syscall  # None: not fetched yet (a syscall stop always has one)

    @property
    def syscall(self) -> kernel.SyscallInfo:
        info = self._info
        if info is not None:
            return info
        thread = self.thread
        try:
            info = kernel.get_syscall_info(thread.tid)
            if info.op == EXIT:
                entry = self._entry
                if entry is not None:
                    info.nr, info.args = entry.nr, entry.args
                else:  # the entry was not read (nobody asked then): the registers have it
                    info.nr, info.args = _entry_from_registers(thread)
                lane = thread.lane
                if lane is not None:
                    lane.fetch_entry = True  # this thread's exits read it: read entries
            elif info.op == ENTRY:
                thread.syscall = info  # kept for a resumed entry report and for the exit
        except kernel.NoSuchProcessError as exc:
            # Killed (a group exit) since it stopped: not the reading engine's fault.
            raise ThreadGoneError(exc.errno, exc.request, exc.pid) from None
        self._info = info
        return info

    @syscall.setter
    def syscall(self, value: kernel.SyscallInfo | None) -> None:
        self._info = value


class ThreadGoneError(kernel.NoSuchProcessError, dispatch.ReportCutShort):
    """``report.syscall`` of a thread killed since its stop (see dispatch.ReportCutShort)."""


def _entry_from_registers(thread) -> tuple[int, tuple[int, ...]]:
    """At an exit stop: the call's number and arguments from the registers (-1, () if lost)."""
    arch = thread.arch
    regs = arch.registers(kernel.get_regset(thread.tid, kernel.NT_PRSTATUS, arch.regset_size))
    known = arch.syscall_at_exit(regs)
    return (-1, ()) if known is None else known


def _defaulted(name: str, default: object) -> property:
    slot = getattr(Report, name)

    def get(self):
        try:
            return slot.__get__(self)
        except AttributeError:
            return default

    def put(self, value):
        self.written = True
        lane = self.thread.lane
        if lane is not None and lane.report is self:
            lane.report = None  # a report with such a change is not reused
        slot.__set__(self, value)

    return property(get, put)


# Every other field of Report, read as its default until written (generic, so
# that a field added to Report later is covered without touching this file).
for _name in Report.__slots__:
    if _name not in _SET_HERE and _name != "syscall":
        setattr(SyscallReport, _name, _defaulted(_name, False if _name == "resumed" else None))
del _name
