"""The real REPL on real tracees, driven through prompt_toolkit's pipe input.

Each test types lines into :func:`pydbg_utrace.repl.app.interact` exactly as a
user would (prompt_toolkit keeps what it has not read yet as typeahead for
the next prompt) and reads what the debugger printed.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time

import pytest
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from pydbg_utrace import arch
from pydbg_utrace.repl.app import interact
from pydbg_utrace.repl.debugger import Debugger

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(arch.host().name != "x86_64",
                                 reason="the REPL tracees' expectations are x86_64's")]
TIMEOUT = 30


def drive(lines: list[str], program: list[str] | None = None) -> str:
    """Type ``lines`` (then quit, confirming) into the REPL; everything it printed."""
    out = io.StringIO()
    dbg = Debugger(out)
    dbg.session.program = list(program or [])
    with create_pipe_input() as pipe:
        pipe.send_text("".join(f"{line}\n" for line in [*lines, "quit", "y"]))
        try:
            interact(dbg, input=pipe, output=DummyOutput(), history=InMemoryHistory())
        finally:
            dbg.session.close()
    return out.getvalue()


def test_catch_write_registers_memory_code_steps_and_exit(tracee, capfd):
    hello = tracee("repl_hello")
    text = drive(["catch syscall write", "run", "info registers rip rdi rdx",
                  "x/8xb &message", "disassemble", "stepi 5", "continue"], [hello])
    assert "Catchpoint 1 (syscall write)" in text
    assert re.search(r'Catchpoint 1 \(call to syscall write\), Thread 1 \(\d+\): '
                     r'write\(1, "hello\\n", 6\)', text), text
    assert re.search(r"^rdi +0x1 +1$", text, re.M)
    assert re.search(r"^rdx +0x6 +6$", text, re.M)
    assert re.search(r"^0x[0-9a-f]+ <message>:\t0x68\t0x65\t0x6c\t0x6c\t0x6f\t0x0a\t0x00"
                     r"\t0x00$", text, re.M), text
    assert re.search(r"^=> 0x[0-9a-f]+ <write\+\d+>:\t", text, re.M)  # current pc marked
    assert "End of assembler dump." in text
    assert "Stepped, Thread 1" in text
    assert re.search(r" rip\*0x", text)  # the pc changed: marked in the view
    assert re.search(r"\[Inferior 1 \(process \d+\) exited with code 3\]", text)
    assert capfd.readouterr().out == "hello\n"  # the program's own output, once


def test_stepi_counts_instructions(tracee):
    text = drive(["starti", "x/1i $pc", "stepi 3", "info registers rip"], [tracee("repl_hello")])
    assert "Program started, stopped at its first instruction" in text
    assert text.count("Stepped, Thread 1") == 1  # one view for the 3 steps


def test_unknown_command_is_one_line_and_the_repl_goes_on(tracee):
    text = drive(["frobnicate", "x/8xb 0x10", "starti", "x/8xb 0x10", "info registers nope",
                  "info registers rip"], [tracee("repl_hello")])
    lines = text.splitlines()
    assert lines[0] == 'Undefined command: "frobnicate".  Try "help".'
    assert lines[1] == "The program is not being run."
    assert "Cannot access memory at address 0x10" in lines
    assert "Invalid register `nope'" in lines
    assert re.search(r"^rip +0x[0-9a-f]+ +\d+$", text, re.M)


def test_engine_load_counts_syscalls_while_the_repl_steps(tracee):
    text = drive(["starti", "engine load engines/syscall_count.py", "info engines",
                  *["step-syscall"] * 4, "stepi 2", "info engines",
                  "engine unload syscall-count", "info engines"], [tracee("repl_hello")])
    assert "Engine syscall-count loaded from engines/syscall_count.py" in text
    assert re.search(r"^  repl +QUIESCE\|", text, re.M)
    assert re.search(r"^  syscall-count +SYSCALL_ENTRY$", text, re.M)
    # From the exec stop: execve's exit, then brk's entry and exit, then the next entry.
    assert text.count("Syscall entry, Thread 1") == 2
    assert text.count("Syscall exit, Thread 1") == 2
    assert "syscall-count: 2 system calls, 2 different" in text
    assert re.search(r"^ +1  brk$", text, re.M)
    assert re.search(r"^ +2  total$", text, re.M)
    after_unload = text.rsplit("Engine syscall-count unloaded", 1)[1]
    assert "  repl " in after_unload and "syscall-count" not in after_unload


def test_trace_syscalls_logs_beside_the_repl(tracee):
    text = drive(["trace syscalls on", "run", "trace syscalls off"], [tracee("repl_hello")])
    assert re.search(r'^\d+ write\(1, "hello\\n", 6\) = 6$', text, re.M), text
    assert re.search(r"^\d+ exit_group\(3\) = \?$", text, re.M)
    assert "exited with code 3" in text


def test_ctrl_d_asks_before_killing_a_live_program(tracee):
    out = io.StringIO()
    dbg = Debugger(out)
    dbg.session.program = [tracee("repl_hello")]
    with create_pipe_input() as pipe:
        pipe.send_text("starti\n\x04n\n\x04y\n")
        try:
            interact(dbg, input=pipe, output=DummyOutput(), history=InMemoryHistory())
        finally:
            dbg.session.close()
    text = out.getvalue()
    assert text.count("quit\n") == 2
    assert "Not confirmed." in text
    assert not dbg.session.alive  # the confirmed quit killed what we started
    assert os.WIFSIGNALED(dbg.session.last_status)
    assert os.WTERMSIG(dbg.session.last_status) == 9


@pytest.fixture
def spinner(tracee, tmp_path):
    """A copy of repl_spin under a name of its own, running untraced; killed at the end."""
    name = f"rspin{os.getpid() % 100000}"
    path = tmp_path / name
    shutil.copy(tracee("repl_spin"), path)
    started = []

    def start():
        child = subprocess.Popen([str(path)], stdout=subprocess.PIPE, text=True)
        started.append(child)
        assert child.stdout.readline() == "spinning\n"
        return child

    yield name, start
    for child in started:
        child.kill()
        child.wait(TIMEOUT)


def tracer_pid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("TracerPid:")).split()[1])


def spins(pid: int) -> int:
    """The tracee's counter, read from outside (it must go on growing)."""
    from pydbg_utrace import kernel
    from pydbg_utrace.repl.symbols import SymbolTable

    address = SymbolTable(pid).lookup("spins").address
    return int.from_bytes(kernel.read_memory(pid, address, 8), "little")


def test_attach_by_name_then_detach_leaves_it_running(spinner):
    name, start = spinner
    child = start()
    text = drive([f"ps {name}", f"attach {name}", "info registers rip", "info inferiors",
                  "x/1xg &spins", "detach", "info inferiors"])
    assert re.search(rf"^ +{child.pid}  \S+ +1  /", text, re.M), text
    assert f"Attaching to process {child.pid}" in text
    assert re.search(rf"Attached, Thread 1 \({child.pid}\)", text)
    assert re.search(rf"process {child.pid} +attached", text)
    assert f"[Inferior 1 (process {child.pid}) detached]" in text
    assert child.poll() is None and tracer_pid(child.pid) == 0
    before = spins(child.pid)
    deadline = time.monotonic() + TIMEOUT
    while spins(child.pid) == before:  # it runs on: the counter moves
        assert time.monotonic() < deadline, "the detached program does not run"


def test_attach_by_ambiguous_name_is_refused(spinner):
    name, start = spinner
    first, second = start(), start()
    text = drive([f"attach {name}"])
    assert f"2 processes are named '{name}'" in text
    assert str(first.pid) in text and str(second.pid) in text
    assert tracer_pid(first.pid) == tracer_pid(second.pid) == 0
