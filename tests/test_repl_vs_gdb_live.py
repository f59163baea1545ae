"""The REPL against gdb: the same batch session in ``gdb -batch -nx`` and in
``pydbg-utrace --batch``, compared answer by answer.

Each session is a list of commands.  Both debuggers run them as ``-ex``
commands with a marker (``echo @@@N``) before each, so every command's answer
is the text between two markers; answers are compared line by line.  What is
normalised is only what must differ: gdb's libthread_db banners, the pid in
``[Inferior 1 (process N) exited ...]`` and in ``info proc``'s first line, our echo of each command
(``(pydbg) CMD``), and the tracee's own ``leaf`` line.  Errors go to stderr in
both (gdb's convention), so an error is an empty answer on both sides.

Both debuggers start the program the same way, so that addresses and the
stack are the same to the byte: ASLR off (both defaults), no shell between
(``set startup-with-shell off``), the same environment (gdb's LINES/COLUMNS
unset), the same absolute path as argv[0].  The tracee is
tests/tracees/src_demo.c (test_source_gdb.py's), built as ``src_demo.c`` in a
temporary folder so that both print the same file names; tests/tracees/src_returns.c
(finish's return values, steps landing on conditional breakpoints) likewise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_source_gdb import SOURCE, compare

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(shutil.which("gdb") is None or shutil.which("cc") is None,
                                 reason="needs gdb and a C compiler (apt-get install gdb gcc)"),
              pytest.mark.skipif(os.uname().machine != "x86_64",
                                 reason="the sessions' expectations are x86_64 (gdb on the host)")]
TIMEOUT = 180 * float(os.environ.get("PYDBG_UTRACE_TIMEOUT_SCALE", "1"))  # a bound, not a goal
OURS = [sys.executable, "-m", "pydbg_utrace.cli"]
GDB_SETUP = ["set pagination off", "set width 0", "set confirm off",
             "set startup-with-shell off", "unset environment LINES",
             "unset environment COLUMNS"]

# bt 6 frames deep in a recursive function; print of ints, pointers, strings,
# structs, arrays, enums, p/x, p *ptr, ptype, whatis; frame N + info locals; x/s,
# x/4a $sp; set var then print; finish; next/step into libc (with its line info).
RECURSION = [
    "break fact if n==1", "run", "bt", "info args", "info locals", "p n", "p/x n", "p $pc",
    "frame 2", "info locals", "info args", "up", "p n", "frame 5", "info locals",
    "p local_numbers", "p local_numbers[2]", "p name", "p here", "p/x here", "p *cursor",
    "p cursor->name", "p cursor->corner[1].y", "p shapes[1].corner[0].x", "ptype cursor",
    "whatis here", "p greeting", "p counter_ptr", "p *counter_ptr", "p paint", "p perms",
    "p shapes[1].color", "x/s greeting", "x/s cursor->name", "x/4a $sp", "down",
    "set var counter = 7", "p counter", "p counter * 2", "finish", "next", "next", "step",
    "list", "bt", "info line fact", "list fact", "list",
]
# bt in a signal handler; break FILE:LINE; next/until/step through a loop; advance.
SIGNAL_AND_LOOP = [
    "handle SIGUSR1 nostop noprint", "break marker", "run", "bt", "info args", "up",
    "info locals", "frame 2", "frame 3", "info locals", "up 2", "p result",
    "break src_demo.c:78", "continue", "info locals", "p values[i]", "next", "next", "next",
    "p total", "until", "until", "p i", "info locals", "set var total = 100", "p total",
    "p total * 2", "p/x total", "step", "bt", "finish", "next", "advance 96", "p result",
    "p cursor", "info locals",
]
# bt in a libc leaf (kill, reached from main), up into main, its locals.
LIBC_LEAF = [
    "break main", "run", "next", "next", "next", "next", "next", "info locals",
    "break kill", "handle SIGUSR1 nostop noprint", "continue", "bt", "up", "info locals",
    "p result", "p/x result", "finish",
]
# until LOCATION stays in this frame (not the deeper recursive call); advance does not.
UNTIL_ADVANCE = [
    "break fact if n==3", "run", "until 63", "bt", "info locals", "advance 60", "bt",
    "info breakpoints", "finish", "finish",
]
# The same kind of session on -O2 -g code (DWARF 5, location lists, <optimized out>).
OPTIMIZED = [
    "break fact if n==1", "run", "bt", "info args", "info locals", "p n", "p/x n",
    "frame 2", "info locals", "info args", "up", "p n", "frame 5", "info locals",
    "p local_numbers", "p local_numbers[2]", "p name", "p here", "p *cursor",
    "p cursor->name", "p greeting", "p *counter_ptr", "x/s greeting", "x/4a $sp", "down",
    "set var counter = 7", "p counter", "finish", "next", "next", "break sum_first",
    "continue", "info args", "info locals", "bt", "next", "next", "info locals", "finish",
]
# next/until landing on a conditional breakpoint (false: the step goes on; true: it
# stops there, "Breakpoint N, "), an ignore count spent by steps, a false condition
# in a function that next steps over; finish of float, double, long double and of
# small structs (rax/rdx, xmm0/xmm1, in memory).  tests/tracees/src_returns.c.
STEP_ONTO_BREAKPOINTS = [
    "break 28", "run", "break 29 if i == 2", "next", "next", "next", "next", "next",
    "info breakpoints", "p i", "ignore 2 1", "next", "next", "next", "next", "next",
    "info breakpoints", "p i", "delete", "break 29 if i == 5", "until", "until", "until",
    "until", "p i", "info breakpoints", "delete", "break half_of if n == 4",
    "break third_of if n == 4", "next", "next", "next", "next", "bt", "finish",
]
RETURNS = [
    "break half_of", "break third_of", "break make_pair", "break make_mixed",
    "break make_floats", "break make_big", "break make_twin", "break quarter_of",
    "break initial", "run", "finish", "p $", "continue", "finish", "p $ * 3", "continue",
    "finish", "p $.b", "continue", "finish", "continue", "finish", "continue", "finish",
    "p $.v[3]", "continue", "finish", "continue", "finish", "continue", "finish",
    "p/x $", "info breakpoints",
]
# info frame (frame base, saved registers, main without "called by", asm units,
# name@entry arguments), x/a naming what addresses point to, info proc.
FRAMES = [
    "break fact if n==2", "run", "info frame", "up", "info frame", "frame 3", "info frame",
    "frame 4", "info frame", "x/2a &shapes[0].op", "x/a &first", "x/4a $sp",
    "break sum_first", "continue", "info frame", "up", "info frame", "break marker",
    "continue", "info frame", "info proc",
]
# x/i and disassemble as libopcodes writes them, in both flavors (repl/asm.py); x/8xb.
DISASSEMBLY = [
    "show disassembly-flavor", "disassemble fact", "disassemble sum_first", "break fact",
    "run", "x/5i $pc", "disassemble", "x/8xb $pc", "x/3i", "set disassembly-flavor intel",
    "show disassembly-flavor", "x/5i $pc", "disassemble", "disassemble main",
    "disassemble sum_first", "up", "x/2i $pc", "set disassembly-flavor att", "x/2i $pc",
    "disassemble main",
]
# Everyday commands: tbreak, the breakpoint table through delete/disable/enable,
# p/c p/t p/o, `@` arrays, output, echo, printf, info registers (one by one: the full
# list ends in AVX-512's k0-k7 where the CPU has them), x/8xb, bt full, info signals,
# kill and run again.
EVERYDAY = [
    "info address main", "info address counter", "info address hidden", "info address add",
    "info address nosuch", "tbreak fact", "break sum_first", "break src_demo.c:78",
    "info breakpoints", "run",
    "info breakpoints", "p counter", "p/c counter", "p/t counter", "p/o counter",
    "p/x -1", "p/c 65", "output counter", "output greeting", "echo hi\\n",
    "echo a\\tb\\n", 'printf "%d %s\\n", counter, greeting',
    'printf "%x|%5d|%-3d|%c|%%\\n", counter, counter, 7, 65',
    'printf "%lu %ld %o %#x %p %p\\n", sizeof(shapes), -1, 8, 255, first, 0',
    'printf "%5.2f %e %g %s|%.2s\\n", 1.5, 2.25, 0.1, name, greeting', 'printf "%d\\n"',
    'printf "%hhd\\n", 1', "info registers rip", "info registers rax rbx",
    "info registers eflags rsp rbp", "p $rip", "x/8xb $sp", "x/2xg $sp", "x/4dw $sp",
    "x/3s greeting", "bt full", "up", "bt full", "bt 1", "delete 3", "disable 2",
    "info breakpoints", "continue", "info breakpoints", "enable 2", "info breakpoints",
    "continue", "p values[1]@3", "p *values@n", "p values[0]@2@2", "p/x values[0]@3",
    "p shapes[0].corner[0]@2", "p n@0", "p 5@2", "whatis values[0]@3", "output values[0]@2",
    "bt full", "info address values", "info address total", "info address kill",
    "info address RED", "info address counter", "info address printf", "info signals SIGINT",
    "info signals 14", "kill", "info breakpoints", "run",
    "bt", "info breakpoints",
]
# A function only in a library, broken on before `run`: gdb places it at the PLT stub
# (`Breakpoint 1 at 0x1060`, `<kill@plt>`) and moves it to libc's kill when libc is
# loaded; `info sharedlibrary` before and after (the .text bounds, gdb's names).
PLT_AND_LIBRARIES = [
    "info sharedlibrary", "break kill", "info breakpoints", "handle SIGUSR1 nostop noprint",
    "run", "bt 1", "info breakpoints", "info sharedlibrary", "delete", "continue",
]
SESSIONS = {"recursion": ("O0", RECURSION), "signal-and-loop": ("O0", SIGNAL_AND_LOOP),
            "libc-leaf": ("O0", LIBC_LEAF), "until-advance": ("O0", UNTIL_ADVANCE),
            "O2": ("O2", OPTIMIZED), "step-onto-breakpoints": ("returns", STEP_ONTO_BREAKPOINTS),
            "returns": ("returns", RETURNS), "returns-O2": ("returns-O2", RETURNS),
            "frames": ("O0", FRAMES), "frames-O2": ("O2", FRAMES),
            "disassembly": ("O0", DISASSEMBLY), "disassembly-O2": ("O2", DISASSEMBLY),
            "everyday": ("O0", EVERYDAY), "plt-and-libraries": ("O0", PLT_AND_LIBRARIES)}
FLAGS = {"O0": ["-O0", "-g"], "O2": ["-O2", "-g"]}
RETURNS_SOURCE = Path(__file__).parent / "tracees" / "src_returns.c"
# (source file, flags) of each build
BUILDS = {"O0": (SOURCE, FLAGS["O0"]), "O2": (SOURCE, FLAGS["O2"]),
          "returns": (RETURNS_SOURCE, FLAGS["O0"]), "returns-O2": (RETURNS_SOURCE, FLAGS["O2"])}


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("repl_vs_gdb")
    built = {}
    for name, (source, flags) in BUILDS.items():
        shutil.copy(source, folder / Path(source).name)
        binary = folder / f"demo_{name}"
        subprocess.run(["cc", *flags, "-o", str(binary), Path(source).name], cwd=folder,
                       check=True)
        built[name] = binary
    return built


def _with_markers(steps: list[str]) -> list[str]:
    args = []
    for i, step in enumerate(steps):
        args += ["-ex", f"echo @@@{i}\\n", "-ex", step]
    return args + ["-ex", "echo @@@end\\n"]


def _answers(stdout: str, count: int) -> list[str]:
    # not anchored: `output`, `echo` and `printf` end without a newline, so the next
    # marker follows their text on the same line (ours: after our echo of the command)
    parts = re.split(r"@@@(\d+|end)\n", stdout)
    found = {int(m): text for m, text in zip(parts[1::2], parts[2::2], strict=True)
             if m != "end"}
    return [normalised(found.get(i, "")) for i in range(count)]


_BANNER = re.compile(r"^(\[Thread debugging using libthread_db enabled\]|"
                     r"Using host libthread_db library .*|leaf)$")


def normalised(text: str) -> str:
    """Only what must differ: banners, our command echo, the pid, the tracee's line."""
    lines = []
    for line in text.splitlines():
        if line.startswith("(pydbg) ") or _BANNER.match(line):
            continue
        if "(pydbg) " in line:  # our echo after an answer with no newline (output 42)
            line = line[:line.index("(pydbg) ")]
        line = re.sub(r"^process \d+$", "process N", line)  # info proc
        lines.append(re.sub(r"^\[Inferior 1 \(process \d+\)", "[Inferior 1 (process N)", line))
    return "\n".join(lines).strip("\n")


