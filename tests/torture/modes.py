"""The torture modes: what each does to the storm, and what it checks beyond the common.

Every mode takes a :class:`harness.Run` and drives one traced storm; the
chaos (engines coming and going, holds, steps, breakpoints, outside
signals) runs on its own Python thread, paced by the program's progress
(reports seen by the census), with every choice drawn from the seed.
Issue 14's points each mode exercises are in docs/torture.md.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable

import procfs
from harness import SCALE, TRACER_THREAD, Abandon, Run
from patience import Clocks, Waited, asleep, wait_for_report
from storm_engines import FAULT_EVENTS, Census, Churner, Holder, Raiser, Stepper, Visitor

from pydbg_utrace import (
    Event,
    InProgressError,
    NoSuchThreadError,
    NotStoppedError,
    Resume,
    Tracer,
    kernel,
)

GONE = (NoSuchThreadError, NotStoppedError)  # the thread died under us: fine
MAX_ACTIONS = 200
PR_SET_CHILD_SUBREAPER = 36
# A STOP or a step is reported within milliseconds; past this it never will be --
# not counting the time the tracer thread and the thread wait for a CPU on a loaded
# machine (patience.py, FOUND.md L), up to REPORT_CAP times this.
# (`run --report-wait S` shortens it to show the tail of report latencies: FOUND.md L.)
REPORT_WAIT = float(os.environ.get("TORTURE_REPORT_WAIT", "2.0"))
REPORT_CAP = 5


class CloseNow(Exception):
    """The chaos chose to close() the tracer now: it stops acting."""


# -- the chaos thread ------------------------------------------------------------------
class Chaos:
    """Runs ``actions`` (chosen by the seed) on another Python thread until the run ends."""

    def __init__(self, run: Run, census: Census, actions: list[Callable[[], None]],
                 finale: Callable[[], None] | None = None) -> None:
        self.run = run
        self.census = census
        self.actions = actions
        self.finale = finale
        self.done = 0
        self.thread = threading.Thread(target=self._main, name="torture chaos", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _main(self) -> None:
        try:
            while self.done < MAX_ACTIONS and self.run.pace(self.census):
                self.run.rng.choice(self.actions)()
                self.done += 1
        except (Abandon, CloseNow):
            return
        except Exception as exc:
            self.run.problem(f"chaos: {_oneline(exc)}")
        finally:
            if self.finale is not None:
                try:
                    self.finale()
                except Exception as exc:
                    self.run.problem(f"chaos finale: {_oneline(exc)}")

    def join(self) -> None:
        self.census.progress.finish()
        self.thread.join(10 * SCALE)
        if self.thread.is_alive():
            self.run.problem("hang: the chaos thread is stuck in an API call")
            raise Abandon("chaos")
        self.run.notes["actions"] = self.done


def _oneline(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" at {os.path.basename(where[0].filename)}:{where[0].lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"


# -- chaos actions ----------------------------------------------------------------------
class Breakpoints:
    """Insert and remove breakpoints at the storm's targets while threads run."""

    def __init__(self, run: Run, churner: Churner, targets: dict[int, bytes], process,
                 census: Census) -> None:
        self.run = run
        self.process = process
        self.churner = churner
        self.census = census
        self.addresses = sorted(targets)
        self.planted: list = []
        self.execs = 0

    def insert(self, address: int | None = None) -> None:
        atts = self.churner.live_attachments()
        if not atts:
            return
        if len(self.census.execs) != self.execs:
            # A new image (-x): the old traps went with the old one; find the
            # targets again, as a debugger re-resolves its breakpoints.
            self.execs = len(self.census.execs)
            self.planted.clear()
            try:
                self.addresses = sorted(self.run.targets(self.process.pid))
            except (OSError, KeyError, ValueError):
                self.addresses = []
        if not self.addresses:
            return
        att = self.run.rng.choice(atts)
        self.run.phase = "chaos: insert_breakpoint"
        try:
            address = address or self.run.rng.choice(self.addresses)
            self.planted.append(att.insert_breakpoint(address))
        except GONE:
            pass
        except (kernel.KernelError, ValueError):
            if not _gone(self.process):
                raise
            # the program died meanwhile (its memory is gone): the other checks say why

    def remove(self) -> None:
        if not self.planted:
            return self.insert()
        bp = self.planted.pop(self.run.rng.randrange(len(self.planted)))
        atts = self.churner.live_attachments()
        if atts:
            self.run.phase = "chaos: remove_breakpoint"
            try:
                atts[0].remove_breakpoint(bp)
            except GONE:
                pass  # the program died meanwhile (FOUND E: NoSuchThreadError, as utrace)
            except (kernel.KernelError, ValueError):
                if not _gone(self.process):  # (a thread between exit_mm and its zombie)
                    raise


