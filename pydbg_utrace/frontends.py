"""What the command-line front ends (``gdbserver``, ``trace``) share.

Waiting for a traced program in a way Ctrl-C can interrupt, and the one line
an error becomes on stderr.
"""

from __future__ import annotations

from pydbg_utrace import Process


def wait_interruptibly(process: Process) -> int:
    """The program's wait status, once it ends.

    Waits in short slices so that Ctrl-C reaches the main thread promptly.
    """
    while True:
        status = process.wait(0.5)
        if status is not None:
            return status


def describe(exc: BaseException) -> str:
    """An error as one line: the system's words for an OSError of no file, else str()."""
    if isinstance(exc, OSError) and exc.filename is None and exc.strerror:
        return exc.strerror
    return str(exc)