def both(binary: Path, steps: list[str]) -> list[tuple[str, str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("LINES", "COLUMNS")}
    setup = [arg for line in GDB_SETUP for arg in ("-ex", line)]
    gdb = subprocess.run(["gdb", "-batch", "-nx", *setup, *_with_markers(steps), str(binary)],
                         cwd=binary.parent, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    ours = subprocess.run([*OURS, "debug", "--batch", *_with_markers(steps), str(binary)],
                          cwd=binary.parent, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert "Internal error" not in ours.stderr + ours.stdout, ours.stderr
    assert "Traceback" not in ours.stderr, ours.stderr
    theirs = _answers(gdb.stdout, len(steps))
    mine = _answers(ours.stdout, len(steps))
    return list(zip(steps, theirs, mine, strict=True))


@pytest.mark.parametrize("session", sorted(SESSIONS))
def test_batch_session_answers_equal_gdb(programs, session):
    build, steps = SESSIONS[session]
    pairs = both(programs[build], steps)
    compare(pairs)
    # an empty answer on both sides is an error on both: most must say something
    assert sum(1 for _, g, _ in pairs if g) >= len(pairs) * 2 // 3, pairs


def test_the_sessions_compare_at_least_60_answers():
    assert sum(len(steps) for _, steps in SESSIONS.values()) >= 60
