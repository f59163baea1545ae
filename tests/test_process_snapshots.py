"""Process.thread_list() and main_thread: the thread table is read by its owner
(docs/architecture.md, "Who owns what"); no process, a fake handle.

``Process.threads`` is the tracer thread's table.  A front end's thread
that iterates it can meet a clone or a death midway; the snapshot is taken
by the tracer thread (the handle's ``call``), and read directly once the
tracer is gone (nothing changes it then).
"""

from __future__ import annotations

import pytest

from pydbg_utrace import NoSuchThreadError, Process, Thread


class Handle:
    """The tracer's side as a process sees it: ``call`` records that it was the owner."""

    def __init__(self, closed: bool = False) -> None:
        self.calls = 0
        self.closed = closed

    def call(self, fn, *args):
        if self.closed:
            raise RuntimeError("the tracer is closed")
        self.calls += 1
        return fn(*args)


def process_with(handle: Handle, tids: list[int]) -> Process:
    process = Process(handle, pid=100, is_child=True)
    for tid in tids:
        process.threads[tid] = Thread(handle, tid, process)
    return process


def test_the_snapshot_is_taken_by_the_owner_and_is_a_copy():
    handle = Handle()
    process = process_with(handle, [100, 101])
    threads = process.thread_list()
    assert [t.tid for t in threads] == [100, 101] and handle.calls == 1
    process.threads.pop(101)  # a death after the snapshot does not change it
    assert len(threads) == 2


def test_main_thread_without_its_leader_looks_through_the_owner():
    handle = Handle()
    process = process_with(handle, [100, 101])
    assert process.main_thread.tid == 100 and handle.calls == 0  # one lookup: no round trip
    del process.threads[100]  # the leader is gone (pthread_exit, then its death)
    assert process.main_thread.tid == 101 and handle.calls == 1
    process.threads.clear()
    with pytest.raises(NoSuchThreadError):
        _ = process.main_thread


def test_once_the_tracer_is_gone_the_table_is_read_as_it_is():
    process = process_with(Handle(closed=True), [100, 102])
    assert [t.tid for t in process.thread_list()] == [100, 102]
