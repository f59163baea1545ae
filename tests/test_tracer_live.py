"""The multiplexer on real tracees: every utrace rule that a live process can show."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import threading

import pytest

from pydbg_utrace import (
    Action,
    Engine,
    Event,
    InProgressError,
    InvalidError,
    NoSuchThreadError,
    NotStoppedError,
    Resume,
    SignalAction,
    State,
    SyscallAction,
    arch,
)

pytestmark = pytest.mark.live
HOST = arch.host()
TIMEOUT = 30


def finish(process):
    status = process.wait(TIMEOUT)
    assert status is not None, f"{process} did not finish within {TIMEOUT}s"
    return status


def proc_state(tid: int) -> str:
    """The one-letter state of /proc/TID/stat ('t' = tracing stop, 'T' = stopped)."""
    with open(f"/proc/{tid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def run_captured(tracer, argv, engines_setup):
    """Launch argv with stdout to a pipe, let engines_setup attach, run to exit."""
    read_end, write_end = os.pipe()
    try:
        process = tracer.launch(argv, stdout=write_end)
    finally:
        os.close(write_end)
    engines_setup(process)
    process.start()
    status = finish(process)
    with os.fdopen(read_end) as out:
        return status, out.read()


class StopAt(Engine):
    """Answers STOP at the entry of syscall ``nr`` and tells the test thread."""

    def __init__(self, nr: int):
        self.nr = nr
        self.stopped = threading.Event()

    def report_syscall_entry(self, att, report):
        if report.syscall.nr == self.nr and not report.resumed:
            self.stopped.set()
            return Resume.STOP
        return None


def test_two_engines_each_see_exactly_their_own_events(tracer, tracee, recorder):
    syscalls, lifecycle = recorder(Event.SYSCALL_ENTRY), recorder(Event.EXIT | Event.DEATH)
    process = tracer.launch([tracee("getppid")])
    syscalls.attach_to(process.main_thread)
    lifecycle.attach_to(process.main_thread)
    process.start()
    assert os.WEXITSTATUS(finish(process)) == 0
    assert set(syscalls.names()) == {"entry"}
    assert HOST.syscall_number_of("getppid") in [d for _, _, d in syscalls.log]
    assert lifecycle.names() == ["exit", "death"]


def test_syscall_entry_in_reverse_attach_order_exit_in_attach_order(tracer, tracee):
    order = []

    class Named(Engine):
        def __init__(self, name):
            self.tag = name

        def report_syscall_entry(self, att, r):
            order.append(("entry", self.tag))

        def report_syscall_exit(self, att, r):
            order.append(("exit", self.tag))

    process = tracer.launch([tracee("getppid")])
    for name in "AB":
        process.main_thread.attach(Named(name)).set_events(Event.SYSCALL)
    process.start()
    finish(process)
    entries = [tag for kind, tag in order if kind == "entry"]
    exits = [tag for kind, tag in order if kind == "exit"]
    assert entries[:2] == ["B", "A"] and set(entries[::2]) == {"B"}
    assert exits[:2] == ["A", "B"] and set(exits[::2]) == {"A"}


def test_new_engine_hears_from_the_next_event_on(tracer, tracee, recorder):
    late = recorder(Event.SYSCALL_ENTRY)

    class Attacher(Engine):
        def report_syscall_entry(self, att, report):
            if not late.log and report.syscall.nr == HOST.syscall_number_of("getppid"):
                late.attach_to(att.thread)
                late.log.append(("attached-during", att.thread.tid, report.syscall.nr))

    process = tracer.launch([tracee("getppid")])
    process.main_thread.attach(Attacher()).set_events(Event.SYSCALL_ENTRY)
    process.start()
    finish(process)
    assert late.log[0][0] == "attached-during"
    getppid = HOST.syscall_number_of("getppid")
    assert getppid not in [d for name, _, d in late.log[1:]]  # not the call in progress
    assert len(late.log) > 1  # but the later ones


def test_stop_held_by_one_engine_survives_another_resuming(tracer, tracee, recorder):
    stopper = StopAt(HOST.syscall_number_of("getppid"))
    other = recorder(Event.SYSCALL_ENTRY | Event.QUIESCE)
    process = tracer.launch([tracee("getppid")])
    thread = process.main_thread
    held = thread.attach(stopper)
    held.set_events(Event.SYSCALL_ENTRY)
    resumer = other.attach_to(thread)
    process.start()
    assert stopper.stopped.wait(TIMEOUT)
    resumer.control(Resume.RESUME)
    assert thread.state == State.STOPPED and proc_state(thread.tid) == "t"
    with held.examine() as regs:
        assert regs.pc != 0
    with pytest.raises(NotStoppedError):
        with resumer.examine():
            pass
    held.control(Resume.RESUME)
    assert os.WEXITSTATUS(finish(process)) == 0


def test_syscall_abort_returns_the_chosen_error(tracer, tracee):
    class Deny(Engine):
        def report_syscall_entry(self, att, report):
            if report.syscall.nr == HOST.syscall_number_of("getppid"):
                report.set_syscall_result(errno=errno.EPERM)
                return Resume.RESUME, SyscallAction.ABORT
            return None

    def setup(process):
        process.main_thread.attach(Deny()).set_events(Event.SYSCALL_ENTRY)

    status, out = run_captured(tracer, [tracee("getppid")], setup)
    assert out.split() == ["-1", str(errno.EPERM)]


def test_syscall_abort_without_a_result_gives_enosys(tracer, tracee):
    class Deny(Engine):
        def report_syscall_entry(self, att, report):
            if report.syscall.nr == HOST.syscall_number_of("getppid"):
                return Resume.RESUME, SyscallAction.ABORT
            return None

    def setup(process):
        process.main_thread.attach(Deny()).set_events(Event.SYSCALL_ENTRY)

    _, out = run_captured(tracer, [tracee("getppid")], setup)
    assert out.split() == ["-1", str(errno.ENOSYS)]


class SignalPolicy(Engine):
    def __init__(self, answer):
        self.answer = answer
        self.seen: list[tuple[int, SignalAction]] = []

    def report_signal(self, att, report):
        self.seen.append((report.signo, report.signal_action))
        return self.answer(report)


def signal_run(tracer, tracee, engine, events=Event.SIGNAL_ALL):
    def setup(process):
        process.main_thread.attach(engine).set_events(events)

    return run_captured(tracer, [tracee("signals"), "3"], setup)


def test_signal_deliver_by_default(tracer, tracee):
    engine = SignalPolicy(lambda r: None)
    status, out = signal_run(tracer, tracee, engine)
    assert out.strip() == "usr1 3" and os.WEXITSTATUS(status) == 3
    assert engine.seen.count((signal.SIGUSR1, SignalAction.DELIVER)) == 3
    assert (signal.SIGUSR2, SignalAction.IGN) in engine.seen  # ignored: reported as IGN


def test_signal_ignored_by_an_engine_never_reaches_the_program(tracer, tracee):
    def ignore_usr1(report):
        if report.signo == signal.SIGUSR1:
            return Resume.RESUME, SignalAction.IGN
        return None

    status, out = signal_run(tracer, tracee, SignalPolicy(ignore_usr1))
    assert out.strip() == "usr1 0"


def test_signal_hold_requeues_it_and_nothing_is_lost(tracer, tracee):
    held = []

    def hold_first(report):
        if report.signo == signal.SIGUSR1 and not held:
            held.append(report.signo)
            return Action(Resume.RESUME, SignalAction.IGN, hold=True)
        return None

    engine = SignalPolicy(hold_first)
    status, out = signal_run(tracer, tracee, engine)
    assert out.strip() == "usr1 3"
    assert [s for s, _ in engine.seen].count(signal.SIGUSR1) == 4  # once more: re-queued


def test_signal_events_follow_the_disposition(tracer, tracee):
    handled_only = SignalPolicy(lambda r: None)
    signal_run(tracer, tracee, handled_only, events=Event.SIGNAL)
    assert {s for s, _ in handled_only.seen} == {signal.SIGUSR1}


def test_fifty_threads_each_reported_once_and_held_until_report_clone_returns(
        tracer, tracee):
    clones, deaths, held = [], [], []

    class Follow(Engine):
        def report_clone(self, att, report):
            child = report.child
            held.append(not child.born or proc_state(child.tid) == "t")
            clones.append((report.clone_kind, child.tid))
            child.attach(self).set_events(Event.DEATH)

        def report_death(self, att, report):
            deaths.append(att.thread.tid)

    process = tracer.launch([tracee("threads"), "50"])
    process.main_thread.attach(Follow()).set_events(Event.CLONE | Event.DEATH)
    process.start()
    assert os.WEXITSTATUS(finish(process)) == 0
    assert len(clones) == 50 and {kind for kind, _ in clones} == {"thread"}
    assert len({tid for _, tid in clones}) == 50
    assert all(held)
    assert sorted(deaths) == sorted([tid for _, tid in clones] + [process.pid])


def test_fork_and_exec_followed_and_the_child_misses_nothing(tracer, tracee, recorder):
    child_log = recorder(Event.SYSCALL_ENTRY | Event.EXEC | Event.DEATH)
    kinds = []

    class Follow(Engine):
        def report_clone(self, att, report):
            kinds.append(report.clone_kind)
            child_log.attach_to(report.child)

    process = tracer.launch([tracee("forkexec"), "/bin/true"])
    process.main_thread.attach(Follow()).set_events(Event.CLONE)
    process.start()
    assert os.WEXITSTATUS(finish(process)) == 0
    assert kinds == ["fork"]
    names = child_log.names()
    getpid = HOST.syscall_number_of("getpid")
    first_getpid = [d for n, _, d in child_log.log].index(getpid)
    assert first_getpid < names.index("exec") < names.index("death")


def test_unwanted_fork_child_runs_untraced(tracer, tracee):
    process = tracer.launch([tracee("forkexec"), "/bin/true"])
    process.main_thread.attach(Engine()).set_events(Event.CLONE)
    process.start()
    assert os.WEXITSTATUS(finish(process)) == 0
    assert tracer.processes == []


def test_death_then_reap_and_nothing_after(tracer, tracee, recorder):
    engine = recorder(Event.EXIT | Event.DEATH | Event.REAP | Event.SYSCALL_ENTRY)
    process = tracer.launch([tracee("getppid")])
    att = engine.attach_to(process.main_thread)
    process.start()
    finish(process)
    assert engine.names()[-3:] == ["exit", "death", "reap"]
    assert att.detached
    with pytest.raises(NoSuchThreadError):
        att.control(Resume.RESUME)


def test_attach_to_running_multithreaded_process_and_detach(tracer, tracee, recorder):
    child = subprocess.Popen([tracee("echo_threads"), "4"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert child.stdout.readline() == "ready\n"
        process = tracer.attach_process(child.pid)
        assert len(process.threads) == 5
        engine = recorder(Event.SYSCALL_ENTRY)
        for thread in list(process.threads.values()):
            engine.attach_to(thread)
        child.stdin.write("traced\n")
        assert child.stdout.readline() == "traced\n"
        assert HOST.syscall_number_of("write") in [d for _, _, d in engine.log]
        process.detach()
        for tid in os.listdir(f"/proc/{child.pid}/task"):
            with open(f"/proc/{child.pid}/task/{tid}/status") as f:
                assert "TracerPid:\t0\n" in f.read()
        child.stdin.write("free\n")
        assert child.stdout.readline() == "free\n"
    finally:
        child.stdin.close()
        assert child.wait(TIMEOUT) == 0


def test_sigkill_while_an_engine_holds_the_thread_stopped(tracer, tracee):
    stopper = StopAt(HOST.syscall_number_of("getppid"))
    process = tracer.launch([tracee("getppid")])
    process.main_thread.attach(stopper).set_events(Event.SYSCALL_ENTRY)
    process.start()
    assert stopper.stopped.wait(TIMEOUT)
    os.kill(process.pid, signal.SIGKILL)
    status = finish(process)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    again = tracer.launch([tracee("getppid")])  # the tracer still works
    again.start()
    assert os.WEXITSTATUS(finish(again)) == 0


def test_an_engine_that_raises_is_detached_and_others_go_on(tracer, tracee, recorder, caplog):
    class Broken(Engine):
        def report_syscall_entry(self, att, report):
            raise RuntimeError("engine bug")

    counter = recorder(Event.SYSCALL_ENTRY)
    process = tracer.launch([tracee("getppid")])
    broken = process.main_thread.attach(Broken())
    broken.set_events(Event.SYSCALL_ENTRY)
    counter.attach_to(process.main_thread)
    process.start()
    assert os.WEXITSTATUS(finish(process)) == 0
    assert broken.detached
    assert HOST.syscall_number_of("exit_group") in [d for _, _, d in counter.log]
    assert "engine bug" in caplog.text


def test_interrupt_from_another_thread_stops_a_tracee_blocked_in_read(tracer, tracee):
    class Pauser(Engine):
        def __init__(self):
            self.stopped = threading.Event()
            self.reports = []

        def report_signal(self, att, report):
            self.reports.append(report.signal_action)
            self.stopped.set()
            return Resume.STOP

    child = subprocess.Popen([tracee("echo_threads"), "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert child.stdout.readline() == "ready\n"
        process = tracer.attach_process(child.pid)
        engine = Pauser()
        att = process.main_thread.attach(engine)
        att.set_events(Event.SIGNAL_ALL | Event.QUIESCE)
        asker = threading.Thread(target=att.control, args=(Resume.INTERRUPT,))
        asker.start()
        asker.join(TIMEOUT)
        assert engine.stopped.wait(TIMEOUT)
        assert engine.reports == [SignalAction.REPORT]
        assert process.main_thread.state == State.STOPPED
        assert proc_state(child.pid) == "t"
        att.control(Resume.RESUME)
        child.stdin.write("after\n")  # the interrupted read() was restarted
        assert child.stdout.readline() == "after\n"
        process.detach()
    finally:
        child.stdin.close()
        assert child.wait(TIMEOUT) == 0


def test_stop_on_a_running_thread_is_in_progress_then_quiesces(tracer, tracee):
    class Quiet(Engine):
        def __init__(self):
            self.quiesced = threading.Event()

        def report_quiesce(self, att, report):
            self.quiesced.set()
            return Resume.STOP

    child = subprocess.Popen([tracee("echo_threads"), "1"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        assert child.stdout.readline() == "ready\n"
        process = tracer.attach_process(child.pid)
        engine = Quiet()
        att = process.main_thread.attach(engine)
        att.set_events(Event.QUIESCE)
        with pytest.raises(InProgressError):
            att.control(Resume.STOP)
        assert engine.quiesced.wait(TIMEOUT)
        with att.examine() as regs:
            assert regs.sp != 0
        att.control(Resume.RESUME)
        process.detach()
        child.stdin.write("x\n")
        assert child.stdout.readline() == "x\n"
    finally:
        child.stdin.close()
        assert child.wait(TIMEOUT) == 0


def test_singlestep_needs_quiesce_and_reports_each_step(tracer, tracee):
    class Stepper(Engine):
        def __init__(self, steps):
            self.left = steps
            self.pcs = []

        def report_syscall_entry(self, att, report):
            if report.syscall.nr == HOST.syscall_number_of("getppid") and not self.pcs:
                return Resume.SINGLESTEP
            return None

        def report_step(self, att, report):
            self.pcs.append(report.regs.pc)
            self.left -= 1
            return Resume.SINGLESTEP if self.left else Resume.RESUME

    bystander = []

    class Bystander(Engine):
        def report_step(self, att, report):
            bystander.append(report)

    process = tracer.launch([tracee("getppid")])
    stepper = Stepper(20)
    att = process.main_thread.attach(stepper)
    att.set_events(Event.SYSCALL_ENTRY | Event.STEP)
    process.main_thread.attach(Bystander()).set_events(Event.STEP)
    with pytest.raises(InvalidError):
        att.control(Resume.SINGLESTEP)  # no QUIESCE in its events
    process.start()
    assert os.WEXITSTATUS(finish(process)) == 0
    assert len(stepper.pcs) == 20 and len(set(stepper.pcs)) > 5
    assert bystander == []


def test_subprocess_run_beside_the_tracer_keeps_working(tracer, tracee):
    process = tracer.launch([tracee("threads"), "4"])
    process.main_thread.attach(Engine()).set_events(Event.SYSCALL)
    process.start()
    for _ in range(5):
        assert subprocess.run(["sh", "-c", "exit 7"]).returncode == 7
    assert os.WEXITSTATUS(finish(process)) == 0


def test_idle_tracer_blocks_in_wait4_and_burns_no_cpu(tracer):
    import time

    tid = tracer._thread.native_id
    wait4 = HOST.syscall_number_of("wait4")
    # The tracer is blocked in the kernel, not polling: /proc names the call.
    # Entering a blocking call raises no event, so this polls /proc, bounded;
    # a polling tracer would be seen running, never resting in wait4.
    deadline = time.monotonic() + 10
    while True:
        with open(f"/proc/self/task/{tid}/syscall") as f:
            fields = f.read().split()
        if fields[0] == str(wait4) or time.monotonic() > deadline:
            break
        time.sleep(0.001)
    assert fields[0] == str(wait4), fields
    with open(f"/proc/self/task/{tid}/stat") as f:
        assert f.read().rsplit(")", 1)[1].split()[0] == "S"  # asleep, not running


PARENT = """
import os, subprocess, sys
child = subprocess.Popen([sys.argv[1], "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
print(child.pid, flush=True)
for line in sys.stdin:
    pid, status = os.waitpid(child.pid, os.WUNTRACED | os.WCONTINUED)
    if os.WIFSTOPPED(status):
        print("stopped", os.WSTOPSIG(status), flush=True)
    elif os.WIFCONTINUED(status):
        print("continued", flush=True)
    else:
        print("exited", status, flush=True)
        break
"""


def test_group_stop_stays_transparent_to_the_real_parent(tracer, tracee):
    import sys

    parent = subprocess.Popen([sys.executable, "-c", PARENT, tracee("echo_threads")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              bufsize=1)
    jctl = []
    seen = threading.Semaphore(0)

    class Jobs(Engine):
        def report_jctl(self, att, report):
            jctl.append(report.jctl.name)
            seen.release()

    try:
        pid = int(parent.stdout.readline())
        process = tracer.attach_process(pid)
        process.main_thread.attach(Jobs()).set_events(Event.JCTL)
        os.kill(pid, signal.SIGSTOP)
        parent.stdin.write("wait\n")
        assert parent.stdout.readline().split() == ["stopped", str(signal.SIGSTOP)]
        assert seen.acquire(timeout=TIMEOUT)
        os.kill(pid, signal.SIGCONT)
        parent.stdin.write("wait\n")
        assert parent.stdout.readline().strip() == "continued"
        assert seen.acquire(timeout=TIMEOUT)
        assert jctl == ["STOPPED", "CONTINUED"]
        process.detach()
        os.kill(pid, signal.SIGTERM)
        parent.stdin.write("wait\n")
        assert parent.stdout.readline().split()[0] == "exited"
    finally:
        parent.kill()
        parent.wait()


def test_a_launched_program_detached_still_reports_its_exit(tracer, tracee):
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        process = tracer.launch([tracee("echo_threads"), "2"], stdin=stdin_r, stdout=out_w)
    finally:
        os.close(stdin_r)
        os.close(out_w)
    process.start()
    with os.fdopen(out_r) as out:
        assert out.readline() == "ready\n"
        process.detach()
        os.write(stdin_w, b"free\n")
        assert out.readline() == "free\n"  # runs untraced
        os.close(stdin_w)
        status = finish(process)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_a_closed_tracer_is_not_kept_alive_by_its_exit_handler():
    """close() unregisters the atexit handler that start registered (issue 12)."""
    import gc
    import weakref

    from pydbg_utrace import Tracer

    tracer = Tracer()
    tracer.close()
    ref = weakref.ref(tracer)
    del tracer
    gc.collect()
    assert ref() is None, "something (atexit?) still holds the closed tracer"
