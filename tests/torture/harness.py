"""One torture run's state and the checks every mode shares.

A :class:`Run` holds the seed's random stream, what the untraced run did
(the reference), the problems found so far, and the phase the driver is in
(so that a hang names where it hung).  Modes (``modes.py``) drive the
program; the checks here compare what happened with the reference.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import procfs
from storm_engines import SI_KERNEL, Census, Churner

from pydbg_utrace import Tracer, arch
from pydbg_utrace.symbols import Symbols

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "tracees" / "torture_storm.c"
BUILD = HERE.parent / "_build"
STATUS = 23  # the storm's exit status
BYSTANDER_STATUS = 42
SCALE = float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))
# Under qemu's emulation (the ppc64le/s390x guests) every stop costs ~100x:
# a smaller storm there.
EMULATED = arch.host().name != "x86_64"
TARGETS = ("storm_target", "on_usr1")  # breakpoint addresses: the loop, a signal handler
TRACER_THREAD = "pydbg-utrace tracer"  # the name the core gives its thread


class Abandon(Exception):
    """The tracer is wedged: stop driving it, report what we have."""


def storm_binary() -> str:
    """The storm, prebuilt (``PYDBG_UTRACE_TRACEES``, the guests) or compiled as the tests do."""
    prebuilt = os.environ.get("PYDBG_UTRACE_TRACEES")
    if prebuilt:
        return str(Path(prebuilt) / "torture_storm")
    binary = BUILD / "torture_storm"
    if binary.exists() and binary.stat().st_mtime >= SOURCE.stat().st_mtime:
        return str(binary)
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        raise RuntimeError(f"no C compiler {compiler!r} to build the storm (apt-get install gcc)")
    BUILD.mkdir(exist_ok=True)
    tmp = binary.with_suffix(f".{os.getpid()}.tmp")
    subprocess.run([compiler, "-O0", "-g", "-Wl,-z,now", "-pthread", "-o", str(tmp),
                    str(SOURCE)], check=True)
    tmp.replace(binary)
    return str(binary)


class LogTrap(logging.Handler):
    """Keeps what the core logs at WARNING and above (an error log is a finding)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage().splitlines()[0]
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line += f": {type(exc).__name__}: {exc}"
        self.lines.append(line)


