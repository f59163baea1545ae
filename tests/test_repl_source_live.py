"""The REPL's source-level commands that the gdb comparison does not cover as text:
breakpoint conditions/ignore counts/commands, display, start, signal, rwatch/awatch,
info proc, PLT names, the before-run file, ASLR off by default."""

from __future__ import annotations

import os
import re

import pytest
from test_repl_live import drive

from pydbg_utrace import arch

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(arch.host().name != "x86_64",
                                 reason="the REPL tracees' expectations are x86_64's")]


def test_condition_ignore_commands_and_display(tracee):
    demo = tracee("src_demo")
    text = drive(["break fact", "condition 1 n == 2", "commands 1", "silent", "p n * 10",
                  "end", "display n", "run", "info display", "undisplay 1", "next",
                  "ignore 1 1", "kill"], [demo])
    assert "$1 = 20" in text  # only n == 2 stopped, silently, and ran its commands
    assert "Breakpoint 1, fact" not in text
    assert "1:   y  n" in text  # made before run: listed, shown at stops
    assert re.search(r"^62\t    result = n \* fact\(n - 1\);$", text, re.M)  # next
    assert "Will ignore next crossing of breakpoint 1." in text


def test_start_signal_and_info_proc(tracee):
    demo = tracee("src_demo")
    text = drive(["start", "info proc", "break on_signal", "break src_demo.c:93",
                  "continue", "signal SIGUSR1", "bt", "kill"], [demo])
    assert re.search(r"^Temporary breakpoint 1 at 0x[0-9a-f]+: file \S*src_demo.c, line 87\.$",
                     text, re.M)
    assert re.search(r"^Temporary breakpoint 1, main \(\) at \S*src_demo.c:87$", text, re.M)
    assert re.search(rf"^exe = '{re.escape(os.path.realpath(demo))}'$", text, re.M)
    assert "Continuing with signal SIGUSR1." in text
    assert re.search(r"^Breakpoint 2, on_signal \(signo=10\) at \S*src_demo.c:68$", text, re.M)
    assert "<signal handler called>" in text


def test_rwatch_and_awatch_on_debug_registers(tracee):
    text = drive(["break main", "run", "rwatch counter", "awatch counter", "continue",
                  "continue", "kill"], [tracee("repl_watch")])
    assert "Hardware read watchpoint 2: counter" in text
    assert "Hardware access (read/write) watchpoint 3: counter" in text
    # counter = 1 is a write: the awatch says so, the rwatch does not (as gdb on x86)
    assert "Old value = 0 (0x0)\nNew value = 1 (0x1)" in text
    assert "Value = 1 (0x1)" in text  # then bump() reads it


def test_before_run_the_file_answers_and_aslr_is_off(tracee):
    demo = tracee("src_demo")
    text = drive(["info line fact", "x/s greeting", "p shapes[1].name", "list fact",
                  "disassemble main", "run", "p $pc", "kill"], [demo])
    assert re.search(r'^Line 56 of "\S*src_demo.c" starts at address 0x[0-9a-f]+ <fact>', text,
                     re.M)
    assert re.search(r'^0x[0-9a-f]+:\t"hello, debugger"$', text, re.M)
    assert '= 0x' in text and '"dot"' in text
    assert re.search(r"^55\tint fact\(int n\)$", text, re.M)
    assert re.search(r"\tcall   0x[0-9a-f]+ <kill@plt>$", text, re.M)  # PLT stubs named


def test_disable_randomization_off_keeps_aslr(tracee):
    demo = tracee("src_demo")
    on = drive(["break main", "run", "p &counter", "kill"], [demo])
    off = drive(["set disable-randomization off", "show disable-randomization", "break main",
                 "run", "p &counter", "kill"], [demo])
    fixed = re.search(r"\(int \*\) (0x[0-9a-f]+) <counter>", on).group(1)
    assert int(fixed, 16) >> 12 == 0x555555558  # where Linux puts a PIE without ASLR
    assert "randomization of debuggee's virtual address space is off" in off
    moved = re.search(r"\(int \*\) (0x[0-9a-f]+) <counter>", off).group(1)
    assert int(moved, 16) >> 12 != 0x555555558  # randomized (a 2**-28 chance to be equal)


def test_break_on_ppc64le_stops_at_the_local_entry(tmp_path):
    """ELFv2: a direct call enters past the TOC setup (st_other's local entry), so
    `break f` without line info goes there, as gdb; readelf is the reference."""
    import io
    import shutil
    import subprocess

    from pydbg_utrace.repl.debugger import Debugger

    compiler = "powerpc64le-linux-gnu-gcc"
    if shutil.which(compiler) is None or shutil.which("readelf") is None:
        pytest.skip(f"needs {compiler} and readelf (apt-get install gcc-powerpc64le-linux-gnu)")
    source = os.path.join(os.path.dirname(__file__), "tracees", "src_demo.c")
    binary = tmp_path / "demo_ppc64le"
    subprocess.run([compiler, "-O0", "-o", str(binary), source], check=True)  # no DWARF
    table = subprocess.run(["readelf", "-sW", str(binary)], capture_output=True, text=True,
                           check=True).stdout
    dbg = Debugger(io.StringIO())
    dbg.session.program = [str(binary)]
    checked = 0
    for name in ("fact", "main", "sum_first", "marker"):
        row = re.search(rf"^\s*\d+: ([0-9a-f]+)\s+\d+ FUNC\s+\w+\s+\w+\s+"
                        rf"(?:\[<localentry>: (\d+)\])?.*\s{name}$", table, re.M)
        assert row, table
        expected = int(row.group(1), 16) + int(row.group(2) or 0)
        assert dbg.execute(f"break {name}")
        checked += row.group(2) is not None
        assert dbg.out.getvalue().splitlines()[-1].endswith(f" at {expected:#x}"), name
    assert checked >= 3  # fact, main, sum_first set up a TOC: a local entry 8 bytes on