def _gone(process) -> bool:
    """Has the program died, or is it dying (its memory going with its last threads)?

    A breakpoint call that fails because the memory is gone is fine if the
    program is ending: give its end a bounded moment to come.
    """
    if procfs.status_fields(f"/proc/{process.pid}").get("State", "X")[:1] in "ZX":
        return True
    return process.wait(1.0 * SCALE) is not None


def hold_and_release(run: Run, census: Census) -> None:
    """STOP a thread from this (another) Python thread, let the others run, release it."""
    thread = _pick(run, census)
    if thread is None:
        return
    holder = Holder()
    run.phase = "chaos: hold with STOP"
    try:
        att = thread.attach(holder)
        att.set_events(Event.QUIESCE)
        try:
            att.control(Resume.STOP)
            holder.halted.set()  # it was stopped already: held now, no quiesce (utrace)
        except InProgressError:
            pass  # it was running: it stops at once (PTRACE_INTERRUPT) and quiesces
        waited = _await_report(run, holder.halted, thread, census)
        if not waited.came and thread.alive:
            run.problem(f"control(STOP) on thread {thread.tid}: no quiesce within "
                        f"{waited.where()} ({_where(thread)})")
        run.pace(census)
        holder.holding = False
        run.phase = "chaos: release"
        if run.rng.random() < 0.5:
            att.control(Resume.RESUME)
        att.control(Resume.DETACH)
    except GONE:
        pass


def single_step(run: Run, census: Census) -> None:
    """Hold a thread and step it a few instructions, each step reported."""
    thread = _pick(run, census)
    if thread is None:
        return
    stepper = Stepper()
    run.phase = "chaos: single-step"
    try:
        att = thread.attach(stepper)
        att.set_events(Event.QUIESCE | Event.STEP)
        try:
            att.control(Resume.STOP)
            stepper.halted.set()  # stopped already: held now
        except InProgressError:
            pass
        for _ in range(run.rng.randint(1, 12)):
            waited = _await_report(run, stepper.halted, thread, census)
            if not waited.came:
                if thread.alive:
                    run.problem(f"thread {thread.tid}: a step or STOP not reported within "
                                f"{waited.where()} ({_where(thread)}, "
                                f"{stepper.steps} steps done)")
                break
            stepper.halted.clear()
            att.control(Resume.SINGLESTEP)
        stepper.holding = False
        att.control(Resume.RESUME)
        att.control(Resume.DETACH)
    except GONE:
        pass


def visit(run: Run, census: Census) -> None:
    """An engine attaches with a random mask, hears a little, detaches."""
    thread = _pick(run, census)
    if thread is None:
        return
    mask = Event.NONE
    for bit in (Event.SYSCALL_ENTRY, Event.SYSCALL_EXIT, Event.SIGNAL_ALL, Event.QUIESCE,
                Event.EXIT, Event.CLONE, Event.DEATH):
        if run.rng.random() < 0.4:
            mask |= bit
    run.phase = "chaos: attach a visitor"
    try:
        att = thread.attach(Visitor())
        att.set_events(mask)
        run.pace(census)
        run.phase = "chaos: detach a visitor"
        att.control(Resume.DETACH)
    except GONE:
        pass


