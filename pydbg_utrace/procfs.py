"""What /proc says about a task: the one place that reads /proc/TID/status and friends.

Every reader returns a neutral value when the file cannot be read (the task
is gone, or not ours to see) instead of raising: callers ask about threads
that may die at any moment, and "gone" is an answer, not an error.  Pure
parsing (:func:`parse_status`) is separate from the reading, so it is
unit-tested on text.
"""

from __future__ import annotations

import os


def parse_status(text: str) -> dict[str, str]:
    """``/proc/TID/status`` as ``{field: value}`` (``"Tgid": "1234"``, ``"SigCgt": "...``)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key] = value.strip()
    return fields


def status(tid: int) -> dict[str, str]:
    """The fields of ``/proc/TID/status``; ``{}`` if it cannot be read."""
    try:
        with open(f"/proc/{tid}/status") as file:
            return parse_status(file.read())
    except OSError:
        return {}


def number(tid: int, name: str) -> int:
    """A decimal field of ``/proc/TID/status`` (``Tgid``, ``PPid``...); 0 if unreadable."""
    value = status(tid).get(name, "")
    return int(value.split()[0]) if value else 0


def tgid(tid: int) -> int:
    """The thread group (process) of ``tid``; ``tid`` itself if unknown."""
    return number(tid, "Tgid") or tid


def parent_of(tid: int) -> int:
    """The real parent's pid (``PPid``); 0 if unknown."""
    return number(tid, "PPid")


def tracer_of(tid: int) -> int:
    """The pid of the thread's ptracer (``TracerPid``); 0 if none or unknown."""
    return number(tid, "TracerPid")


def state(tid: int) -> str:
    """The one-letter ``State`` ("?" if it cannot be read)."""
    value = status(tid).get("State", "")
    return value.split()[0] if value else "?"


def signal_masks(tid: int) -> dict[str, int]:
    """``SigPnd``, ``ShdPnd``, ``SigBlk``, ``SigIgn``, ``SigCgt`` as ints (missing: 0)."""
    fields = status(tid)
    return {name: int(fields.get(name, "0"), 16)
            for name in ("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")}


def pending_unblocked(tid: int, signo: int) -> bool:
    """Does the thread's own pending set (``SigPnd``) hold ``signo``, not blocked?"""
    masks = signal_masks(tid)
    bit = 1 << (signo - 1)
    return bool(masks["SigPnd"] & bit and not masks["SigBlk"] & bit)


def blocked_in_syscall(tid: int) -> int | None:
    """The system call ``tid`` is blocked in (``/proc/TID/syscall``).

    None while it runs on a CPU ("running"), when it is in no call (-1), or
    when the file cannot be read.
    """
    try:
        with open(f"/proc/{tid}/syscall") as file:
            first = file.read().split(maxsplit=1)
    except OSError:
        return None
    if not first or not first[0].lstrip("-").isdigit() or int(first[0]) < 0:
        return None
    return int(first[0])


def task_state(pid: int, tid: int) -> str:
    """The one-letter state in ``/proc/PID/task/TID/stat`` ('' once it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as stat:
            data = stat.read()
    except OSError:
        return ""
    return data[data.rindex(")") + 2]


def task_ids(pid: int) -> list[int]:
    """The tids in ``/proc/PID/task`` ([] if it cannot be listed)."""
    try:
        return [int(name) for name in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []
