"""Which path a thread's system calls take (seccomp.scope_of), without a process.

The fast lane serves a filtered thread's seccomp and exit stops only when its
scope is *uniform*: fast, and every attachment that wants syscall events
narrowed to exactly the filter's numbers (so every traced call is told to all
of them, as the lane's plan calls them).  Anything less goes the general way.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pydbg_utrace import arch
from pydbg_utrace.events import Event
from pydbg_utrace.seccomp import launch_scope, scope_of

OPENAT, CLOSE, GETPPID = 257, 3, 110
FILTER = frozenset({OPENAT, CLOSE})


def thread(filtered, *attachments):
    atts = [SimpleNamespace(syscall_filter=None if numbers is None else frozenset(numbers),
                            events=events) for numbers, events in attachments]
    return SimpleNamespace(process=SimpleNamespace(syscall_filter=filtered),
                           attachments=atts, syscall_scope=None)


@pytest.mark.parametrize(("attachments", "fast", "uniform"), [
    # every syscall engine narrowed to exactly the filter: the lane's case
    ([(FILTER, Event.SYSCALL)], True, True),
    ([(FILTER, Event.SYSCALL_ENTRY), (FILTER, Event.SYSCALL)], True, True),
    # an engine without syscall events does not count, whatever its filter
    ([(FILTER, Event.SYSCALL), (None, Event.CLONE), ({GETPPID}, Event.EXIT)], True, True),
    # narrower than the filter: fast, but a call's audience depends on its number
    ([(FILTER, Event.SYSCALL), ({OPENAT}, Event.SYSCALL_ENTRY)], True, False),
    ([({OPENAT}, Event.SYSCALL)], True, False),
    # wider than the filter, or not narrowed: the full path
    ([(FILTER | {GETPPID}, Event.SYSCALL)], False, False),
    ([(FILTER, Event.SYSCALL), (None, Event.SYSCALL_EXIT)], False, False),
])
def test_uniform_only_when_every_syscall_engine_wants_exactly_the_filter(attachments, fast,
                                                                         uniform):
    scope = scope_of(thread(FILTER, *attachments))
    assert (scope.fast, scope.uniform) == (fast, uniform)


def test_without_a_filter_nothing_is_fast_or_uniform():
    scope = scope_of(thread(None, (FILTER, Event.SYSCALL)))
    assert scope.narrowed and not scope.fast and not scope.uniform
    assert scope_of(thread(None, (None, Event.SYSCALL))) is None  # the plain case


EXECVE = arch.host().syscall_number_of("execve")


def test_the_launchs_execve_exit_is_owed_and_told_even_without_its_number():
    """launch_scope: the filter traced the launch's execve before any engine: its exit
    stop is owed (the first resume is PTRACE_SYSCALL) and told to the engines that want
    execve, also where the exit stop has no number (-1: ppc64, whose exec resets it)."""
    assert launch_scope(None, True) is None and launch_scope(FILTER | {EXECVE}, False) is None
    for nr in (EXECVE, -1):
        t = thread(FILTER | {EXECVE}, (FILTER | {EXECVE}, Event.SYSCALL),
                   ({OPENAT}, Event.SYSCALL))
        t.syscall_scope = launch_scope(t.process.syscall_filter, True)
        scope = scope_of(t)  # the engines attached: the promise is kept
        assert scope.wants_stops(watchers=2)
        assert scope.exit_audience(t.attachments, nr) == t.attachments[:1]
        assert not scope.wants_stops(watchers=2)  # then the fast path