def _await_report(run: Run, halted: threading.Event, thread, census: Census) -> Waited:
    """Wait for a STOP's quiesce or a step's report: REPORT_WAIT s not lost to load."""
    tracers = [t.native_id for t in threading.enumerate()
               if t.name == TRACER_THREAD and t.native_id is not None]
    watched = {"tracer thread": tracers[0]} if tracers else {}
    watched[f"thread {thread.tid}"] = thread.tid
    process = thread.process  # (its other threads: the holds wait for them to stop)
    others = {f"thread {tid}": tid for tid in procfs.tasks(process.pid)
              if tid != thread.tid} if process is not None else {}
    waited = wait_for_report(halted.wait, Clocks(watched, others), REPORT_WAIT * SCALE,
                             REPORT_CAP * REPORT_WAIT * SCALE,
                             reports=lambda: census.progress.count,
                             in_syscall=lambda: asleep(thread.tid))
    if waited.came and waited.seconds > waited.budget:  # in time only thanks to the rules
        run.notes.setdefault("late_reports", []).append(
            f"{waited.seconds:.1f} s ({waited.starved:.1f} s queued, "
            f"{waited.blocked:.1f} s in a system call)")
    return waited


def _where(thread) -> str:
    """The tracer's and the kernel's view of a thread, for a problem's text."""
    state = procfs.status_fields(f"/proc/{thread.tid}").get("State", "gone")
    return f"tracer: {thread.state.value}, {len(thread.holds)} holds; kernel: {state}"


def _pick(run: Run, census: Census):
    """A random thread that has not begun to exit (a zombie leader cannot stop)."""
    atts = [att for att in census.live_attachments() if not census.exits[id(att.thread)]]
    return run.rng.choice(atts).thread if atts else None


# -- the common shape ---------------------------------------------------------------------
def traced(run: Run, flags: tuple[str, ...] = (), churn: bool = False,
           actions: tuple[str, ...] = (), close_midway: bool = False,
           outside_stops: bool = False, follow_forks: bool | None = None) -> None:
    """Launch the storm traced, run the chaos, check everything."""
    argv = run.argv(*flags)
    run.untraced(argv)
    bystander = run.start_bystander()
    tracer = Tracer()
    if follow_forks is None:
        follow_forks = run.rng.random() < 0.5
    census = Census(follow_forks)
    process = run.launch(tracer, argv, census)
    targets = run.targets(process.pid)
    churner = Churner()
    churner.progress = census.progress
    churner.attach_to(process.main_thread)
    bps = Breakpoints(run, churner, targets, process, census)
    chosen: list[Callable[[], None]] = []
    if churn:
        chosen += [bps.insert, bps.remove]
        bps.insert(next(iter(targets)))  # storm_target, before the first instruction
    if "hold" in actions:
        chosen.append(lambda: hold_and_release(run, census))
    if "step" in actions:
        chosen.append(lambda: single_step(run, census))
    if "visit" in actions:
        chosen += [lambda: visit(run, census)] * 2
    stopped = threading.Event()
    if outside_stops:
        chosen.append(lambda: _stop_and_continue(run, census, process.pid, stopped))
    closing = threading.Event()
    if close_midway:
        chosen.append(lambda: _maybe_close(run, closing))

    def finale() -> None:
        if stopped.is_set() and process.wait(0) is None:
            os.kill(process.pid, signal.SIGCONT)
        closing.set()  # chosen or not: the main thread goes on

    chaos = Chaos(run, census, chosen or [lambda: None], finale)
    run.phase = "process.start()"
    process.start()
    chaos.start()
    run.phase = "wait for the program to end (tracer running)"
    if close_midway:
        closing.wait()
        run.phase = "tracer.close() with the program running"
        status = None if process.wait(0) is None else process.status
        run.notes["planted_at_close"] = len(bps.planted)
        tracer.close()
        run.notes["closed_running"] = status is None
        if status is None and not run.check_let_go(process.pid, targets):
            run.notes["closed_running"] = False
        chaos.join()
        run.phase = "waitpid() the program after close()"
        _, status = os.waitpid(process.pid, 0) if status is None else (0, status)
        run.check_census(census, unfinished_ok=True)
    else:
        status = run.wait_program(process)
        chaos.join()
        run.phase = "tracer.close() after the program ended"
        tracer.close()
        run.check_census(census)
    run.check_outcome(status, run.read_output())
    run.check_churner(churner)
    run.check_bystander(bystander)
    run.check_logs()


