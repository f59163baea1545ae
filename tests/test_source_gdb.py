"""Differential tests of pydbg_utrace.source against gdb, answer by answer.

Static facts (types, globals with initialisers, line tables) come from the
file alone, as ``gdb -batch`` reads them without a process.  Dynamic ones
come from a run under gdb: at each stop gdb answers (``bt``, ``info locals``,
``print``...) and writes a core with ``gcore``; our modules then answer the
same questions from that core alone (its memory, its registers, the files it
maps), with no ptrace.  Answers are compared line by line, unnormalised: the
tracee is compiled in a temporary directory under the name ``src_demo.c`` so
that both print the same file names, and gdb's history numbers are mirrored.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pydbg_utrace.source import answers
from pydbg_utrace.source.corefile import CoreFile
from pydbg_utrace.source.format import Printer
from pydbg_utrace.source.frames import backtrace, dwarf_registers
from pydbg_utrace.source.listing import Lister
from pydbg_utrace.source.program import Image, Program
from pydbg_utrace.source.regs import X86_64
from pydbg_utrace.source.returns import return_value
from pydbg_utrace.source.scope import FileScope, FrameScope, History
from pydbg_utrace.source.solibs import name_libraries
from pydbg_utrace.source.values import SourceError

SOURCE = Path(__file__).parent / "tracees" / "src_demo.c"
VARIANTS = {"O0": ["-O0", "-g"], "O0-dwarf4": ["-O0", "-gdwarf-4"], "O2": ["-O2", "-g"],
            "O2-dwarf4": ["-O2", "-gdwarf-4"],  # location lists in .debug_loc, not loclists
            "O0-no-pie": ["-O0", "-g", "-no-pie"],  # fixed addresses: break main before run
            # no .eh_frame for our code: gcc puts its CFI in .debug_frame instead
            "O0-debug_frame": ["-O0", "-g", "-fno-asynchronous-unwind-tables"],
            # and then without that too: only frame pointers are left to unwind with
            "O0-no-cfi": ["-O0", "-g", "-fno-asynchronous-unwind-tables"]}

pytestmark = [pytest.mark.live,  # compiles C and runs gdb on real processes
              pytest.mark.skipif(shutil.which("gdb") is None or shutil.which("cc") is None,
                                 reason="needs gdb and a C compiler (apt-get install gdb gcc)")]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("src")
    shutil.copy(SOURCE, folder / "src_demo.c")
    out = {}
    for name, flags in VARIANTS.items():
        binary = folder / f"demo_{name}"
        subprocess.run(["cc", *flags, "-o", str(binary), "src_demo.c"], cwd=folder, check=True)
        if name == "O0-no-cfi":
            subprocess.run(["objcopy", "--remove-section", ".debug_frame", str(binary)],
                           check=True)
        out[name] = binary
    return out


# -- gdb ------------------------------------------------------------------------------------

def run_gdb(binary: Path, steps: list[str], gdb: str = "gdb") -> list[str]:
    """Each step's output.  A step is a gdb command; its output is what gdb printed
    between our marker before it and the next marker.  Steps go as ``-ex`` (an
    error in a ``-x`` script would end the script)."""
    args = ["-ex", "set pagination off", "-ex", "set width 0", "-ex", "set confirm off"]
    for i, step in enumerate(steps):
        args += ["-ex", f"echo @@@{i}\\n", "-ex", step]
    args += ["-ex", "echo @@@end\\n"]
    done = subprocess.run([gdb, "-batch", "-nx", *args, str(binary)],
                          cwd=binary.parent, capture_output=True, text=True, timeout=120)
    parts = re.split(r"^@@@(\d+|end)\n", done.stdout, flags=re.M)
    outputs = {}
    for marker, text in zip(parts[1::2], parts[2::2], strict=True):
        if marker != "end":
            outputs[int(marker)] = text.rstrip("\n")
    return [outputs.get(i, "") for i in range(len(steps))]


def gdb_answer(text: str) -> str:
    """gdb's error lines go to stderr: an empty stdout answer stays empty."""
    return text


# -- our side: the commands a REPL will map onto the source modules --------------------------

