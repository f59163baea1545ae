"""Breakpoints that come and go while threads run, and tracers that go away (issue 14).

Each test drives tests/tracees/trapchurn.c over stdin (one answer line per
command) and is bounded: an answer, a hit or a close() that never comes fails
the test after TIMEOUT instead of hanging the suite.  The random parts are
seeded (SEED), so a failure reproduces.
"""

from __future__ import annotations

import os
import queue
import random
import select
import signal
import subprocess
import sys
import threading

import pytest

from pydbg_utrace import (
    AttachFlags,
    Engine,
    Event,
    JobControl,
    NoSuchThreadError,
    Resume,
    Tracer,
    arch,
)
from pydbg_utrace.symbols import Symbols

pytestmark = pytest.mark.live
TIMEOUT = 30
SEED = 14


class Program:
    """trapchurn, started by the test (not by the tracer), driven line by line."""

    def __init__(self, path: str):
        self.child = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        address, pid = self.answer().split()
        self.address, self.pid = int(address, 16), int(pid)

    def _read(self) -> None:
        for line in self.child.stdout:
            self.lines.put(line.strip())
        self.lines.put("<EOF>")

    def answer(self) -> str:
        try:
            return self.lines.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"trapchurn gave no answer in {TIMEOUT}s (hung, or stopped for good)")

    def command(self, line: str) -> str:
        self.child.stdin.write(line + "\n")
        return self.answer()

    def code(self, size: int = 16) -> bytes:
        """The bytes at target() as they are in memory (our traps included).

        Read through a live thread: a zombie leader has no memory to show.
        """
        live = [tid for tid in os.listdir(f"/proc/{self.pid}/task")
                if task_state(self.pid, tid) not in ("Z", "gone")]
        with open(f"/proc/{self.pid}/task/{live[0]}/mem", "rb") as mem:
            mem.seek(self.address)
            return mem.read(size)

    def finish(self) -> int:
        """EOF on its stdin: it exits 0 unless something killed it; its wait status."""
        self.child.stdin.close()
        try:
            self.child.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail("trapchurn did not exit after EOF")
        return self.child.returncode

    def alive(self) -> bool:
        """Has it a thread that is not a zombie?  Read from /proc, never by waiting for it.

        While the program is traced, ``self.child.poll()`` must not be called:
        its ``waitpid`` runs in the tracer's thread group, so the kernel hands it
        the leader's *ptrace stops*, and Popen takes the stolen stop (SIGTRAP,
        0x80057f) for a death by SIGTRAP (returncode -5) while the tracer waits
        for that stop for ever (docs/engine-api.md; torture FOUND J).
        """
        try:
            tids = os.listdir(f"/proc/{self.pid}/task")
        except FileNotFoundError:
            return False
        return any(task_state(self.pid, tid) not in ("Z", "X", "gone") for tid in tids)

    def kill(self) -> None:
        """After a failure: SIGKILL; the wait is bounded (a hung tracer keeps its zombie)."""
        if self.child.poll() is None:
            self.child.kill()
            try:
                self.child.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                pass


class Hits(Engine):
    """Counts its breakpoint hits and every signal; follows new threads."""

    def __init__(self, events: Event = Event.CLONE | Event.BREAKPOINT | Event.SIGNAL_ALL):
        self.events = events
        self.hits = 0
        self.signals: list[int] = []
        self.jctl: dict[int, JobControl] = {}
        self.changed = threading.Condition()

    def report_clone(self, att, report):
        if report.clone_kind == "thread":
            report.child.attach(self).set_events(att.events)

    def report_breakpoint(self, att, report):
        with self.changed:
            self.hits += 1
            self.changed.notify_all()

    def report_signal(self, att, report):
        self.signals.append(report.signo)

    def report_jctl(self, att, report):
        with self.changed:
            self.jctl[att.thread.tid] = report.jctl
            self.changed.notify_all()

    def wait_for(self, predicate, what: str) -> None:
        """A bounded wait for something that must happen."""
        with self.changed:
            if not self.changed.wait_for(predicate, timeout=TIMEOUT):
                pytest.fail(f"no {what} within {TIMEOUT}s")

    def wait_hits(self, count: int) -> None:
        self.wait_for(lambda: self.hits >= count, f"{count} breakpoint hits")


def traced(tracer: Tracer, program: Program, engine: Engine):
    """Trace the program with ``engine`` on every thread; its main thread's attachment."""
    process = tracer.attach_process(program.pid)
    for thread in list(process.threads.values()):
        thread.attach(engine).set_events(engine.events)
    return process, tracer.attach(process.main_thread, engine, AttachFlags.MATCH_OPS)


