"""pydbg-utrace: a utrace-style multiplexer of tracing engines on Linux ptrace.

Many independent engines share the one ptracer the kernel allows: each has
its own event mask and callbacks, and their answers combine by the rules of
the kernel's utrace (see docs/engine-api.md).
"""

from . import arch, kernel
from .engine import Attachment, Engine, Report
from .errors import (
    AlreadyError,
    ExistsError,
    InProgressError,
    InvalidError,
    NoSuchThreadError,
    NotFoundError,
    NotStoppedError,
    NotSupportedError,
    UtraceError,
)
from .events import Action, AttachFlags, Event, JobControl, Resume, SignalAction, SyscallAction
from .memory import read_memory, read_string
from .process import Process, State, Thread
from .tracer import Tracer

__all__ = [
    "Action", "AlreadyError", "AttachFlags", "Attachment", "Engine", "Event", "ExistsError",
    "InProgressError", "InvalidError", "JobControl", "NoSuchThreadError", "NotFoundError",
    "NotStoppedError", "NotSupportedError", "Process", "Report", "Resume", "SignalAction",
    "State", "SyscallAction", "Thread", "Tracer", "UtraceError", "arch", "kernel", "read_memory",
    "read_string",
]
