"""The program at the source level, for the REPL: images, frames, values, lines.

A thin adapter between the session (a live process, or only its file before
``run``) and the pure modules of :mod:`pydbg_utrace.source`.  It keeps what a
gdb user's commands share: the value history (``$1``), the selected frame
(``frame 2`` changes what ``print`` and ``info locals`` see), the listing
position, and the ``display`` expressions.  Frames are unwound once per stop
(CFI, then frame pointers) and thrown away when the program moves or is
written to.  DWARF is opened once per file and kept across runs.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from pydbg_utrace.source.debuginfo import DebugInfo, open_debug_info
from pydbg_utrace.source.format import Printer
from pydbg_utrace.source.frames import SourceFrame, backtrace, dwarf_registers
from pydbg_utrace.source.lines import LineRange
from pydbg_utrace.source.listing import Lister
from pydbg_utrace.source.plt import plt_stubs
from pydbg_utrace.source.program import Image, Program
from pydbg_utrace.source.regs import BY_ARCH, RegisterMap
from pydbg_utrace.source.scope import FileScope, FrameScope, History
from pydbg_utrace.source.solibs import name_libraries
from pydbg_utrace.source.symtab import function_entry
from pydbg_utrace.source.values import SourceError
from pydbg_utrace.symbols import Symbols

from .session import DebugError, Session

_FILE_LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+)$")


@dataclass
class Location:
    """Where a LOCATION of ``break``/``until``/``advance``/``list`` is."""

    address: int
    line: LineRange | None = None  # the source line there (None: no line info)
    # A function found only as a PLT stub (``kill@plt``: its code is in a library
    # not loaded yet); gdb places the breakpoint there and moves it to the function
    # once the library is loaded.
    stub: bool = False


class SourceLevel:
    """The session's source-level view; one per debugger."""

    def __init__(self, session: Session):
        self.session = session
        self.history = History()
        self.lister = Lister()
        self.displays: list[tuple[int, str, str]] = []  # (number, format, expression)
        self.next_display = 1
        self.selected = 0
        self._debug: dict[str, DebugInfo] = {}  # DWARF by path, kept across runs
        self._images: dict[tuple, Image] = {}
        self._program: Program | None = None
        self._program_key: tuple | None = None
        self._frames: tuple[tuple, list[SourceFrame], str] | None = None

    # -- the program's images ----------------------------------------------------------
    def debug_info(self, path: str) -> DebugInfo:
        if path not in self._debug:
            debug = self._debug[path] = open_debug_info(path)
            debug.announce_indexing = _announce_indexing
        return self._debug[path]

    def _image(self, path: str, bias: int, ranges: tuple) -> Image:
        key = (path, bias, ranges)
        if key not in self._images:
            self._images[key] = Image(path, bias, list(ranges), self.debug_info(path))
        return self._images[key]

    def program(self) -> Program:
        """The live process's mapped ELF files, or the program's file before ``run``."""
        session = self.session
        if session.alive:
            modules = Symbols(session.require_process().pid).modules()
            key = tuple((m.path, m.bias, tuple(m.ranges)) for m in modules)
            if key != self._program_key:
                self._program = Program([self._image(*k) for k in key])
                self._program_key = key
                try:
                    name_libraries(self._program, self.read)
                except (OSError, SourceError):
                    pass  # the dynamic linker has not run yet
            assert self._program is not None
            return self._program
        if not session.program:
            raise DebugError("No symbol table is loaded.  Use the \"file\" command.")
        path = _which(session.program[0])
        key = ("file", path)
        if key != self._program_key:
            # As gdb before `run`: file addresses (a PIE's start at 0); breakpoints
            # are placed again at the program's real addresses when it is loaded.
            self._program = Program([self._image(path, 0, ())])
            self._program_key = key
        assert self._program is not None
        return self._program

    def main_image(self) -> Image:
        return self.program().images[0]

    # -- memory ----------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes:
        """The program's bytes (its file's, before ``run``); OSError where none."""
        session = self.session
        if session.alive:
            data = session.require_process().memory.read(address, size)
            if len(data) < size:
                raise OSError(f"Cannot access memory at address {address + len(data):#x}")
            return data
        image = self.main_image()
        if not _in_sections(image.debug, address - image.bias, size):
            raise OSError(f"Cannot access memory at address {address:#x}")
        return image.debug.read_file(address - image.bias, size)

    @property
    def byteorder(self) -> str:
        if self.session.alive:
            return self.session.arch.byteorder
        return "little" if self.main_image().debug.elf.little_endian else "big"

    def write(self, address: int, data: bytes) -> None:
        try:
            self.session.require_process().memory.write(address, data)
        except OSError:
            raise SourceError(f"Cannot access memory at address {address:#x}") from None
        self.forget_frames()

    # -- frames ----------------------------------------------------------------------------
    @property
    def regmap(self) -> RegisterMap:
        name = self.session.arch.name
        if name not in BY_ARCH:
            raise DebugError(f"No source-level support for {name}.")
        return BY_ARCH[name]

    def frames(self) -> tuple[list[SourceFrame], str]:
        """The selected thread's frames, innermost first, and why the walk ended."""
        session = self.session
        epoch = (session.epoch, session.current)  # per thread: `thread N`
        if self._frames is None or self._frames[0] != epoch:
            regs = session.registers()
            regmap = self.regmap
            registers = dwarf_registers(regs.as_dict(), regmap)
            frames, why = backtrace(self.program(), regmap, self.read, regs.pc, registers)
            for frame in frames:  # gdb's `backtrace past-main off`: nothing above main
                if frame.inline is None and frame.name == "main":
                    frames, why = frames[:frame.level + 1], ""
                    break
            self._frames = (epoch, frames, why)
            self.selected = 0
        return self._frames[1], self._frames[2]

    def forget_frames(self) -> None:
        """Registers or memory changed: unwind again (the selected frame stays)."""
        selected = self.selected
        self._frames = None
        if self.session.alive:
            frames, _ = self.frames()
            self.selected = min(selected, len(frames) - 1)

    def frame(self) -> SourceFrame:
        frames, _ = self.frames()
        if not frames:
            raise DebugError("No stack.")
        return frames[min(self.selected, len(frames) - 1)]

    def select(self, level: int) -> SourceFrame:
        frames, _ = self.frames()
        if not 0 <= level < len(frames):
            raise DebugError(f"No frame at level {level}." if level >= 0
                             else "Bottom (innermost) frame selected; you cannot go down.")
        self.selected = level
        return frames[level]

    # -- scopes and printing -------------------------------------------------------------
    def printer(self) -> Printer:
        program = self.program()
        return Printer(self.read, program.symbolize)

    def scope(self) -> FileScope:
        """The selected frame's scope while stopped; the files' globals otherwise."""
        session = self.session
        if session.alive and session.is_held(session.current):
            return FrameScope(self.frame(), self.history, write_memory=self.write,
                              write_register=self._write_register)
        return FileScope(self.program(), self.read, self.history, write_memory=self.write)

    def _write_register(self, number: int, value: int) -> None:
        name = self.regmap.names[number]
        regs = self.session.registers()
        if name == self.regmap.pc_name:
            regs.pc = value & ((1 << 64) - 1)
        else:
            regs[name] = value & ((1 << 64) - 1)
        self.forget_frames()

    # -- locations ---------------------------------------------------------------------------
    def location(self, text: str, evaluate) -> Location:
        """``FILE:LINE``, ``LINE``, ``FUNCTION`` (past its prologue) or ``*ADDRESS``.

        ``evaluate`` answers the rest (an address expression)."""
        text = text.strip()
        program = self.program()
        found = _FILE_LINE.match(text)
        if found is not None or text.isdigit():
            file = found["file"] if found else self.default_file()
            line = int(found["line"] if found else text)
            for image in program.images:
                if not image.debug.has_dwarf:
                    continue
                _, addresses = image.debug.line_addresses(file, line)
                if addresses:
                    address = addresses[0] + image.bias
                    return Location(address, program.line_at(address))
            raise DebugError(f'No line {line} in file "{file}".')
        if not text.startswith("*") and re.fullmatch(r"[A-Za-z_]\w*", text):
            for image in program.images:
                if not image.debug.has_dwarf:
                    continue
                fn = image.debug.function_named(text)
                if fn is not None:
                    address = image.debug.after_prologue(fn) + image.bias
                    return Location(address, program.line_at(address))
            for image in program.images:  # no line info: the ELF symbol's entry
                entry = function_entry(image.debug.elf, text)
                if entry is not None:
                    return Location(entry + image.bias, None)
            for image in program.images:  # only a stub here: the function is a library's
                for start, _size, name in plt_stubs(image.debug.elf):
                    if name == f"{text}@plt":
                        return Location(start + image.bias, None, stub=True)
        address = evaluate(text[1:] if text.startswith("*") else text)
        return Location(address, program.line_at(address))

    def default_file(self) -> str:
        """The file of the selected frame, else of ``main``."""
        if self.session.alive and self.session.is_held(self.session.current):
            line = self.frame().line
            if line is not None:
                return line.file
        if self.lister.name:
            return self.lister.name
        debug = self.main_image().debug
        fn = debug.function_named("main")
        found = debug.line_at(fn.low) if fn is not None else None
        if found is None:
            raise DebugError("No default source file.")
        return found.file

    # -- displays and listing -------------------------------------------------------------
    def add_display(self, fmt: str, expression: str) -> int:
        number = self.next_display
        self.next_display += 1
        self.displays.append((number, fmt, expression))
        return number

    def remove_displays(self, numbers: list[int]) -> None:
        self.displays = [d for d in self.displays if numbers and d[0] not in numbers]

    def display_lines(self, numbers: list[int] | None = None) -> list[str]:
        """``1: n = 5``, ``2: /x n = 0x5`` for each display (those that can be shown)."""
        from pydbg_utrace.source.evaluate import evaluate

        out = []
        for number, fmt, expression in self.displays:
            if numbers is not None and number not in numbers:
                continue
            try:
                value = evaluate(expression, self.scope())
                text = self.printer().value(value, fmt)
            except (SourceError, DebugError, OSError):
                continue  # gdb too skips a display it cannot show here
            out.append(f"{number}: {'/' + fmt + ' ' if fmt else ''}{expression} = {text}")
        return out

    def list_around(self, frame: SourceFrame) -> None:
        """After a stop or `frame N`, a bare `list` lists around the frame's line."""
        line = frame.line
        if line is not None:
            self.lister.place(_listing_path(frame), line.file, line.line)

    def stop_lines(self, with_frame: bool, prefix: str = "") -> list[str]:
        """gdb's words for where the program stands: ``fact (n=1) at f.c:58`` (when
        ``with_frame``), then the source line ``58\\t...``; pc first when mid-line."""
        from pydbg_utrace.source import answers
        from pydbg_utrace.source.format import frame_line

        frame = self.frame()
        printer = self.printer()
        text = answers.source_line(frame)
        line = frame.line
        lines = []
        mid_line = line is None or line.start != frame.pc or not line.is_stmt
        if with_frame or mid_line:
            head = frame_line(frame, printer)
            head = head.split(" ", 1)[1].lstrip()  # "#0  " off
            lines.append(prefix + head)
        if text is not None:
            lines.append(text)
        self.list_around(frame)
        return lines


