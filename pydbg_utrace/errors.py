"""Exceptions of the engine API, one per kernel utrace error code.

utrace returns ``-EINPROGRESS``, ``-ESRCH``, ``-EALREADY``... from
``utrace_control`` and friends; here each becomes an exception with the same
meaning.  All derive from :class:`UtraceError`.  Errors of the system calls
underneath are :class:`pydbg_utrace.kernel.KernelError`.
"""

from __future__ import annotations

import errno


class UtraceError(Exception):
    """Base of the engine API's errors; ``errno`` is the kernel code it mirrors."""

    errno: int = 0


class InProgressError(UtraceError):
    """-EINPROGRESS: accepted, but it takes effect later (e.g. STOP on a running thread)."""

    errno = errno.EINPROGRESS


class NoSuchThreadError(UtraceError):
    """-ESRCH: the thread is dead or the engine is detached."""

    errno = errno.ESRCH


class AlreadyError(UtraceError):
    """-EALREADY: too late (e.g. the death report already began)."""

    errno = errno.EALREADY


class InvalidError(UtraceError):
    """-EINVAL: not allowed in this state (e.g. SINGLESTEP without QUIESCE in events)."""

    errno = errno.EINVAL


class NotSupportedError(UtraceError):
    """-EOPNOTSUPP: this architecture cannot do it (e.g. no hardware step)."""

    errno = errno.EOPNOTSUPP


class ExistsError(UtraceError):
    """-EEXIST: attach with CREATE|EXCLUSIVE found a matching engine."""

    errno = errno.EEXIST


class NotFoundError(UtraceError):
    """-ENOENT: attach without CREATE found no matching engine."""

    errno = errno.ENOENT


class NotStoppedError(UtraceError):
    """``examine`` on a thread that this engine does not hold stopped."""

    errno = errno.EAGAIN