def bounded(fn, what: str) -> None:
    """Run ``fn`` in a thread and fail if it does not return in TIMEOUT (a hang)."""
    error: list[BaseException] = []

    def run():
        try:
            fn()
        except BaseException as exc:  # handed to the test
            error.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    if worker.is_alive():
        pytest.fail(f"{what} hung for {TIMEOUT}s")
    if error:
        raise error[0]


def task_state(pid: int, tid) -> str:
    """The State letter of a thread; "gone" if it ended since its tid was listed."""
    try:
        with open(f"/proc/{pid}/task/{tid}/status") as status:
            for line in status:
                if line.startswith("State:"):
                    return line.split()[1]
    except FileNotFoundError:
        return "gone"
    return "?"


def tracer_pid(tid: int) -> int:
    with open(f"/proc/{tid}/status") as status:
        for line in status:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return -1


def traced_tasks(pid: int) -> list[int]:
    """The threads of ``pid`` that still have a tracer (those that exit meanwhile are not)."""
    traced = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if tracer_pid(int(tid)) != 0:
                traced.append(int(tid))
        except FileNotFoundError:
            pass
    return traced


@pytest.fixture
def program(tracee):
    prog = Program(tracee("trapchurn"))
    yield prog
    prog.kill()  # only if a test failed: the others finished it


# -- point 1: a trap removed while threads run is retired, not forgotten ----------------

def test_removing_a_breakpoint_while_threads_run_kills_nothing(program):
    rng = random.Random(SEED)
    tracer = Tracer()
    engine = Hits()
    process, att = traced(tracer, program, engine)
    original = program.code()
    assert program.command("spin 4") == "spinning 4"
    for _round in range(20):
        bp = att.insert_breakpoint(program.address)
        engine.wait_hits(engine.hits + rng.randint(1, 5))
        att.remove_breakpoint(bp)
    assert program.command("stop").startswith("stopped ")
    assert signal.SIGTRAP not in engine.signals  # no queued hit became a signal
    assert program.code() == original
    bounded(tracer.close, "close()")
    assert program.finish() == 0


# -- point 2: close() with a trap planted in running threads -----------------------------

def test_close_with_a_breakpoint_in_running_threads_leaves_them_running(program):
    original = program.code()
    assert program.command("spin 4") == "spinning 4"
    for _round in range(5):
        tracer = Tracer()
        engine = Hits()
        traced(tracer, program, engine)[1].insert_breakpoint(program.address)
        engine.wait_hits(3)
        bounded(tracer.close, "close()")
        assert program.child.poll() is None, "close() killed the program"
        assert program.code() == original  # every byte restored
        assert tracer_pid(program.pid) == 0
    assert program.command("stop").startswith("stopped ")  # alive: no SIGTRAP
    assert program.finish() == 0


