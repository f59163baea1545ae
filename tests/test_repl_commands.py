"""The REPL's command language without a program: abbreviations, help, formats, expressions."""

from __future__ import annotations

import io

import pytest

from pydbg_utrace.repl import commands
from pydbg_utrace.repl.cmd_data import parse_format
from pydbg_utrace.repl.debugger import Debugger
from pydbg_utrace.repl.expr import ExprError, Scope, evaluate
from pydbg_utrace.repl.view import Style, examine_lines, register_grid


@pytest.fixture
def dbg():
    return Debugger(io.StringIO())


def said(dbg) -> list[str]:
    return dbg.out.getvalue().splitlines()


@pytest.mark.parametrize("line, name", [
    ("si", "stepi"), ("stepi 5", "stepi"), ("c", "continue"), ("disas", "disassemble"),
    ("i r rip", "registers"), ("info reg", "registers"), ("info proc map", "mappings"),
    ("x/8xb $sp", "x"), ("bt", "backtrace"), ("backtrace", "backtrace"),
    ("where", "backtrace"), ("back", "backtrace"), ("cat sys write", "syscall"),
    ("eng lo f.py", "load"), ("q", "quit"), ("step-s", "step-syscall"),
    # gdb's own aliases: never a neighbour of ours (issue 15)
    ("p $rip", "print"), ("p/x $rsp", "print"), ("p counter", "print"), ("n", "next"),
    ("s", "step"), ("b main", "break"), ("i locals", "locals"), ("u", "until"),
    ("f 2", "frame"), ("l fact", "list"), ("fin", "finish"), ("start", "start"),
    ("starti", "starti"), ("next", "next"), ("ni", "nexti"), ("inspect x", "print"),
    ("ps", "ps"), ("info proc", "proc"), ("disp x", "display"),
])
def test_gdb_abbreviations_resolve(dbg, line, name):
    cmd, _ = commands.resolve(line)
    assert cmd.name == name


def test_ambiguous_and_unknown_words_are_one_line_each(dbg):
    assert not dbg.execute("sta")  # start, starti, ... in gdb too
    assert not dbg.execute("frobnicate 1 2")
    assert not dbg.execute("info nonsense")
    assert not dbg.execute("pyth")  # gdb's python: not ours, and not silently another
    lines = said(dbg)
    assert len(lines) == 4
    assert lines[0].startswith('Ambiguous command "sta": ') and "starti" in lines[0]
    assert lines[1] == 'Undefined command: "frobnicate".  Try "help".'
    assert lines[2] == 'Undefined info command: "nonsense".  Try "help info".'
    assert lines[3].startswith('"python" is a gdb command that pydbg-utrace does not have')


def test_help_p_is_print(dbg):
    assert commands.help_text("p").startswith("Usage: print")
    assert "Aliases: p, inspect" in commands.help_text("print")


def test_every_command_has_help_that_fits_80_columns(dbg):
    dbg.execute("help")
    for full_name, cmd in commands.all_commands():
        assert cmd.doc.strip(), f"{full_name} has no help"
        text = commands.help_text(full_name)
        assert text.startswith("Usage: ")
    assert all(len(line) <= 80 for line in said(dbg)), said(dbg)


def test_commands_on_no_program_say_so_and_the_repl_goes_on(dbg):
    for line in ("info registers", "x/8xb 0x1000", "stepi", "continue", "bt", "detach",
                 "kill", "info threads", "disassemble"):
        assert not dbg.execute(line), line
    assert set(said(dbg)) == {"The program is not being run."}
    assert dbg.execute("help stepi")


@pytest.mark.parametrize("text, expected", [
    ("/8xb", (8, "x", "b")), ("/x", (1, "x", "w")), ("/2gx", (2, "x", "g")),
    ("/4dw", (4, "d", "w")), ("/s", (1, "s", "w")), ("/3i", (3, "i", "w")),
    ("/c", (1, "c", "b")),
])
def test_x_formats(text, expected):
    assert parse_format(text, ("x", "w")) == expected


def test_x_bad_format_is_an_error():
    with pytest.raises(commands.CommandError):
        parse_format("/8q", ("x", "w"))


def test_examine_lines_like_gdb():
    data = bytes(range(0x68, 0x70))
    lines = examine_lines(data, 0x1000, "x", "b", "little", lambda a: "")
    assert lines == ["0x1000:\t0x68\t0x69\t0x6a\t0x6b\t0x6c\t0x6d\t0x6e\t0x6f"]
    assert examine_lines(b"\xff\xff\xff\xff", 0x10, "d", "w", "little", lambda a: "") \
        == ["0x10:\t-1"]


def test_expressions():
    scope = Scope(register={"rsp": 0x7000, "pc": 0x401000}.__getitem__,
                  symbol={"main": 0x401100}.get, read_word=lambda a: a + 1)
    assert evaluate("$rsp+8", scope) == 0x7008
    assert evaluate("main + 0x10 - 2", scope) == 0x40110E
    assert evaluate("&main", scope) == 0x401100
    assert evaluate("*($rsp)", scope) == 0x7001
    assert evaluate("-(1)", scope) == -1
    for bad in ("nosuch", "$nosuch", "1 +", "main)", "%"):
        with pytest.raises(ExprError):
            evaluate(bad, scope)


def test_register_grid_marks_changes_and_fits_80_columns():
    values = {name: i for i, name in enumerate("rax rbx rcx rdx eflags rip".split())}
    previous = dict(values, rbx=99)
    lines = register_grid(values, previous, Style(color=False))
    assert len(lines) == 2 and all(len(line) < 80 for line in lines)
    assert "   rbx*0x" in lines[0] and "   rax 0x" in lines[0]