def _announce_indexing(debug_path: str) -> None:
    """The first lookup that needs a file's name index walks all its DIEs (about
    ten seconds for libc): say so, once per build (the index is cached on disk).
    On stderr, beside gdb's own notes, so that a batch session's answers stay clean."""
    print(f"Indexing the names in {debug_path} (once for this build)...", file=sys.stderr,
          flush=True)


def _listing_path(frame: SourceFrame) -> str | None:
    image = frame.image
    line = frame.line
    if image is None or line is None:
        return None
    unit = image.debug.unit_at(frame.file_pc)
    folder = unit.top.attributes.get("DW_AT_comp_dir") if unit is not None else None
    if folder is not None and not os.path.isabs(line.file):
        return os.path.join(folder.value.decode(errors="replace"), line.file)
    return line.file


SHF_ALLOC = 0x2


def _in_sections(debug: DebugInfo, address: int, size: int) -> bool:
    """As gdb reads an executable file: only its loaded sections, not the headers
    that a PT_LOAD happens to cover."""
    for section in debug.elf.iter_sections():
        low = section["sh_addr"]
        if section["sh_flags"] & SHF_ALLOC and low <= address < low + section["sh_size"]:
            return True
    return False


def _which(program: str) -> str:
    import shutil

    if "/" in program:
        return program
    return shutil.which(program) or program

