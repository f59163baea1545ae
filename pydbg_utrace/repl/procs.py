"""Processes on the machine, for ``ps`` and ``attach NAME`` (psutil)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    user: str
    threads: int
    name: str
    command: str

    def line(self) -> str:
        return f"{self.pid:>7}  {self.user[:10]:<10} {self.threads:>4}  {self.command}"[:79]


HEADER = f"{'PID':>7}  {'USER':<10} {'THR':>4}  COMMAND"


def processes() -> list[ProcessInfo]:
    """Every process we can see, but not ourselves (a debugger cannot trace itself)."""
    out = []
    attrs = ["pid", "username", "num_threads", "name", "cmdline", "exe"]
    for proc in psutil.process_iter(attrs):
        info = proc.info
        if info["pid"] == os.getpid() or _is_kernel_thread(info):
            continue
        command = " ".join(info["cmdline"] or []) or f"[{info['name']}]"
        out.append(ProcessInfo(info["pid"], info["username"] or "?",
                               info["num_threads"] or 0, info["name"] or "", command))
    return out


def _is_kernel_thread(info: dict) -> bool:
    return not info["cmdline"] and not info["exe"]


def matching(name: str) -> list[ProcessInfo]:
    """Processes whose name, or executable's base name, is ``name``."""
    found = []
    for proc in processes():
        argv0 = proc.command.split()[0] if proc.command else ""
        if name in (proc.name, os.path.basename(argv0)):
            found.append(proc)
    return found


def find_one(name: str) -> ProcessInfo:
    """The one process called ``name``; LookupError saying why not (none, or several)."""
    found = matching(name)
    if not found:
        raise LookupError(f"No process named {name!r} (see `ps`).")
    if len(found) > 1:
        pids = ", ".join(str(p.pid) for p in found[:10])
        raise LookupError(f"{len(found)} processes are named {name!r} (pids {pids}): "
                          "attach by pid.")
    return found[0]