def _stop_and_continue(run: Run, census: Census, pid: int, stopped: threading.Event) -> None:
    """SIGSTOP the whole program from outside, let a moment pass, SIGCONT it."""
    run.phase = "chaos: SIGSTOP/SIGCONT from outside"
    try:
        os.kill(pid, signal.SIGSTOP)
        stopped.set()
        census.progress.wait_for(run.rng.randint(1, 4), 0.05 * SCALE)
        os.kill(pid, signal.SIGCONT)
        stopped.clear()
    except ProcessLookupError:
        pass  # it died (the other checks say why)


def _maybe_close(run: Run, closing: threading.Event) -> None:
    if run.rng.random() < 0.3:
        closing.set()
        raise CloseNow  # the chaos stops; the main thread closes the tracer


# -- the modes ---------------------------------------------------------------------------
def plain(run: Run) -> None:
    traced(run)


def attach_detach(run: Run) -> None:
    traced(run, actions=("visit",))


def hold(run: Run) -> None:
    traced(run, actions=("hold", "visit"))


def step(run: Run) -> None:
    traced(run, actions=("step",))


# The breakpoint modes fork instead of vfork (-F): a step-over while a thread
# waits in vfork() is its own problem (vfork-breakpoints, tests/torture/FOUND.md).
def breakpoint_churn(run: Run) -> None:
    traced(run, flags=("-F",), churn=True)


def vfork_breakpoints(run: Run) -> None:
    traced(run, churn=True)


def step_breakpoints(run: Run) -> None:
    """Engines single-step threads while breakpoints come and go (FOUND.md F)."""
    traced(run, flags=("-F",), churn=True, actions=("step",))


def close_midway(run: Run) -> None:
    traced(run, flags=("-F",), churn=True, close_midway=True)


def zombie_leader(run: Run) -> None:
    traced(run, flags=("-z", "-F"), churn=True, close_midway=run.rng.random() < 0.5)


def sigstop(run: Run) -> None:
    traced(run, flags=("-F",), churn=True, outside_stops=True)


def exec_thread(run: Run) -> None:
    traced(run, flags=("-x",), actions=("visit",))


def storm(run: Run) -> None:
    """Everything at once: the long run's mode."""
    traced(run, flags=tuple(f for f in ("-z", "-x") if run.rng.random() < 0.3), churn=True,
           actions=("hold", "step", "visit"), outside_stops=True)


def engine_detach(run: Run) -> None:
    """An engine that owns breakpoints detaches everywhere: its traps must go with it."""
    argv = run.argv("-F")
    run.untraced(argv)
    tracer = Tracer()
    census = Census()
    process = run.launch(tracer, argv, census)
    targets = run.targets(process.pid)
    owner = Churner()
    owner.attach_to(process.main_thread)
    for address in targets:
        owner.attachments[0].insert_breakpoint(address)
    process.start()
    census.progress.wait_for(run.rng.randint(2, 20), 5 * SCALE)
    run.phase = "detach the engine that owns the breakpoints"
    owner.leaving = True
    for att in owner.live_attachments():
        try:
            att.control(Resume.DETACH)
        except GONE:
            pass
    if process.wait(0) is None:
        from procfs import read_code
        for address, original in targets.items():
            try:
                now = read_code(process.pid, address, len(original))
            except OSError:
                break
            if now != original:
                run.problem(f"after its only owner detached, the breakpoint at {address:#x} "
                            f"is still planted ({now[:4].hex()}, original {original[:4].hex()})")
    run.notes["hits_before_detach"] = owner.hits
    status = run.wait_program(process)
    census.progress.finish()
    tracer.close()
    run.check_census(census)
    run.check_outcome(status, run.read_output())
    run.check_logs()


