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
import threading
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
    # A watchdog, not a synchronisation: a stop that never comes fails the test
    # (the program is interrupted) instead of hanging the suite.
    watchdog = threading.Timer(TIMEOUT, dbg.session.request_interrupt)
    watchdog.start()
    with create_pipe_input() as pipe:
        pipe.send_text("".join(f"{line}\n" for line in [*lines, "quit", "y"]))
        try:
            interact(dbg, input=pipe, output=DummyOutput(), history=InMemoryHistory())
        finally:
            watchdog.cancel()
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
    assert re.search(r"^=> 0x[0-9a-f]+ <[\w.:]*write\+\d+>:\t", text, re.M)  # pc
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
    assert lines[1] == "Cannot access memory at address 0x10"  # the file has nothing there
    assert "Cannot access memory at address 0x10" in lines[2:]
    assert "Invalid register `nope'" in lines
    assert re.search(r"^rip +(0x[0-9a-f]+) +\1( <\S+>)?$", text, re.M)  # gdb: the pc, named


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


def test_watch_then_nexti_over_a_call(tracee):
    text = drive(["catch syscall getpid", "run", "watch counter", "continue", "delete",
                  "info breakpoints", "x/1i $pc", "nexti", "x/1dw &counter", "continue"],
                 [tracee("repl_watch")])
    assert "Hardware watchpoint 2: counter (4 bytes at 0x" in text  # a debug register
    assert "Old value = 0 (0x0)\nNew value = 1 (0x1)" in text
    assert "No breakpoints, watchpoints or catchpoints." in text
    assert re.search(r"^=> 0x[0-9a-f]+ <main\+\d+>:\tcall   0x[0-9a-f]+ <bump>$", text, re.M)
    assert re.search(r"<counter>:\t11$", text, re.M)  # bump() ran: nexti went over it
    view = text.split("(nexti)")[0]
    assert "Stepped, Thread 1" in view
    assert "exited with code 11" in text


def test_set_register_reaches_the_kernel(tracee):
    text = drive(["catch syscall exit_group", "run", "set $rdi = 3 + 4", "info registers rdi",
                  "continue"], [tracee("repl_watch")])
    assert "exit_group(11)" in text
    assert re.search(r"^rdi +0x7 +7$", text, re.M)
    assert "exited with code 7" in text


def test_signals_stop_by_default_and_handle_changes_it(tracee):
    program = [tracee("repl_watch"), "usr1"]
    text = drive(["run", "continue"], program)
    # gdb's words: the signal, then where (a libc frame: kill has no frame of its own)
    assert re.search(r"^Program received signal SIGUSR1, User defined signal 1\.$", text, re.M)
    assert re.search(r"^(0x[0-9a-f]+ in )?\S*(kill|raise)\S* \(", text, re.M), text
    assert "\nProgram terminated with signal SIGUSR1, User defined signal 1.\n" \
        "The program no longer exists." in text
    text = drive(["handle SIGUSR1 nostop noprint nopass", "run"], program)
    assert re.search(r"^SIGUSR1 +No\tNo\tNo\t\tUser defined signal 1$", text, re.M)
    assert "exited with code 11" in text  # the signal never reached the program
    text = drive(["handle usr1 nostop print", "catch signal SIGUSR2", "run"], program)
    assert re.search(r"^Thread \d+ received signal SIGUSR1$", text, re.M)  # a note, no stop
    assert "\nProgram terminated with signal SIGUSR1, User defined signal 1.\n" \
        "The program no longer exists." in text


def test_catch_fork_and_exec(tracee):
    text = drive(["catch fork", "run fork", "info inferiors", "continue"],
                 [tracee("repl_watch")])
    assert re.search(r"Catchpoint 1 \(fork\), Thread 1 \(\d+\): new fork \d+", text), text
    assert "exited with code 11" in text
    hello = tracee("repl_hello")
    text = drive(["catch exec", "run", "x/s &message", "continue"],
                 ["/bin/sh", "-c", f"exec {hello}"])
    assert re.search(r"Catchpoint 1 \(exec\), Thread 1 \(\d+\)", text)
    assert re.search(r'<message>:\t"hello\\n"$', text, re.M)  # symbols of the new program
    assert "exited with code 3" in text


def test_threads_stop_together(tracee):
    text = drive(["catch syscall getppid", "run", "continue", "info threads", "thread 1",
                  "info registers rip", "kill"], [tracee("repl_threads")])
    caught = re.findall(r"Catchpoint 1 \(call to syscall getppid\), Thread (\d) \(\d+\)", text)
    assert len(caught) == 2 and caught[0] != caught[1], text
    # gdb's columns: Thread POINTER (LWP N) "NAME" (the pointer is fs_base), the frame
    assert re.search(r"^  Id   Target Id +Frame $", text, re.M), text
    rows = re.findall(r'^[* ] (\d)    Thread 0x[0-9a-f]+ \(LWP \d+\) "repl_threads" +(\S+)',
                      text, re.M)
    assert sorted(n for n, _ in rows) == ["1", "2", "3"], text
    assert re.search(r"^\[Switching to thread 1 \(Thread 0x[0-9a-f]+ \(LWP \d+\)\)\]$",
                     text, re.M)
    assert re.search(r"^\[Inferior 1 \(process \d+\) killed\]$", text, re.M)


def test_completion_of_commands_registers_and_files(tracee):
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from pydbg_utrace.repl.completion import ReplCompleter

    dbg = Debugger(io.StringIO())
    completer = ReplCompleter(dbg)

    def complete(text):
        doc = Document(text, len(text))
        return [c.text for c in completer.get_completions(doc, CompleteEvent())]

    assert complete("disas") == ["disassemble"]
    assert "registers" in complete("info reg")
    assert "$rip" in complete("info registers $ri")
    assert complete("catch sys") == ["syscall"]
    assert "SIGUSR1" in complete("handle SIGUS")
    assert "engines/syscall_count.py" in complete("engine load engines/sysc")
    dbg.session.program = [tracee("repl_hello")]
    dbg.execute("starti")
    try:
        assert "greet" in complete("disassemble gre")
    finally:
        dbg.session.close()