def test_close_while_threads_and_children_are_born_leaves_no_trap_in_them(tracee):
    """FOUND G: a thread or fork child born while close() stops the others.

    Its creator's clone event came during the stop: the child was let go at
    once, with our traps still in the memory it runs on (or in its copy), and
    died of SIGTRAP; its first stop, set aside in a step-over's wait, made
    close() wait for ever.  Children born then go once the originals are back.
    """
    rng = random.Random(SEED)
    # 4 busy threads; a fork every round of each spawner (FOUND K: a fork begun just
    # before its thread was seized made an untraced child that took our trap)
    child = subprocess.Popen([tracee("closechurn"), "4", "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    address, pid = child.stdout.readline().split()
    address = int(address, 16)
    with open(f"/proc/{pid}/mem", "rb") as mem:
        mem.seek(address)
        original = mem.read(1)
    try:
        for _round in range(12):
            tracer = Tracer()
            engine = Hits()
            process = tracer.attach_process(int(pid))
            for thread in list(process.threads.values()):
                try:
                    thread.attach(engine).set_events(engine.events)
                except NoSuchThreadError:
                    pass  # a short-lived thread, gone since attach_process
            tracer.attach(process.main_thread, engine, AttachFlags.MATCH_OPS) \
                .insert_breakpoint(address)
            engine.wait_hits(rng.randint(1, 40))
            bounded(tracer.close, "close()")
            with open(f"/proc/{pid}/mem", "rb") as mem:
                mem.seek(address)
                assert mem.read(1) == original
            assert not traced_tasks(int(pid))
            assert child.poll() is None, f"the program died: {child.returncode}"
        child.stdin.close()
        assert child.wait(timeout=TIMEOUT) == 0, "a child or thread died of a stray trap"
    finally:
        child.kill()
        child.wait()


def test_attach_while_an_untraced_vfork_child_runs_waits_it_out(program):
    """FOUND K: a fork, vfork or clone begun just before its thread was seized.

    kernel_clone() decides at its start that the child is not traced, and
    copies the memory (a fork) or lends it (a vfork) later: a breakpoint
    inserted right after attach_process() went into an untraced child's copy,
    or, as here, into the memory an untraced vfork child runs on, and it died
    of SIGTRAP.  attach_process() returns once every thread has stopped once:
    a thread inside vfork() only after its child is done (here: 20 million
    calls of target(), then _exit(7)).
    """
    assert program.command("vfork 20000000") == "child running"
    tracer = Tracer()
    engine = Hits()
    try:
        _process, att = traced(tracer, program, engine)
        att.insert_breakpoint(program.address)
        assert program.answer() == "vfork child 0x700"  # 0x5: killed by our trap's SIGTRAP
    finally:
        bounded(tracer.close, "close()")
    assert program.finish() == 0


# -- point 3: a zombie leader is never waited for while other threads live -------------

def test_after_the_main_thread_exits_step_over_and_close_do_not_hang(program):
    tracer = Tracer()
    engine = Hits()
    process, att = traced(tracer, program, engine)
    original = program.code()
    att.insert_breakpoint(program.address)
    assert program.command("spin 3") == "spinning 3"
    engine.wait_hits(5)
    assert program.command("main-exit") == "main gone"
    engine.wait_hits(engine.hits + 50)  # each hit is a step-over holding the other threads
    bounded(tracer.close, "close()")
    assert program.code() == original
    # The zombie leader cannot be detached: the kernel lets it go when the tracer
    # thread ends, and close() returns only then.
    assert task_state(program.pid, program.pid) == "Z"
    assert not traced_tasks(program.pid)
    assert program.command("stop").startswith("stopped ")
    assert program.finish() == 0


class ExecCount(Hits):
    def __init__(self):
        super().__init__(Event.CLONE | Event.BREAKPOINT | Event.SIGNAL_ALL | Event.EXEC)
        self.execs = 0

    def report_exec(self, att, report):
        self.execs += 1


def test_exec_from_a_thread_while_step_overs_hold_the_others_does_not_hang(tracee):
    """FOUND I: execve() from a non-leader thread, the leader a zombie, threads on a trap.

    A step-over holds the other threads, and one of them is in execve: it kills
    the others (SIGKILL takes them, even out of the stops we hold, into their
    exit stops) and waits until they are reaped -- which only the main loop,
    busy waiting for the thread in execve, would let happen.  Each round:
    ``trapchurn exec 3`` (3 threads through a breakpoint, the leader gone, an
    exec after 100 hits); it must exec once and exit 0.  (Reopened: the
    execer's first stop, met in a hold before its creator's clone event,
    waited behind the held threads' hits, which step-overs back to back
    refilled for ever; and a step-over was begun from an exit stop.)
    """
    path = tracee("trapchurn")
    for _round in range(5):
        tracer = Tracer()
        out_r, out_w = os.pipe()
        process = None
        try:
            process = tracer.launch([path, "exec", "3"], stdout=out_w)
            os.close(out_w)
            engine = ExecCount()
            att = process.main_thread.attach(engine)
            att.set_events(engine.events)
            att.insert_breakpoint(Symbols(process.pid).address_of("target"))
            process.start()
            status = process.wait(TIMEOUT)
            assert status is not None, f"the exec never completed ({engine.hits} hits)"
            assert os.waitstatus_to_exitcode(status) == 0
            assert engine.execs == 1
            with os.fdopen(out_r) as output:
                out_r = None
                assert "exec done" in output.read()
        finally:
            if process is not None and process.wait(0) is None:
                os.kill(process.pid, signal.SIGKILL)  # a hung tracer is freed by the deaths
            bounded(tracer.close, "close()")
            if out_r is not None:
                os.close(out_r)


# -- point 4: a step-over is not a group stop -------------------------------------------

def test_outside_sigstop_and_sigcont_with_a_breakpoint_planted(program):
    rng = random.Random(SEED)
    tracer = Tracer()
    engine = Hits(Event.CLONE | Event.BREAKPOINT | Event.SIGNAL_ALL | Event.JCTL)
    process, att = traced(tracer, program, engine)
    att.insert_breakpoint(program.address)
    assert program.command("spin 4") == "spinning 4"
    for _round in range(10):
        engine.wait_hits(engine.hits + rng.randint(1, 20))
        os.kill(program.pid, signal.SIGSTOP)
        engine.wait_for(lambda: len(engine.jctl) == 5 and all(
            state == JobControl.STOPPED for state in engine.jctl.values()),
            "group stop reported by all 5 threads")
        os.kill(program.pid, signal.SIGCONT)
        engine.wait_for(lambda: all(state == JobControl.CONTINUED
                                    for state in engine.jctl.values()),
                        "continue reported by all 5 threads")
    assert program.command("stop").startswith("stopped ")
    att.control(Resume.RESUME)  # control() still works (no PTRACE_LISTEN error)
    bounded(tracer.close, "close()")
    assert program.finish() == 0


def test_sigcont_from_outside_during_step_overs_runs_each_instruction_once(program):
    """FOUND H: every SIGCONT gives every seized thread a job-control trap.

    One that lands during a step-over's single step, after the instruction ran,
    is reported before the step's SIGTRAP; that SIGTRAP (TRAP_TRACE, PC one past
    a one-byte instruction) was then taken for a hit of the trap one byte back:
    PC rewound, ``push %rbp`` run twice, and the function returned to its own
    frame pointer (SIGSEGV at a stack address).  A burst of SIGCONTs (harmless to
    a running program) while 4 threads run through the breakpoint.

    FOUND J was this test's own ``Popen.poll()`` while the program was traced:
    it stole the leader's ptrace stops (see :meth:`Program.alive`).
    """
    tracer = Tracer()
    engine = Hits()
    process, att = traced(tracer, program, engine)
    att.insert_breakpoint(program.address)
    assert program.command("spin 4") == "spinning 4"
    done = threading.Event()

    def conts():
        for _ in range(20000):
            if done.is_set():
                return
            os.kill(program.pid, signal.SIGCONT)

    sender = threading.Thread(target=conts, daemon=True)
    sender.start()
    try:
        engine.wait_hits(3000)
        done.set()
        sender.join(TIMEOUT)
        assert program.alive(), "the program died"
        assert program.command("stop").startswith("stopped ")
        faults = {signal.SIGTRAP, signal.SIGSEGV, signal.SIGBUS, signal.SIGILL}
        assert not faults & set(engine.signals), engine.signals
    finally:
        done.set()
        bounded(tracer.close, "close()")  # never leave a tracer to atexit
    assert program.finish() == 0


# -- point 13: an engine that detaches takes its traps with it --------------------------

class Raiser(Hits):
    def __init__(self):
        super().__init__()
        self.raised = threading.Event()

    def report_breakpoint(self, att, report):
        self.raised.set()
        raise RuntimeError("this engine breaks on purpose")


class Reaped(Hits):
    def __init__(self):
        super().__init__()
        self.reaped = threading.Event()

    def report_reap(self, att, report):
        self.reaped.set()


class Placer(Engine):
    """Attaches ``engine`` to each new thread, and plants its breakpoint there."""

    def __init__(self, engine: Engine, address: int):
        self.engine, self.address, self.atts, self.bps = engine, address, [], []

    def report_clone(self, att, report):
        child = report.child.attach(self.engine)
        child.set_events(Event.BREAKPOINT | Event.REAP)
        self.bps.append(child.insert_breakpoint(self.address))
        self.atts.append(child)


def test_detaching_an_engine_removes_its_breakpoints(program):
    tracer = Tracer()
    leaving, staying = Hits(), Hits()
    process, att = traced(tracer, program, leaving)
    other = tracer.attach(process.main_thread, staying)
    trap = process.arch.breakpoint_instruction
    original = program.code(len(trap))
    bp_leaving = att.insert_breakpoint(program.address)
    other.insert_breakpoint(program.address)
    att.control(Resume.DETACH)
    assert not bp_leaving.inserted
    assert program.code(len(trap)) == trap  # the other engine's breakpoint stays
    other.control(Resume.DETACH)
    assert program.code(len(trap)) == original
    bounded(tracer.close, "close()")
    assert program.finish() == 0


def test_an_engine_detached_for_raising_or_reaped_takes_its_breakpoint(program, caplog):
    tracer = Tracer()
    trap_len = len(arch.host().breakpoint_instruction)
    original = program.code(trap_len)
    raiser, reaped = Raiser(), Reaped()
    process = tracer.attach_process(program.pid)
    placer = Placer(raiser, program.address)
    process.main_thread.attach(placer).set_events(Event.CLONE)
    assert program.command("spin 1") == "spinning 1"
    (att,) = placer.atts
    assert raiser.raised.wait(TIMEOUT), "the breakpoint was never hit"
    # Any call is carried out after the report that detached it: a barrier.
    tracer.attach(process.main_thread, placer, AttachFlags.MATCH_OPS)
    assert att.detached
    assert program.code(trap_len) == original
    assert "raised in a callback" in caplog.text
    assert program.command("stop").startswith("stopped ")
    placer.engine = reaped  # the next worker's engine is reaped with it
    assert program.command("spin 1") == "spinning 1"
    # (Not read from memory: the step-overs of the spinning worker lift it.)
    assert placer.bps[-1].inserted
    assert program.command("stop").startswith("stopped ")  # the worker exits: REAP
    assert reaped.reaped.wait(TIMEOUT), "the worker was never reaped"
    tracer.attach(process.main_thread, placer, AttachFlags.MATCH_OPS)  # a barrier, as above
    assert not placer.bps[-1].inserted
    assert program.code(trap_len) == original
    bounded(tracer.close, "close()")
    assert program.finish() == 0


# -- point 14: kill -9 of the debugger takes the program it started with it --------------

def test_kill_9_of_the_repl_kills_the_program_it_launched(tracee):
    repl = subprocess.Popen(
        [sys.executable, "-m", "pydbg_utrace", "--batch", "-ex", "break *target", "-ex", "run",
         tracee("trapchurn")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while True:  # the program's first line: it runs, with the breakpoint planted
            line = repl.stdout.readline()
            assert line, f"the program never ran: {''.join(lines)} {repl.stderr.read()}"
            lines.append(line)
            words = line.split()
            if len(words) == 2 and words[0].startswith("0x") and words[1].isdigit():
                pid = int(words[1])
                break
        gone = os.pidfd_open(pid)
        with open(f"/proc/{pid}/mem", "rb") as mem:
            mem.seek(int(words[0], 16))
            assert mem.read(1) == arch.host().breakpoint_instruction[:1]
        repl.kill()  # SIGKILL: no atexit, no close(), only the kernel can clean up
        repl.wait()
        readable, _, _ = select.select([gone], [], [], TIMEOUT)
        assert readable, f"the program {pid} outlived its debugger's kill -9, trap and all"
        os.close(gone)
    finally:
        repl.kill()
        repl.wait()


# -- torture FOUND F: a single step that executes one of our traps -----------------------

class Stepper(Hits):
    """Holds the thread of the first hit, and after every step; records the step PCs."""

    def __init__(self):
        super().__init__(Event.CLONE | Event.BREAKPOINT | Event.SIGNAL_ALL | Event.STEP
                         | Event.QUIESCE)
        self.held = None
        self.step_pcs: list[int] = []

    def report_breakpoint(self, att, report):
        with self.changed:
            self.hits += 1
            first = self.held is None
            if first:
                self.held = att
            self.changed.notify_all()
        return Resume.STOP if first else None

    def report_step(self, att, report):
        with self.changed:
            self.step_pcs.append(report.regs.pc)
            self.changed.notify_all()
        return Resume.STOP


def instruction_length(address: int, code: bytes) -> int:
    import capstone

    host = arch.host()
    (insn, *_) = capstone.Cs(host.capstone_arch, host.capstone_mode).disasm(code, address)
    return insn.size


def test_a_single_step_onto_a_trap_planted_under_the_pc_steps_the_real_instruction(program):
    """FOUND F: a thread stopped at PC, a trap planted at PC, then single-stepped.

    The step executes the trap instruction; its SIGTRAP was taken for the end
    of the step, the PC left past the trap, in the middle of the original
    instruction (the storm died of SIGSEGV at such PCs).  It is a hit: the PC
    is rewound and the real instruction stepped over.
    """
    tracer = Tracer()
    engine = Stepper()
    process, att = traced(tracer, program, engine)
    bp = att.insert_breakpoint(program.address)
    assert program.command("spin 1") == "spinning 1"
    engine.wait_hits(1)
    held = engine.held
    att.remove_breakpoint(bp)
    held.control(Resume.SINGLESTEP)  # one instruction into target(), no trap there now
    engine.wait_for(lambda: len(engine.step_pcs) == 1, "the first step")
    pc = engine.step_pcs[0]
    code = process.memory.read(pc, 16)
    bp = held.insert_breakpoint(pc)  # a trap under the PC of a thread that never hit it
    held.control(Resume.SINGLESTEP)
    engine.wait_for(lambda: len(engine.step_pcs) == 2, "the second step")
    assert engine.step_pcs[1] == pc + instruction_length(pc, code), (
        f"stepped from {pc:#x} to {engine.step_pcs[1]:#x}")
    held.remove_breakpoint(bp)
    held.control(Resume.RESUME)
    assert program.command("stop").startswith("stopped ")
    assert signal.SIGTRAP not in engine.signals
    bounded(tracer.close, "close()")
    assert program.finish() == 0