def faults(run: Run) -> None:
    """Engines that raise, and one that calls sys.exit(): detached, logged, nothing else."""
    argv = run.argv()
    run.untraced(argv)
    tracer = Tracer()
    census = Census()
    process = run.launch(tracer, argv, census)
    raisers = []
    kinds = [RuntimeError, KeyError, SystemExit]
    for where in run.rng.sample(sorted(FAULT_EVENTS), run.rng.randint(1, 3)):
        raiser = Raiser(where, run.rng.choice(kinds))
        att = process.main_thread.attach(raiser)
        att.set_events(FAULT_EVENTS[where])
        raisers.append((raiser, att))
        run.expected_logs.append(raiser.name)
    if not any(r.exc is SystemExit for r, _ in raisers):  # every seed tries sys.exit()
        raiser = Raiser("syscall_entry", SystemExit)
        att = process.main_thread.attach(raiser)
        att.set_events(FAULT_EVENTS["syscall_entry"])
        raisers.append((raiser, att))
        run.expected_logs.append(raiser.name)
    run.notes["faults"] = [r.name for r, _ in raisers]
    process.start()
    run.phase = "wait for the program (engines raising)"
    status = run.wait_program(process)
    census.progress.finish()
    for raiser, att in raisers:
        if raiser.calls and not att.detached:
            run.problem(f"{raiser.name} raised but is still attached")
        if raiser.calls and not any(raiser.name in line for line in run.log.lines):
            run.problem(f"{raiser.name} raised ({raiser.exc.__name__}) and nothing was logged")
    # The tracer must still serve the API after all that.
    child = run.bounded("launch() after engines raised", tracer.launch,
                        [run.storm, "--child", "5"])
    run.bounded("process.start() after engines raised", child.start)
    code = run.bounded("wait for a program launched after engines raised", child.wait, 10)
    if code is None or os.WEXITSTATUS(code) != 5:
        run.problem(f"a program launched after the faults ended with status {code!r}, not exit 5")
    run.bounded("tracer.close()", tracer.close)
    run.check_census(census)
    run.check_outcome(status, run.read_output())
    run.check_logs()


def launch(run: Run) -> None:
    """The launched program starts with default dispositions; bad arguments raise at once."""
    argv = run.argv("-d")
    ref_status, ref_output = run.untraced(argv)
    tracer = Tracer()
    census = Census()
    process = run.launch(tracer, argv, census)
    process.start()
    status = run.wait_program(process)
    tracer.close()
    output = run.read_output()
    first, ref_first = output.split("\n", 1)[0], ref_output.split("\n", 1)[0]
    if first != ref_first:
        run.problem(f"started with other signal dispositions than untraced: {first!r}, "
                    f"untraced {ref_first!r}{_signal_names(first, ref_first)}")
        output = ref_first + output[len(first):]  # the rest is compared as usual
    run.check_census(census)
    run.check_outcome(status, output)
    _bad_launches(run)
    run.check_logs()


def _signal_names(line: str, ref: str) -> str:
    try:
        now = int(line.split("ignored=")[1].split()[0], 16)
        before = int(ref.split("ignored=")[1].split()[0], 16)
    except (IndexError, ValueError):
        return ""
    extra = [signal.Signals(bit + 1).name for bit in range(64)
             if (now & ~before) >> bit & 1 and bit + 1 in signal.valid_signals()]
    return f" (ignored: {' '.join(extra)})" if extra else ""