class Answerer:
    """A model of the REPL commands over one frozen state (file or core)."""

    def __init__(self, program: Program, read, frames=None):
        self.program = program
        self.read = read
        self.history = History()
        self.printer = Printer(read, program.symbolize)
        self.frames = frames or []
        self.selected = 0
        self.lister = Lister()

    def scope(self):
        if self.frames:
            return FrameScope(self.frames[self.selected], self.history)
        return FileScope(self.program, self.read, self.history)

    def answer(self, command: str) -> str:
        try:
            return "\n".join(self._lines(command))
        except SourceError:
            return ""  # gdb prints errors on stderr: its stdout answer is empty too

    def _lines(self, command: str) -> list[str]:
        head, _, rest = command.partition(" ")
        if head.startswith("p/") or head.startswith("print/"):
            return [answers.print_value(rest, self.scope(), self.printer, self.history,
                                        head.split("/")[1])]
        if head in ("p", "print"):
            return [answers.print_value(rest, self.scope(), self.printer, self.history)]
        if head == "ptype":
            return [answers.ptype(rest, self.scope())]
        if head == "whatis":
            return [answers.whatis(rest, self.scope())]
        image = self.program.images[0]
        if command.startswith("info line "):
            return [answers.info_line(image.debug, rest.split()[-1], image.bias,
                                      self.program.symbolize)]
        if head == "break" and ":" not in rest:
            self.breaks = getattr(self, "breaks", 0) + 1
            return [answers.break_function(image.debug, rest, self.breaks, image.bias)]
        if head == "break":
            file, line = rest.split(":")
            self.breaks = getattr(self, "breaks", 0) + 1
            return [answers.break_line(image.debug, file, int(line), self.breaks, image.bias)]
        if head == "list":
            return self._list(image, rest)
        if command == "bt":
            return answers.backtrace(self.frames, self.printer)
        if command == "info locals":
            return answers.info_locals(self.frames[self.selected], self.printer)
        if command == "info args":
            return answers.info_args(self.frames[self.selected], self.printer)
        if head in ("frame", "up", "down"):
            step = int(rest) if rest else 1
            self.selected = step if head == "frame" else \
                self.selected + (step if head == "up" else -step)
            return answers.frame_header(self.frames[self.selected], self.printer)
        raise AssertionError(f"the test does not model {command!r}")


    def _list(self, image, rest: str) -> list[str]:
        if not rest:
            return self.lister.more()
        if "," in rest:
            first, last = (int(x) for x in rest.split(","))
            file = self.lister.name or image.debug.line_at(
                image.debug.function_named("main").low).file
            return answers.list_lines(image.debug, self.lister, file, first, last)
        if ":" in rest:
            file, line = rest.split(":")
            return answers.list_lines(image.debug, self.lister, file, int(line))
        return answers.list_function(image.debug, self.lister, rest)


def file_answerer(binary: Path) -> Answerer:
    image = Image.load(str(binary))
    return Answerer(Program([image]), image.debug.read_file)


def core_answerer(core_path: Path) -> Answerer:
    core = CoreFile(str(core_path))
    program = Program([Image.load(path, bias, ranges) for path, bias, ranges in core.images()])
    regs = core.threads[0]
    registers = dwarf_registers(regs, X86_64)
    name_libraries(program, core.read)
    frames, _ = backtrace(program, X86_64, core.read, regs["rip"], registers)
    return Answerer(program, core.read, frames)


def compare(pairs: list[tuple[str, str, str]]) -> None:
    """All (command, gdb, ours) answers, reported together when any differs."""
    differ = [f"{cmd!r}\n  gdb:  {g!r}\n  ours: {o!r}" for cmd, g, o in pairs if g != o]
    assert not differ, f"{len(differ)} of {len(pairs)} answers differ:\n" + "\n".join(differ)


# -- static facts -----------------------------------------------------------------------------