def test_history_lives_in_the_state_directory(tracee, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    dbg = Debugger(io.StringIO())
    with create_pipe_input() as pipe:
        pipe.send_text("help stepi\nquit\n")
        interact(dbg, input=pipe, output=DummyOutput())
    history = (tmp_path / "pydbg-utrace" / "history").read_text()
    assert "+help stepi" in history


def test_break_at_a_symbol_run_hit_look_step_and_exit(tracee, capfd):
    text = drive(["break greet", "run", "info registers rip rdi", "x/8xb &message",
                  "disassemble", "bt", "stepi 5", "info breakpoints", "continue"],
                 [tracee("repl_hello")])
    # resolved from the file before run (a file address, as gdb), after the prologue;
    # ASLR is off, so the PIE runs at 0x555555554000 (x86_64's ELF_ET_DYN_BASE)
    m = re.search(r"^Breakpoint 1 at (0x[0-9a-f]+): file \S*repl_hello.c, line 9\.$", text, re.M)
    assert m, text
    greet = 0x555555554000 + int(m.group(1), 16)
    assert re.search(r"^Breakpoint 1, greet \(fd=1\) at \S*repl_hello.c:9$", text, re.M)
    assert re.search(rf"^rip +{greet:#x} +{greet:#x} <greet\+\d+>$", text, re.M)
    assert re.search(r"^rdi +0x1 +1$", text, re.M)  # greet(1)
    assert re.search(r"<message>:\t0x68\t0x65\t0x6c\t0x6c\t0x6f\t0x0a\t0x00\t0x00$", text, re.M)
    assert "Dump of assembler code for function greet:" in text
    # The trap is invisible: the code shows the program's own first instruction
    # (gdb's disassemble: 16 hex digits, offsets in the function).
    assert re.search(rf"^=> 0x{greet:016x} <\+\d+>:\t", text, re.M)
    assert re.search(r"^#1  0x[0-9a-f]+ in main \(\) at \S*repl_hello.c:14$", text, re.M)
    assert re.search(r"^=> 0x[0-9a-f]+ <greet\+\d+>:", text.split("(stepi)")[-1], re.M)
    assert "\tbreakpoint already hit 1 time" in text
    assert re.search(r"\[Inferior 1 \(process \d+\) exited with code 3\]", text)
    assert capfd.readouterr().out == "hello\n"


def test_tbreak_delete_disable_enable(tracee):
    text = drive(["tbreak main", "break greet", "run", "info breakpoints", "disable 2",
                  "continue", "enable 2", "run", "delete 2", "continue", "delete 3"],
                 [tracee("repl_hello")])
    assert re.search(r"^Temporary breakpoint 1, main \(\) at \S*repl_hello.c:\d+$", text, re.M)
    listing = text.split("Num     Type")[1]
    assert not re.search(r"^1 .* del ", listing, re.M)  # deleted by its hit
    assert re.search(r"^2 +breakpoint +keep y +0x0*[0-9a-f]+ in greet at \S*repl_hello.c:9$",
                     listing, re.M)
    assert text.count("Breakpoint 2, greet") == 1  # not while disabled, not once deleted
    assert text.count("exited with code 3") == 2
    assert text.rstrip().endswith("No breakpoint number 3.")


def test_break_errors_are_one_line(tracee):
    text = drive(["starti", "break nosuchsymbol", "break *0x10", "delete 99", "info breakpoints"],
                 [tracee("repl_hello")])
    assert 'No symbol "nosuchsymbol" in current context.' in text
    assert "Cannot insert breakpoint 1 at 0x10:" in text
    assert "No breakpoint number 99." in text
    assert "No breakpoints, watchpoints or catchpoints." in text


def test_pending_breakpoint_in_a_library_is_inserted_when_it_loads(tracee):
    text = drive(["break write", "break puts", "run", "bt", "info breakpoints", "continue"],
                 [tracee("repl_hello")])
    # write: called through the PLT, found there (gdb's words); puts: in no file yet
    assert re.search(r"^Breakpoint 1 at 0x[0-9a-f]+$", text, re.M), text
    assert "Breakpoint 2 (puts) pending." in text
    # placed once libc is loaded, named with its line (it was placed mid-load)
    assert re.search(r"^2 +breakpoint +keep y +0x0000[0-9a-f]+ in \S*puts at ", text, re.M), text
    # past write's prologue when libc has DWARF (libc6-dbg), else at its first instruction
    assert re.search(r"^Breakpoint 1, (0x[0-9a-f]+ in )?\S*write \(", text, re.M), text
    assert re.search(r"^#1  0x[0-9a-f]+ in greet \(fd=1\) at \S*repl_hello.c:10$", text, re.M)
    assert "exited with code 3" in text


def test_software_watchpoint_where_the_hardware_refuses(tracee):
    # 8 bytes at an odd address: no debug register takes it, so the engine steps.
    text = drive(["catch syscall getpid", "run", "watch counter-1", "info breakpoints",
                  "continue", "continue", "delete 2", "continue"], [tracee("repl_watch")])
    assert re.search(r"^Watchpoint 2: counter-1 \(8 bytes at 0x[0-9a-f]+\)$", text, re.M)
    assert re.search(r"^2 +watchpoint +keep y +counter-1 ", text, re.M)
    assert text.count("Old value = ") == 2  # counter = 1, then bump()
    assert "exited with code 11" in text