def _bad_launches(run: Run) -> None:
    tracer = Tracer()
    true = shutil.which("true") or "/bin/true"
    with open(os.devnull, "w") as devnull:
        cases = [
            ("env={'A': 1}", ([true],), {"env": {"A": 1}}),
            ("stdout=<a file object>", ([true],), {"stdout": devnull}),
            (f"launch({true!r}) (a string, not a list)", (true,), {}),
            ("cwd='/nonexistent-torture-dir'", ([true],), {"cwd": "/nonexistent-torture-dir"}),
        ]
        run.rng.shuffle(cases)
        for what, args, kwargs in cases:
            try:
                process = run.bounded(f"launch with {what}",
                                      lambda a=args, k=kwargs: tracer.launch(*a, **k))
            except (TypeError, ValueError):
                continue  # a clear refusal
            except OSError as exc:
                if "cwd" in what and "nonexistent-torture-dir" in str(exc) \
                        and "cannot execute" not in str(exc):
                    continue
                run.problem(f"launch with {what}: {type(exc).__name__}: {exc}")
                continue
            except Abandon:
                return
            # Accepted: then it must really run the program (exit 0).
            process.start()
            code = run.bounded(f"wait for the program launched with {what}", process.wait, 10)
            if "cwd" in what or code is None or os.WEXITSTATUS(code) != 0:
                run.problem(f"launch with {what} was accepted (exit status {code!r})")
    child = run.bounded("launch() after the bad ones", tracer.launch, [run.storm, "--child", "6"])
    child.start()
    code = run.bounded("wait after the bad launches", child.wait, 10)
    if code is None or os.WEXITSTATUS(code) != 6:
        run.problem(f"a good launch after the bad ones ended with status {code!r}, not exit 6")
    run.bounded("tracer.close() after the bad launches", tracer.close)


def attach(run: Run) -> None:
    """The storm is the host's own child (subprocess.Popen), attached to while threads churn.

    ``-w``: the storm's threads come and go until we say go on its stdin, so
    the attach always meets churning threads; then the storm proper runs
    traced, and ``Popen.wait()`` must still get its exit status.
    """
    argv = run.argv("-F", "-w")
    ref_status, ref_output = run.untraced(argv)
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    run.pid = child.pid
    time.sleep(run.rng.uniform(0.005, 0.05) * SCALE)  # pacing: some warm-up churn first
    tracer = Tracer()
    census = Census()
    run.phase = "attach_process() while threads churn"
    process = tracer.attach_process(child.pid)
    run.notes["attached_threads"] = len(process.threads)
    run.phase = "attach the census to every thread"
    for thread in list(process.threads.values()):
        try:
            census.attach_to(thread)
        except GONE:
            pass  # exited since attach_process listed it
    census.main_pid = child.pid
    child.stdin.close()  # go: the storm proper, traced
    status = run.wait_program(process)
    census.progress.finish()
    run.check_census(census)
    run.phase = "tracer.close()"
    tracer.close()
    run.phase = "Popen.wait() for the host's own child"
    code = child.wait(30 * SCALE)
    output = child.stdout.read()
    if status is None:
        run.problem("the attached program never finished")
    if code is not None and code < 0:
        run.problem(f"the program was killed by {signal.Signals(-code).name} "
                    f"(untraced: exit {ref_status})")
    elif code != ref_status:
        run.problem(f"Popen.wait() of the host's own child returned {code}, the program "
                    f"exited {ref_status}" + (" (the tracer reaped it)" if code == 0 else ""))
    if output != ref_output:
        run.problem(f"output {output.strip()!r} != untraced {ref_output.strip()!r}")
    run.check_logs()