STATIC = [
    "p counter", "p big", "p byte", "p letter", "p ratio", "p half", "p buffer", "p zeros",
    "p matrix", "p matrix[1]", "p matrix[1][2]", "p shorts", "p paint", "p perms", "p count_u",
    "p hidden", "p shapes[1].corner", "p shapes[0].inner", "p shapes[0].inner.tag",
    "p shapes[1].layer", "p shapes[0].visible", "p shapes[1].u", "p shapes[0].scale",
    "p/x counter", "p/x big", "p/o counter", "p/t byte", "p/c counter", "p/d byte",
    "p/x shorts", "p/x matrix", "p/x buffer",
    "p sizeof(struct shape)", "p sizeof(shapes)", "p sizeof(int)", "p sizeof(big)",
    "p sizeof shapes[0].corner", "p 1 + 2 * 3", "p 10 / 3", "p -7 % 3", "p 10.0 / 4", "p 'A'",
    "p '\\n'", "p \"hi\"", "p 1 == 1", "p counter > 40 && letter == 'A'", "p (char)counter",
    "p big / 1000", "p -counter", "p ~counter", "p !counter", "p counter << 2", "p BLUE",
    "p (enum color)1", "p RED == paint", "p (enum flags)3", "p (enum flags)8", "p 7u - 8",
    "p 2147483647 + 1", "p 4294967296", "p 0x7fffffff", "p 0xffffffff", "p 1.0 / 3",
    "p (float)1 / 3", "p ratio * 2", "p half + 1", "p matrix[0][1] + matrix[1][2]",
    "p &counter", "p &shapes[1]", "p *&counter", "p &matrix[1]", "p fact", "p main",
    "p &zeros[3]", "p *matrix", "p count_u * 2", "p byte + 1", "p letter + 1",
    "whatis counter", "whatis shapes", "whatis &shapes[0]", "whatis shapes[0].op",
    "whatis matrix[0]", "whatis greeting", "whatis 1 + 2L", "whatis counter + 1u",
    "whatis (char)1", "whatis count_u", "whatis &matrix", "whatis fact", "whatis byte + 1",
    "whatis sizeof(int)", "whatis 'a'", "whatis 1.5", "whatis half * 2", "whatis &fact",
    "ptype struct shape", "ptype struct point", "ptype enum color", "ptype enum flags",
    "ptype uint_t", "ptype binop_t", "ptype shapes", "ptype fact", "ptype main",
    "ptype first", "ptype counter_ptr", "ptype nothing", "ptype matrix", "ptype greeting",
    "whatis struct shape", "whatis uint_t", "whatis binop_t", "whatis char **",
    "ptype unsigned long", "whatis uint_t *", "ptype struct point *", "whatis enum color",
    "ptype short", "whatis long long int", "p sizeof(struct point *)", "p (long)sizeof(char)",
    "info line fact", "info line main", "info line sum_first", "info line on_signal",
    "break src_demo.c:62", "break src_demo.c:77", "break src_demo.c:56", "break src_demo.c:66",
    "break src_demo.c:88",
    "list fact", "list", "list 10,12", "list src_demo.c:3", "list main", "list sum_first",
    "list", "list", "list", "list 95,98",
]


@pytest.mark.parametrize("variant", ["O0", "O0-dwarf4", "O2", "O0-no-pie"])
def test_static_answers_equal_gdb(built, variant):
    binary = built[variant]
    steps = STATIC if variant != "O2" else [s for s in STATIC if not s.startswith("break")]
    theirs = run_gdb(binary, steps)
    ours = file_answerer(binary)
    compare([(cmd, gdb_answer(g), ours.answer(cmd)) for cmd, g in zip(steps, theirs,
                                                                       strict=True)])


CROSS = {"ppc64le": "powerpc64le-linux-gnu-gcc", "s390x": "s390x-linux-gnu-gcc"}


@pytest.mark.parametrize("target", sorted(CROSS))
def test_static_answers_equal_gdb_for_other_architectures(tmp_path, target):
    """ppc64le (little-endian, local entry points) and s390x (big-endian) files,
    read on this host as gdb-multiarch reads them."""
    compiler = CROSS[target]
    if shutil.which(compiler) is None or shutil.which("gdb-multiarch") is None:
        pytest.skip(f"needs {compiler} and gdb-multiarch (apt-get install gcc-{target}-"
                    "linux-gnu gdb-multiarch)")
    shutil.copy(SOURCE, tmp_path / "src_demo.c")
    binary = tmp_path / f"demo_{target}"
    subprocess.run([compiler, "-O0", "-g", "-o", str(binary), "src_demo.c"], cwd=tmp_path,
                   check=True)
    steps = STATIC + ["break fact", "break main", "break marker", "p shapes[0].name",
                      "p *shapes[0].next", "p shapes[0].op"]
    theirs = run_gdb(binary, steps, gdb="gdb-multiarch")
    ours = file_answerer(binary)
    compare([(cmd, g, ours.answer(cmd)) for cmd, g in zip(steps, theirs, strict=True)])


# -- dynamic facts, from gcore snapshots --------------------------------------------------------

