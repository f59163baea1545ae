"""The real parent of the attach/detach family (tracees/stopped-child.c), remote-controlled.

The debugger under test must be *transparent* to this parent: what its
``waitpid(WUNTRACED|WCONTINUED)`` reports is the same with or without a
debugger attached.  This class asks it and reads its answers.
"""

from __future__ import annotations

import os

from .raw import Pipes
from .util import Fail, threads_of


class RealParent:
    def __init__(self, pipes: Pipes, pid: int):
        self.io = pipes
        self.pid = pid
        self.child = pipes.expect_int("child")

    def wait(self, block: bool = False) -> str:
        """What the parent's waitpid says now: 'none', 'stopped 19', 'continued', ..."""
        self.io.go(b"W" if block else b"w")
        return " ".join(self.io.expect("wait"))

    def expect_wait(self, want: str, block: bool = False, why: str = "") -> None:
        got = self.wait(block)
        if got != want:
            raise Fail(f"real parent's waitpid: got {got!r}, want {want!r}{why}")

    def signal(self, letter: str) -> None:
        self.io.go(letter.encode())
        self.io.expect("sent")

    def wait_stopped(self, nthreads: int) -> list[int]:
        """Block until the parent has seen the child stop; return the child's threads."""
        self.expect_wait("stopped 19", block=True)
        tids = threads_of(self.child)
        if len(tids) != nthreads:
            raise Fail(f"child has {len(tids)} threads, expected {nthreads}")
        return tids

    def quit(self) -> None:
        """Tell the parent to exit, and reap it (it is our child)."""
        self.io.go(b"q")
        os.waitpid(self.pid, 0)