class Run:
    """One seed of one mode."""

    def __init__(self, seed: int, mode: str, storm: str) -> None:
        self.seed = seed
        self.mode = mode
        self.storm = storm
        self.rng = random.Random(f"{mode}:{seed}")
        self.problems: list[str] = []
        self.notes: dict[str, Any] = {}
        self.phase = "start"
        self.pid: int | None = None
        self.log = LogTrap()
        logging.getLogger("pydbg_utrace").addHandler(self.log)
        self.expected_logs: list[str] = []  # substrings of log lines a mode provoked
        self.reference: tuple[int, str] | None = None
        self.tracer: Tracer | None = None
        self.started = time.monotonic()

    # -- the program ---------------------------------------------------------------
    def argv(self, *flags: str, rounds: int | None = None) -> list[str]:
        if rounds is None:
            rounds = self.rng.randint(2, 3) if EMULATED else self.rng.randint(4, 8)
        threads, calls = (3, 30) if EMULATED else (4, 200)
        return [self.storm, str(self.seed), "-r", str(rounds), "-t", str(threads),
                "-c", str(calls), *flags]

    def untraced(self, argv: list[str]) -> tuple[int, str]:
        """The reference: what the storm does with nobody watching."""
        self.phase = "untraced reference run"
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=30 * SCALE)
        if done.returncode != STATUS:
            raise RuntimeError(f"the untraced storm exited {done.returncode}: {done.stderr}")
        self.reference = (done.returncode, done.stdout)
        return self.reference

    def launch(self, tracer: Tracer, argv: list[str], census: Census):
        """Launch traced with stdout to a pipe; the census on the main thread."""
        self.phase = "launch"
        read_end, write_end = os.pipe()
        try:
            process = tracer.launch(argv, stdout=write_end)
        finally:
            os.close(write_end)
        self.output_fd = read_end
        self.tracer = tracer
        self.pid = census.main_pid = process.pid
        census.attach_to(process.main_thread)
        return process

    def read_output(self) -> str:
        self.phase = "read the program's output"
        chunks = []
        while chunk := os.read(self.output_fd, 65536):
            chunks.append(chunk)
        os.close(self.output_fd)
        return b"".join(chunks).decode(errors="replace")

    def targets(self, pid: int) -> dict[int, bytes]:
        """Breakpoint addresses and the program's own bytes there."""
        symbols = Symbols(pid)
        found = {}
        for name in TARGETS:
            address = symbols.address_of(name)
            found[address] = procfs.read_code(pid, address, 16)
        return found

    def wait_program(self, process, limit: float = 120.0) -> int | None:
        """The program's wait status; a tracer thread that died meanwhile is a verdict."""
        self.phase = "wait for the program to end (tracer running)"
        deadline = time.monotonic() + limit * SCALE
        while time.monotonic() < deadline:
            status = process.wait(0.1)
            if status is not None:
                return status
            if not any(t.name == TRACER_THREAD and t.is_alive() for t in threading.enumerate()):
                self.problem("the tracer thread is gone while the program runs "
                             f"(logged: {self.log.lines[-1:] or 'nothing'})")
                raise Abandon("tracer thread gone")
        return None

    def tracer_view(self, tid: int) -> str:
        """What the tracer believes of thread ``tid`` (for the hang dump)."""
        try:
            thread = self.tracer.thread(tid) if self.tracer else None
        except KeyError:
            return "not traced"
        if thread is None:
            return "?"
        return f"{thread.state.value}, {len(thread.holds)} holds"

    # -- pacing and bounds ---------------------------------------------------------
    def pace(self, census: Census, most: int = 6) -> bool:
        """Let the program make a few reports' worth of progress; False once it ended."""
        census.progress.wait_for(self.rng.randint(1, most), 0.05 * SCALE)
        return not census.progress.finished

    def bounded(self, what: str, fn: Callable, *args: Any, limit: float = 3.0) -> Any:
        """Call ``fn`` on a helper thread; a hang becomes a problem and abandons the run."""
        result: dict[str, Any] = {}

        def call() -> None:
            try:
                result["value"] = fn(*args)
            except BaseException as exc:  # handed back to the caller
                result["error"] = exc

        helper = threading.Thread(target=call, daemon=True, name=f"torture: {what}")
        helper.start()
        helper.join(limit * SCALE)
        if helper.is_alive():
            self.problem(f"hang: {what} did not return within {limit * SCALE:.0f} s")
            raise Abandon(what)
        if "error" in result:
            raise result["error"]
        return result.get("value")

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    # -- the checks ----------------------------------------------------------------
    def check_outcome(self, status: int | None, output: str) -> None:
        """Exit status and output (the checksum) equal to the untraced run's."""
        assert self.reference is not None
        ref_status, ref_output = self.reference
        if status is None:
            self.problem("the program never finished")
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name
            when = " after close() let it go running" if self.notes.get("closed_running") else ""
            self.problem(f"the program was killed by {name}{when} (untraced: exit {ref_status})")
        elif os.WEXITSTATUS(status) != ref_status:
            self.problem(f"exit {os.WEXITSTATUS(status)}, untraced {ref_status}")
        if status is not None and output != ref_output:
            self.problem(f"output {_lines(output)} != untraced {_lines(ref_output)}")

    def check_census(self, census: Census, unfinished_ok: bool = False) -> None:
        """One DEATH and one REAP per thread seen; no SIGTRAP shown to engines."""
        wrong = []
        for key, (_thread, tid, how) in list(census.threads.items()):
            deaths, reaps = census.deaths[key], census.reaps[key]
            if unfinished_ok and deaths == reaps == 0:
                continue  # still alive when we let go
            if (deaths, reaps) != (1, 1):
                exits = census.exits[key]
                wrong.append(f"{tid} ({how}): {exits} EXIT, {deaths} DEATH, {reaps} REAP")
        if wrong:
            self.problem(f"{len(wrong)} of {len(census.threads)} threads without one DEATH and "
                         f"one REAP: " + "; ".join(wrong[:4]))
        if census.sigtraps:
            kernel = sum(1 for _, code in census.sigtraps if code == SI_KERNEL)
            tid, code = census.sigtraps[0]
            self.problem(f"SIGTRAP shown to engines {len(census.sigtraps)} times "
                         f"({kernel} with si_code 0x80 SI_KERNEL), first in thread {tid} "
                         f"si_code {code:#x}")
        for tid, name, pc in census.faults:
            where = f" at pc {pc:#x}" if pc is not None else ""
            self.problem(f"{name} shown to engines in thread {tid}{where}")
        self.notes["threads"] = len(census.threads)
        self.notes["processes"] = census.processes

    def check_churner(self, churner: Churner) -> None:
        self.notes["hits"] = churner.hits
        for text in churner.wrong_pc:
            self.problem(f"report_breakpoint with the PC not rewound: {text}")

    def check_let_go(self, pid: int, targets: dict[int, bytes]) -> bool:
        """After close()/detach: no thread stopped or traced, every original byte back.

        False if the program was already gone (nothing to check).
        """
        self.phase = "check the program after close()"
        states = procfs.task_states(pid)
        if not states:
            return False
        stopped = {tid: st for tid, (st, _) in states.items() if st in "tT"}
        traced = {tid: tracer for tid, (_, tracer) in states.items() if tracer}
        if stopped:
            self.problem(f"after close(): threads left stopped {_few(stopped)}")
        if traced:
            self.problem(f"after close(): threads still traced (TracerPid) {_few(traced)}")
        for address, original in targets.items():
            try:
                now = procfs.read_code(pid, address, len(original))
            except OSError:
                return True  # exited meanwhile
            if now != original:
                self.problem(f"after close(): code at {address:#x} is {now[:4].hex()}, "
                             f"the program's own bytes are {original[:4].hex()}")
        return True

    def check_logs(self) -> None:
        """The core logs an error only when something went wrong (or a mode provoked it)."""
        unexpected = [line for line in self.log.lines
                      if not any(mark in line for mark in self.expected_logs)]
        if unexpected:
            self.problem(f"the core logged {len(unexpected)} warnings/errors, first: "
                         f"{unexpected[0]!r}")

    def start_bystander(self) -> subprocess.Popen:
        """A child of the host program beside the tracer: it must keep its exit code."""
        return subprocess.Popen([self.storm, "--child", str(BYSTANDER_STATUS)])

    def check_bystander(self, bystander: subprocess.Popen) -> None:
        self.phase = "wait for the bystander child"
        code = bystander.wait(timeout=10 * SCALE)
        if code != BYSTANDER_STATUS:
            self.problem(f"the host's own child (subprocess.Popen) exited {code}, "
                         f"it returned {BYSTANDER_STATUS}")


def _lines(text: str) -> str:
    return repr(text.strip().replace("\n", " | ")[:120])


def _few(mapping: dict) -> str:
    items = sorted(mapping.items())
    shown = ", ".join(f"{k}: {v}" for k, v in items[:5])
    return f"{{{shown}{', ...' if len(items) > 5 else ''}}} of {len(items)}"