STOPS_O0 = [
    ("break fact if n==1\nbreak marker\nrun > /dev/null", [
        "bt", "info args", "info locals", "p n", "p n * 2 + 1", "p/x n", "p $pc", "p/x $sp",
        "frame 4", "info locals", "info args", "up", "info args", "p $pc",
        "frame 5", "info locals", "p local_numbers", "p local_numbers[2]", "p name",
        "p here", "p here.y", "p *cursor", "p cursor->corner[1]", "p cursor->name",
        "p *cursor->next", "p cursor->next->name", "p sizeof(local_numbers)",
        "p/x local_numbers", "whatis cursor", "ptype cursor", "p greeting", "p first",
        "p *first", "p first->op", "p counter_ptr", "p *counter_ptr", "p nothing",
        "p shapes[0].next->corner[0]", "p/x shapes[0]", "p shapes", "p $pc", "p $sp == &here",
        "p cursor == first", "p &cursor->corner[1]", "p cursor[1].name",
        "p *local_numbers@2" if False else "p local_numbers[1] + local_numbers[4]",
        "p $", "p $$2", "p $1",
        "p *(struct point *)&here", "p (char **)&greeting", "p *(char **)&greeting",
        "p (long)cursor - (long)first", "p cursor - first", "p &first->corner[1].y",
        "whatis &here", "ptype here", "p sizeof(here)", "whatis *cursor", "p name[0]",
        "p/c name", "p/d name", "p/x name", "p (unsigned char)name[1]", "p -here.y",
        "p here.x * here.y", "p here.x / 3.0", "p cursor->color", "p cursor->color == GREEN",
        "p/d cursor->color", "p (enum color)(cursor->color + 3)", "p first->visible",
        "p first->layer + 1", "p first->inner", "p &first->inner", "p first->u.f",
        "p first->op == add", "p *first->op", "p first->op", "p/x *counter_ptr",
        "p counter_ptr[0]", "p *&*counter_ptr", "whatis first->op", "ptype first->op",
        "ptype first->inner", "whatis first->corner", "ptype struct shape *",
        "p local_numbers + 1", "p *(local_numbers + 2)", "p &local_numbers[4] - local_numbers",
        "p sizeof local_numbers / sizeof local_numbers[0]", "p name + 1",
    ]),
    ("continue", ["bt", "p $pc"]),  # SIGUSR1 stops gdb in kill: a libc leaf
    ("continue", ["bt", "up", "info locals", "info args", "p signo", "p got_signal",
                  "frame 3", "frame 4", "info locals"]),
    ("continue", ["bt", "up", "info locals", "info args", "p values[1]", "p *values",
                  "p total"]),
    ("continue", ["bt", "up", "info locals", "p cursor->name", "p result", "p cursor"]),
    ("delete\nbreak write\nrun > /dev/null", ["bt", "info args", "p fd", "p nbytes",
                                              "p (char *)buf", "frame 5", "info locals"]),
    # inside write, at its syscall instruction: a libc leaf mid-function
    ("delete\ncatch syscall write\nrun > /dev/null", ["bt", "info args", "p $pc", "up",
                                                      "info locals", "p n"]),
]


def _dynamic(binary: Path, stops, answerers: list | None = None) -> list[tuple[str, str, str]]:
    steps, where = [], []
    for n, (go, commands) in enumerate(stops):
        steps += go.split("\n")
        where += [None] * len(go.split("\n"))
        core = binary.parent / f"{binary.name}.{n}.core"
        steps.append(f"gcore {core}")
        where.append(None)
        for cmd in commands:
            steps.append(cmd)
            where.append(core)
    theirs = run_gdb(binary, steps)
    pairs, answerer, current = [], None, None
    history = History()  # one gdb session: one value history across the stops
    for cmd, core, gdb_text in zip(steps, where, theirs, strict=True):
        if core is None:
            continue
        if core != current:
            assert core.exists(), f"gdb wrote no core {core}: {theirs}"
            answerer, current = core_answerer(core), core
            answerer.history = history
            if answerers is not None:
                answerers.append(answerer)
        pairs.append((f"{core.name}: {cmd}", gdb_answer(gdb_text), answerer.answer(cmd)))
    return pairs


def test_dynamic_answers_equal_gdb_O0(built):
    compare(_dynamic(built["O0"], STOPS_O0))


@pytest.mark.parametrize("variant", ["O0-dwarf4", "O0-debug_frame", "O0-no-cfi", "O0-no-pie"])
def test_dynamic_answers_equal_gdb_other_builds(built, variant):
    answerers: list[Answerer] = []
    compare(_dynamic(built[variant], STOPS_O0, answerers))
    recursion = answerers[0].frames[1:5]  # fact called from fact: our code's own frames
    expected = "frame pointer" if variant == "O0-no-cfi" else "cfi"
    assert [f.state.how for f in recursion] == [expected] * 4


