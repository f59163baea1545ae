"""Tracees driven line by line on stdin, attached to while they run.

Such a tracee prints one address first (what the test is about), then obeys
commands and answers each with one line: the tests synchronise on those
lines, never on time.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

from pydbg_utrace import Event


def spawn(path: str, tracer) -> Iterator[tuple[subprocess.Popen, int]]:
    """A fixture body: yields ``(child, address)``; closes ``tracer`` before reaping."""
    child = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, bufsize=1)
    address = int(child.stdout.readline(), 16)
    yield child, address
    tracer.close()  # before our wait(): the kernel would give it the tracer's stops
    child.kill()
    child.wait()


def command(child: subprocess.Popen, line: str) -> str:
    """Send one command line; the tracee's one-line answer."""
    child.stdin.write(line + "\n")
    return child.stdout.readline().strip()


def attach(tracer, child: subprocess.Popen, *engines):
    """Trace ``child``; each engine on its main thread with CLONE (to follow threads)."""
    process = tracer.attach_process(child.pid)
    atts = []
    for engine in engines:
        att = process.main_thread.attach(engine)
        att.set_events(Event.CLONE)
        atts.append(att)
    return process, atts
