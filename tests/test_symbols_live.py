"""Symbols on real processes: PIE and non-PIE programs, libc, breakpoints by name."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import BUILD, SOURCES
from elftools.elf.elffile import ELFFile

from pydbg_utrace import Engine, Event
from pydbg_utrace.symbols import ElfSymbols, MapRow, Symbols, _bias, _parse_map_line

pytestmark = pytest.mark.live


class Hits(Engine):
    """Records the address of every breakpoint hit."""

    def __init__(self) -> None:
        self.addresses: list[int] = []

    def report_breakpoint(self, att, report):
        self.addresses.append(report.address)


def build_no_pie() -> str:
    """sym_target built with -no-pie (fixed addresses), next to the PIE build."""
    source, binary = SOURCES / "sym_target.c", BUILD / "sym_target_nopie"
    if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
        BUILD.mkdir(exist_ok=True)
        tmp = binary.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run([os.environ.get("CC", "cc"), "-O0", "-g", "-no-pie", "-Wl,-z,now",
                        "-o", str(tmp), str(source)], check=True)
        tmp.replace(binary)
    return str(binary)


def elf_type(path: str) -> str:
    with open(path, "rb") as f:
        return ELFFile(f)["e_type"]


def file_symbol(path: str, name: str) -> int:
    with open(path, "rb") as f:
        return ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)[0]["st_value"]


@pytest.fixture
def launch(tracer):
    children = []

    def start(path: str) -> subprocess.Popen:
        child = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True, bufsize=1)
        children.append(child)
        assert child.stdout.readline() == "ready\n"  # libc is mapped and running
        return child

    yield start
    tracer.close()  # before our wait(): the kernel would give it the tracer's stops
    for child in children:
        child.kill()
        child.wait()


def command(child: subprocess.Popen, line: str) -> str:
    child.stdin.write(line + "\n")
    return child.stdout.readline().strip()


def attach(tracer, child) -> tuple:
    process = tracer.attach_process(child.pid)
    engine = Hits()
    att = process.main_thread.attach(engine)
    att.set_events(Event.NONE)
    return process, att, engine


def test_breakpoint_by_symbol_in_a_pie_program(tracer, tracee, launch):
    path = tracee("sym_target")
    assert elf_type(path) == "ET_DYN"  # the system gcc builds PIE by default
    child = launch(path)
    symbols = Symbols(child.pid)
    address = symbols.resolve("sym_function")
    bias = address - file_symbol(path, "sym_function")
    assert bias != 0 and bias % 4096 == 0  # moved by ASLR, by whole pages
    assert symbols.address_of("main") == file_symbol(path, "main") + bias
    process, att, engine = attach(tracer, child)
    att.insert_breakpoint(address)
    assert command(child, "call") == "result 7"
    assert command(child, "call") == "result 13"
    assert engine.addresses == [address, address]


def test_breakpoint_by_symbol_in_a_non_pie_program(tracer, launch):
    path = build_no_pie()
    assert elf_type(path) == "ET_EXEC"
    child = launch(path)
    symbols = Symbols(child.pid)
    address = symbols.resolve("sym_function")
    assert address == file_symbol(path, "sym_function")  # no bias
    assert symbols.modules()[0].bias == 0
    process, att, engine = attach(tracer, child)
    att.insert_breakpoint(address)
    assert command(child, "call") == "result 7"
    assert engine.addresses == [address]


def test_breakpoints_on_malloc_and_write_in_libc(tracer, tracee, launch):
    child = launch(tracee("sym_target"))
    symbols = Symbols(child.pid)
    malloc, write = symbols.resolve("libc.so.6:malloc"), symbols.resolve("write")
    assert symbols.describe(malloc) == "libc.so.6:malloc"
    assert any(Path(lib).name == "libc.so.6" for lib in symbols.libraries())
    process, att, engine = attach(tracer, child)
    att.insert_breakpoint(malloc)
    att.insert_breakpoint(write)
    assert command(child, "call") == "result 7"
    assert engine.addresses == [write]  # printf wrote; nothing was allocated
    assert command(child, "malloc 100") == "malloced"
    assert engine.addresses == [write, malloc, write]


def test_describe_round_trips(tracee, launch):
    child = launch(tracee("sym_target"))
    symbols = Symbols(child.pid)
    for location in ("sym_function+3", "main", "sym_counter", "libc.so.6:malloc+4",
                     "libc.so.6:write"):
        assert symbols.describe(symbols.resolve(location)) == location
    assert symbols.resolve("sym_function+0x10") == symbols.resolve("sym_function") + 16
    assert symbols.resolve(" 0x401000 ") == 0x401000
    stack = next(row for row in symbols.mappings() if row.path == "[stack]")
    assert symbols.describe(stack.start) is None


def test_bad_input_gets_a_clear_error(tracee, launch):
    child = launch(tracee("sym_target"))
    symbols = Symbols(child.pid)
    with pytest.raises(KeyError, match="no symbol 'sym_functoin'.*did you mean.*sym_function"):
        symbols.address_of("sym_functoin")
    with pytest.raises(KeyError, match="no mapped object 'libnope'"):
        symbols.address_of("libnope:malloc")
    for bad in ("", "main+", "main+x", "+4", "a b", "libc.so.6:"):
        with pytest.raises(ValueError, match="bad location"):
            symbols.resolve(bad)
    with pytest.raises(ValueError, match="no symbol 'nosuchthing'"):
        symbols.resolve("nosuchthing+4")


def test_a_gone_process_is_a_process_lookup_error(tracee):
    child = subprocess.Popen([tracee("sym_target")], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL)
    child.wait()
    with pytest.raises(ProcessLookupError, match=str(child.pid)):
        Symbols(child.pid)


# -- pure parts, no process --------------------------------------------------------


def test_maps_line_parsing():
    row = _parse_map_line("7f0000001000-7f0000002000 r-xp 00026000 fe:00 339380   "
                          "/usr/lib/x86_64-linux-gnu/libc.so.6\n")
    assert row == MapRow(0x7F0000001000, 0x7F0000002000, "r-xp", 0x26000, 339380,
                         "/usr/lib/x86_64-linux-gnu/libc.so.6")
    assert _parse_map_line("7ffd0000-7ffd1000 rw-p 00000000 00:00 0 \n").path == ""


def test_bias_comes_from_the_first_pt_load_mapping():
    # A segment at p_vaddr 0x400040 / p_offset 0x40 is mapped from offset 0
    # at pagedown(0x400040 + bias): the row at 0x400000 means no bias.
    elf = ElfSymbols(0x400040, 0x40, (), {})
    assert _bias(elf, [MapRow(0x400000, 0x401000, "r--p", 0, 1, "/p")]) == 0
    pie = ElfSymbols(0, 0, (), {})
    rows = [MapRow(0x55550000A000, 0x55550000B000, "r-xp", 0x1000, 1, "/p"),
            MapRow(0x555500009000, 0x55550000A000, "r--p", 0, 1, "/p")]
    assert _bias(pie, rows) == 0x555500009000
    assert _bias(pie, rows[:1]) is None  # first PT_LOAD not mapped: no guess