# -O2: location lists, registers, <optimized out>, param@entry from call sites, a tail
# call from the signal handler (gdb's bt shows no on_signal frame), fact as a loop
STOPS_O2 = [
    ("break marker\nrun > /dev/null", ["bt", "p $pc", "info locals"]),
    ("continue", ["bt", "info args", "p value", "up", "info locals", "frame 2",
                  "info locals", "frame 3", "info locals"]),
    ("continue", ["bt", "info args", "up", "info locals", "info args", "p n", "p values",
                  "p *values", "p values[4]", "p total", "p squares", "p total + n",
                  "p/x total", "frame 2", "info locals", "p local_numbers"]),
    ("continue", ["bt", "up", "info locals", "p result", "p cursor", "p cursor->name",
                  "p here", "p name"]),
    ("delete\nbreak fact\nrun > /dev/null", ["bt", "info locals", "info args", "p n",
                                               "p n * 3"]),
    ("break write\ncontinue", ["bt", "info args", "p fd", "p buf", "p nbytes", "up",
                                "info locals", "info args"]),
    ("delete\ncatch syscall write\nrun > /dev/null", ["bt", "info args", "p $pc", "up",
                                                      "info args"]),
]


@pytest.mark.parametrize("variant", ["O2", "O2-dwarf4"])
def test_dynamic_answers_equal_gdb_O2(built, variant):
    compare(_dynamic(built[variant], STOPS_O2))


@pytest.mark.skipif(not Path("/usr/include/zlib.h").exists(), reason="needs zlib1g-dev")
def test_dynamic_answers_through_a_library_without_debug_info(tmp_path):
    shutil.copy(SOURCE.with_name("src_zlib.c"), tmp_path / "src_zlib.c")
    binary = tmp_path / "zdemo"
    subprocess.run(["cc", "-O0", "-g", "-o", str(binary), "src_zlib.c", "-lz"], cwd=tmp_path,
                   check=True)
    stops = [("break my_alloc\nrun", ["bt", "p $pc", "up", "p $pc", "info locals", "up",
                                       "info locals", "p stream.zalloc", "p stream.avail_in",
                                       "info args", "frame 1", "info args", "p size * items"])]
    compare(_dynamic(binary, stops))


def test_backtrace_goes_to_start_or_says_why_it_stops(built):
    binary = built["O0"]
    core_path = binary.parent / "stop-reason.core"
    run_gdb(binary, ["break fact if n==1", "run > /dev/null", f"gcore {core_path}"])
    core = CoreFile(str(core_path))
    program = Program([Image.load(path, bias, ranges) for path, bias, ranges in core.images()])
    regs = core.threads[0]
    registers = dwarf_registers(regs, X86_64)
    frames, why = backtrace(program, X86_64, core.read, regs["rip"], registers)
    # past main: libc's start-up, then _start, whose CFI marks the return address undefined
    assert [f.function.name if f.function else program.symbolize(f.pc) for f in frames][-4:] \
        == ["main", "__libc_start_call_main", "__libc_start_main_impl", "_start+33"]
    assert why == ""
    # the stack from frame 3's CFA up becomes unreadable: frame 4 is still found (its
    # saved rbp and return address lie below that CFA), frame 4's caller is not
    limit = frames[3].state.cfa

    def torn(address: int, size: int) -> bytes:
        if limit <= address < limit + (1 << 20):
            raise OSError(f"no memory at {address:#x}")
        return core.read(address, size)

    frames, why = backtrace(program, X86_64, torn, regs["rip"], registers)
    assert len(frames) == 5
    assert re.fullmatch(r"Backtrace stopped: Cannot access memory at address 0x[0-9a-f]+", why)


@pytest.mark.parametrize("flags", [["-O2", "-g"], ["-O2", "-gdwarf-4"]])
def test_dynamic_answers_through_inlined_calls(tmp_path, flags):
    """gdb shows each inlined call as a frame: its arguments, locals, call line."""
    shutil.copy(SOURCE.with_name("src_inline.c"), tmp_path / "src_inline.c")
    binary = tmp_path / "inl"
    subprocess.run(["cc", *flags, "-o", str(binary), "src_inline.c"], cwd=tmp_path, check=True)
    stops = [("break marker\nrun", [
        "bt", "up", "info locals", "info args", "p x", "p doubled", "p $pc", "up",
        "info locals", "info args", "p a", "up", "info args", "info locals", "p argc",
        "p argv[0][0]", "frame 2", "frame 1", "down", "p value"])]
    compare(_dynamic(binary, stops))


def test_finish_value_returned_matches_gdb(built):
    binary = built["O0"]
    core_path = binary.parent / "finish.core"
    out = run_gdb(binary, ["break fact if n==2", "run > /dev/null", "finish",
                           f"gcore {core_path}"])
    said = re.search(r"^Value returned is \$1 = (.*)$", out[2], re.M)
    assert said, out[2]
    core = CoreFile(str(core_path))
    image = Image.load(str(binary))
    fact = image.debug.function_named("fact")
    value = return_value(fact.type.target, dwarf_registers(core.threads[0], X86_64), X86_64)
    assert Printer().value(value) == said.group(1) == "2"