def cli_attach(run: Run) -> None:
    """``pydbg-utrace trace -f -p PID`` on the storm while its threads churn (``-w``)."""
    argv = run.argv("-w")
    ref_status, ref_output = run.untraced(argv)
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    run.pid = child.pid
    time.sleep(run.rng.uniform(0.005, 0.05) * SCALE)  # pacing: some warm-up churn first
    run.phase = "pydbg-utrace trace -f -p PID: wait for 'attached'"
    trace = subprocess.Popen([sys.executable, "-m", "pydbg_utrace", "trace", "-f",
                              "-p", str(child.pid), "-o", os.devnull],
                             stderr=subprocess.PIPE, text=True)
    said = []
    for line in trace.stderr:  # it says so once attached (or fails)
        said.append(line)
        if " attached" in line:  # "Process N attached with M threads"
            break
    child.stdin.close()  # go: the storm proper, traced
    run.phase = "wait for trace -f -p to end"
    _, rest = trace.communicate(timeout=60 * SCALE)
    stderr = "".join(said) + rest
    if "Traceback" in stderr:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        run.problem(f"trace -f -p crashed: {lines[-1] if lines else '?'}")
    elif trace.returncode != 0:  # strace's rule: with -p, 0 unless the tracing failed
        run.problem(f"trace -f -p {child.pid} exited {trace.returncode}: "
                    f"{stderr.strip()[-200:]!r}")
    run.notes["trace_exit"] = trace.returncode
    run.phase = "Popen.wait() for the storm"
    code = child.wait(30 * SCALE)
    output = child.stdout.read()
    if code != ref_status or output != ref_output:
        run.problem(f"the program exited {code} printing {output.strip()!r}; "
                    f"untraced: {ref_status}, {ref_output.strip()!r}")


def kill_debugger(run: Run) -> None:
    """kill -9 of the REPL while the program it started sits at a breakpoint.

    The REPL says a program it started is killed when it ends; under kill -9
    only the kernel can keep that promise (PTRACE_O_EXITKILL).  We are the
    subreaper, so the orphaned program's end is ours to see.
    """
    argv = run.argv("-F", rounds=300)
    run.untraced(argv)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    run.phase = "start the REPL: break storm_target, run"
    debugger = subprocess.Popen(
        [sys.executable, "-m", "pydbg_utrace", "debug", "-ex", "break storm_target",
         # the storm's ping-pong signals would stop the REPL first (gdb's default too)
         "-ex", "handle SIGUSR1 nostop noprint pass",
         "-ex", "run", *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    run.phase = "wait for the REPL's breakpoint stop"
    run.pid = debugger.pid  # a hang's dump then shows the REPL and the program it started
    for line in debugger.stdout:
        # gdb's words: "Breakpoint 1, storm_target ...", or once the program has threads
        # 'Thread 2 "torture_storm" hit Breakpoint 1, storm_target ...'
        if line.startswith("Breakpoint 1, ") or " hit Breakpoint 1, " in line:
            break
    else:
        run.problem(f"the REPL ended (status {debugger.wait()}) without stopping at "
                    f"storm_target")
        return
    storms = [pid for pid in procfs.children(debugger.pid)
              if procfs.status_fields(f"/proc/{pid}").get("Name") == "torture_storm"]
    if len(storms) != 1:
        run.problem(f"the REPL has {len(storms)} torture_storm children, not one")
        debugger.kill()
        return
    run.pid = storms[0]
    run.phase = "kill -9 the REPL"
    debugger.kill()
    debugger.wait()
    run.phase = "wait for the program the REPL started (we are its subreaper)"
    _, status = os.waitpid(run.pid, 0)  # a program left stopped for good: the watchdog says so
    if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
        how = (f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
               if os.WIFSIGNALED(status) else f"exited {os.WEXITSTATUS(status)}")
        run.problem(f"the program the REPL started survived its kill -9 and {how}, "
                    f"not SIGKILL (PTRACE_O_EXITKILL)")


MODES: dict[str, Callable[[Run], None]] = {
    "plain": plain,
    "attach-detach": attach_detach,
    "hold": hold,
    "step": step,
    "breakpoint-churn": breakpoint_churn,
    "vfork-breakpoints": vfork_breakpoints,
    "step-breakpoints": step_breakpoints,
    "close-midway": close_midway,
    "zombie-leader": zombie_leader,
    "sigstop": sigstop,
    "exec-thread": exec_thread,
    "engine-detach": engine_detach,
    "faults": faults,
    "launch": launch,
    "attach": attach,
    "cli-attach": cli_attach,
    "kill-debugger": kill_debugger,
    "storm": storm,
}
