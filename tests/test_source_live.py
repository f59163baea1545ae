"""The source modules on a live process: real registers (ptrace) and the real
:class:`~pydbg_utrace.memory.AddressSpace`, compared with gdb on the same program.

Our tracer keeps ASLR on (gdb turns it off), so hex addresses are the one
thing normalised here; the differential test on gcore snapshots
(test_source_gdb.py) compares them exactly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from test_source_gdb import Answerer, run_gdb

from pydbg_utrace import Engine, Event
from pydbg_utrace.source.frames import backtrace, dwarf_registers
from pydbg_utrace.source.program import Image, Program
from pydbg_utrace.source.regs import X86_64
from pydbg_utrace.symbols import Symbols

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(shutil.which("gdb") is None, reason="needs gdb for reference"),
              pytest.mark.skipif(os.uname().machine != "x86_64",
                                 reason="the snapshot registers are x86_64's")]
TIMEOUT = 60
COMMANDS = ["bt", "info locals", "up", "info locals", "info args", "p got_signal", "p *first",
            "p greeting", "p first->corner", "frame 4", "info locals", "p local_numbers[2]",
            "p cursor->next->name", "p/x here"]


class SourceView(Engine):
    """At the first hit, answers COMMANDS through the source modules, from ptrace."""

    def __init__(self, process):
        self.process = process
        self.answers: list[str] | None = None

    def report_breakpoint(self, att, report):
        if self.answers is None:
            regs = report.regs
            registers = dwarf_registers(regs.as_dict(), X86_64)
            images = [Image.load(m.path, m.bias, m.ranges)
                      for m in Symbols(self.process.pid).modules()]
            program = Program(images)
            read = self.process.memory.read
            frames, _ = backtrace(program, X86_64, read, regs.pc, registers)
            answerer = Answerer(program, read, frames)
            self.answers = [answerer.answer(cmd) for cmd in COMMANDS]
        return None


def normalised(text: str) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x?", text)


def test_live_answers_match_gdb_but_for_aslr(tracer, tmp_path):
    source = tmp_path / "src_demo.c"
    shutil.copy(os.path.join(os.path.dirname(__file__), "tracees", "src_demo.c"), source)
    binary = tmp_path / "demo"
    subprocess.run(["cc", "-O0", "-g", "-o", str(binary), "src_demo.c"], cwd=tmp_path,
                   check=True)
    theirs = run_gdb(binary, ["handle SIGUSR1 nostop noprint", "break marker",
                              "run > /dev/null", *COMMANDS])[3:]
    assert all(theirs), theirs  # gdb answered each: an empty pair would prove nothing
    with open(os.devnull, "w") as devnull:
        process = tracer.launch([str(binary)], cwd=str(tmp_path), stdout=devnull.fileno())
    view = SourceView(process)
    att = process.main_thread.attach(view)
    att.set_events(Event.NONE)
    debug = Image.load(str(binary)).debug
    marker = debug.function_named("marker")
    bias = Symbols(process.pid).resolve("marker") - marker.low
    att.insert_breakpoint(bias + debug.after_prologue(marker))  # gdb's `break marker`
    process.start()
    status = process.wait(TIMEOUT)
    assert status is not None and os.WIFEXITED(status), status
    assert view.answers is not None, "the breakpoint at marker was never hit"
    differ = [(cmd, g, o) for cmd, g, o in zip(COMMANDS, theirs, view.answers, strict=True)
              if normalised(g) != normalised(o)]
    assert not differ, differ