def test_a_long_step_reports_progress_and_the_count_reached_when_interrupted(tracee):
    import io

    from pydbg_utrace.repl.debugger import Debugger

    dbg = Debugger(io.StringIO())
    dbg.session.program = [tracee("repl_spin")]
    counts: list[int] = []

    def progress(steps: int) -> None:  # the first count interrupts: an event, not a timer
        counts.append(steps)
        dbg.session.request_interrupt()

    dbg.session.on_progress = progress
    try:
        assert dbg.execute("starti")
        assert dbg.execute("stepi 100000000")
    finally:
        dbg.session.close()
    text = dbg.out.getvalue()
    assert counts and counts[0] > 0
    found = re.search(r"^Interrupted after ([\d,]+) instructions stepped, Thread 1", text, re.M)
    assert found, text
    assert int(found.group(1).replace(",", "")) >= counts[0]


@pytest.mark.parametrize("line, command", [(14, "next"), (14, "step"), (14, "until"),
                                           (15, "next"), (15, "until")])
def test_a_long_source_step_reports_progress_and_the_count_reached(tracee, line, command):
    """`next`/`step`/`until` through an endless loop on one line: on line 14 one step
    range, on line 15 step ranges and step-overs of tick() taking turns (many short
    moves: one count for the command, which goes on growing)."""
    import io
    import threading

    from pydbg_utrace.repl.debugger import Debugger

    dbg = Debugger(io.StringIO())
    dbg.session.program = [tracee("repl_loop"), "3"]  # 3 rounds: line 15 comes soon
    counts: list[int] = []

    def progress(steps: int) -> None:  # the third count interrupts: an event, not a timer
        counts.append(steps)
        if len(counts) == 3:
            dbg.session.request_interrupt()

    # A watchdog, not a synchronisation: no count at all fails instead of hanging.
    watchdog = threading.Timer(120, dbg.session.request_interrupt)
    watchdog.start()
    try:
        assert dbg.execute(f"break repl_loop.c:{line}")
        assert dbg.execute("run")
        assert dbg.execute("set var rounds = 1099511627776")  # now: endless
        assert "Breakpoint 1, main (argc=2" in dbg.out.getvalue()
        dbg.session.on_progress = progress
        assert dbg.execute(command)
    finally:
        watchdog.cancel()
        dbg.session.close()
    text = dbg.out.getvalue()
    assert len(counts) == 3 and counts == sorted(counts) and counts[0] > 0, (counts, text)
    found = re.search(r"^Interrupted after ([\d,]+) instructions stepped, Thread 1", text, re.M)
    assert found, text
    assert int(found.group(1).replace(",", "")) >= counts[-1]


def test_source_break_on_ppc64le_is_past_the_local_entry_and_the_prologue(tmp_path):
    """ELFv2 with DWARF: `break f` goes past the local entry (st_other) and past the
    prologue, to the address and line gdb-multiarch gives (-O0: the stack frame set
    up; a direct call enters at the local entry, so a breakpoint before it is missed)."""
    import io
    import shutil
    import subprocess

    from pydbg_utrace.repl.debugger import Debugger

    compiler = "powerpc64le-linux-gnu-gcc"
    for tool in (compiler, "readelf", "gdb-multiarch"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (apt-get install gcc-powerpc64le-linux-gnu "
                        "binutils gdb-multiarch)")
    here = os.path.join(os.path.dirname(__file__), "tracees")
    checked = 0
    for source, names in (("src_demo.c", ("fact", "main", "sum_first", "marker", "on_signal")),
                          ("src_returns.c", ("half_of", "make_pair", "make_big", "initial"))):
        shutil.copy(os.path.join(here, source), tmp_path / source)
        binary = tmp_path / f"{source}.ppc64le"
        subprocess.run([compiler, "-O0", "-g", "-o", str(binary), source], cwd=tmp_path,
                       check=True)
        table = subprocess.run(["readelf", "-sW", str(binary)], capture_output=True,
                               text=True, check=True).stdout
        gdb = subprocess.run(["gdb-multiarch", "-batch", "-nx",
                              *[arg for n in names for arg in ("-ex", f"break {n}")],
                              str(binary)], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120).stdout
        dbg = Debugger(io.StringIO())
        dbg.session.program = [str(binary)]
        for name in names:
            assert dbg.execute(f"break {name}")
            ours = dbg.out.getvalue().splitlines()[-1]
            number = ours.split()[1]
            theirs = re.search(rf"^Breakpoint {number} at .*$", gdb, re.M)
            assert theirs and ours == theirs.group(0), (name, ours, gdb)
            row = re.search(rf"^\s*\d+: ([0-9a-f]+)\s+\d+ FUNC\s+\w+\s+\w+\s+"
                            rf"(?:\[<localentry>: (\d+)\])?.*\s{name}$", table, re.M)
            local_entry = int(row.group(1), 16) + int(row.group(2) or 0)
            address = int(re.search(r" at (0x[0-9a-f]+):", ours).group(1), 16)
            assert address > local_entry, (name, ours)  # past it: the prologue skipped
            checked += row.group(2) is not None
    assert checked >= 4  # functions with a TOC setup, i.e. a local entry 8 bytes on
