"""Pure units of pydbg_utrace.source: no process, no gdb, no compiler (except the
debug-file discovery test, marked live: it builds one small program)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from pydbg_utrace.source import cexpr, location
from pydbg_utrace.source.debugfile import find_debug_file
from pydbg_utrace.source.evaluate import INT, Evaluator, evaluate
from pydbg_utrace.source.format import Printer
from pydbg_utrace.source.lines import LineRow, LineTable
from pydbg_utrace.source.location import Implicit, InMemory, InRegister, Pieces, Unavailable
from pydbg_utrace.source.scope import History
from pydbg_utrace.source.types import (
    VOID,
    Member,
    Type,
    array_of,
    base,
    pointer_to,
    ptype_text,
    type_name,
)
from pydbg_utrace.source.values import SourceError, Value, from_int, from_location

CHAR = base("char", 1, "signed_char")


# -- types ------------------------------------------------------------------------------------

def test_declarators_read_as_gdb_writes_them():
    int_t = base("int", 4, "signed")
    fn = Type("function", None, 1, int_t, params=[int_t, pointer_to(CHAR)])
    assert type_name(pointer_to(pointer_to(CHAR))) == "char **"
    assert type_name(pointer_to(array_of(int_t, 4))) == "int (*)[4]"
    assert type_name(array_of(pointer_to(CHAR), 4)) == "char *[4]"
    assert type_name(pointer_to(fn)) == "int (*)(int, char *)"
    assert type_name(fn) == "int (int, char *)"
    assert type_name(pointer_to(Type("const", None, 1, CHAR))) == "const char *"
    assert type_name(Type("const", None, 8, pointer_to(CHAR))) == "char * const"
    assert type_name(Type("function", None, 1, VOID, prototyped=True)) == "void (void)"
    const_fn_pointer = Type("const", None, 8, pointer_to(fn))
    assert type_name(const_fn_pointer, "f") == "int (* const f)(int, char *)"
    assert type_name(array_of(array_of(int_t, 3), 2), "m") == "int m[2][3]"


def test_ptype_writes_members_and_nested_anonymous_types():
    int_t = base("int", 4, "signed")
    inner = Type("union", None, 4, members=[Member("i", int_t, 0)])
    s = Type("struct", "s", 16, members=[Member("a", int_t, 0), Member("u", inner, 4),
                                         Member("flag", base("unsigned int", 4, "unsigned"),
                                                8, bit_size=1, bit_offset=64)])
    assert ptype_text(pointer_to(s)) == (
        "struct s {\n    int a;\n    union {\n        int i;\n    } u;\n"
        "    unsigned int flag : 1;\n} *")
    e = Type("enum", "e", 4, enumerators=[("A", 0), ("B", 1), ("C", 8)])
    assert ptype_text(e) == "enum e {A, B, C = 8}"


# -- location expressions ---------------------------------------------------------------------

class Ctx:
    address_size = 8
    byteorder = "little"

    def __init__(self, memory=None, registers=None, frame_base=0x1000, cfa=0x2000):
        self.memory = memory or {}
        self.registers = registers or {}
        self._fb, self._cfa = frame_base, cfa

    def read_memory(self, address, size):
        return b"".join(bytes([self.memory.get(address + i, 0)]) for i in range(size))

    def register(self, n):
        if n not in self.registers:
            raise Unavailable(f"r{n}")
        return self.registers[n]

    def frame_base(self):
        return self._fb

    def cfa(self):
        return self._cfa

    def entry_value(self, expr):
        if expr[0].op_name == "DW_OP_reg5":
            return 77
        raise Unavailable("entry")

    def relocate(self, address):
        return address + 0x555555554000


@pytest.fixture(scope="module")
def structs():
    from elftools.dwarf.structs import DWARFStructs
    return DWARFStructs(little_endian=True, dwarf_format=32, address_size=8)


def run(expr: bytes, structs, ctx=None, **kw):
    return location.evaluate(location.parse(expr, structs), ctx or Ctx(), **kw)


def test_fbreg_breg_reg_addr_and_cfa(structs):
    assert run(b"\x91\x6c", structs) == InMemory(0x1000 - 20)  # DW_OP_fbreg -20
    assert run(b"\x77\x08", structs, Ctx(registers={7: 0x7000})) == InMemory(0x7008)  # breg7
    assert run(b"\x55", structs) == InRegister(5)  # DW_OP_reg5
    assert run(b"\x03" + (0x4010).to_bytes(8, "little"), structs) == \
        InMemory(0x555555558010)  # DW_OP_addr, relocated by the load bias
    assert run(b"\x9c", structs) == InMemory(0x2000)  # DW_OP_call_frame_cfa


def test_stack_values_implicit_values_and_arithmetic(structs):
    # lit3 lit4 mul stack_value
    assert run(b"\x33\x34\x1e\x9f", structs) == Implicit(number=12)
    assert run(b"\x9e\x02\x41\x42", structs) == Implicit(b"AB")  # implicit_value 2 "AB"
    # constu 10; lit3; minus; neg; stack_value: -(10-3)
    assert run(b"\x10\x0a\x33\x1c\x1f\x9f", structs) == \
        Implicit(number=(-7) & (2**64 - 1))
    # entry_value(reg5) plus_uconst 1 stack_value
    assert run(b"\xa3\x01\x55\x23\x01\x9f", structs) == Implicit(number=78)


def test_deref_branches_and_pieces(structs):
    ctx = Ctx(memory={0x500 + i: b for i, b in enumerate((0x34, 0x12, 0, 0, 0, 0, 0, 0))})
    # const2u 0x500; deref; stack_value
    assert run(b"\x0a\x00\x05\x06\x9f", structs, ctx) == Implicit(number=0x1234)
    # lit0; bra +1 (not taken); lit7; skip +1; lit9; stack_value -> 7 (lit9 skipped)
    assert run(b"\x30\x28\x01\x00\x37\x2f\x01\x00\x39\x9f", structs) == \
        Implicit(number=7)
    where = run(b"\x50\x93\x04\x93\x04", structs)  # reg0 piece 4, (empty) piece 4
    assert where == Pieces(((InRegister(0), 4), (None, 4)))
    value = from_location(array_of(CHAR, 8), where, ctx.read_memory, lambda n: 0x6d)
    assert value.valid == b"\1\1\1\1\0\0\0\0"
    assert Printer().value(value) == ("{109 'm', 0 '\\000', 0 '\\000', 0 '\\000', "
                                      "<optimized out>, <optimized out>, <optimized out>, "
                                      "<optimized out>}")


def test_an_unknown_register_is_unavailable(structs):
    with pytest.raises(Unavailable):
        run(b"\x76\x00", structs)  # breg6 with no rbp known


# -- line tables ------------------------------------------------------------------------------

def rows(*spec):
    return [LineRow(a, f, line, stmt, end) for a, f, line, stmt, end in spec]


def test_line_lookup_and_breakpoint_rows():
    table = LineTable(rows(
        (0x100, "a.c", 3, True, False), (0x108, "a.c", 4, True, False),
        (0x110, "a.c", 4, False, False), (0x118, "a.c", 6, True, False),
        (0x120, "a.c", 4, True, False), (0x128, "a.c", 7, True, False),
        (0x130, "a.c", 7, True, True)))
    found = table.find(0x10c)
    assert (found.line, found.start, found.end) == (4, 0x108, 0x110)
    assert table.find(0x130) is None and table.find(0xff) is None
    line, hits = table.rows_of_line("a.c", 4)
    assert line == 4 and [r.address for r in hits] == [0x108, 0x120]  # is_stmt rows only
    line, hits = table.rows_of_line("a.c", 5)
    assert line == 6 and [r.address for r in hits] == [0x118]  # the next line with code


# -- the C expression parser and evaluator ------------------------------------------------------

class Scope:
    pointer_size = 8

    def __init__(self):
        self.memory = bytearray(64)
        self.memory[0x10] = 5
        self.hist = History()
        self.vars = {"x": Value(INT, (5).to_bytes(4, "little"), 0x10)}

    def read(self, address, size):
        if address + size > len(self.memory):
            raise OSError("unmapped")
        return bytes(self.memory[address:address + size])

    def variable(self, name):
        return self.vars.get(name)

    def type_named(self, name):
        return None

    def register(self, name):
        return {"rax": 3, "pc": 0x401000}.get(name)

    def history(self, index):
        return self.hist.get(index)

    def write_memory(self, address, data):
        self.memory[address:address + len(data)] = data

    def write_register(self, number, value):
        raise SourceError("no")


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("10 - 4 - 3", "3"), ("-7 / 2", "-3"),
    ("-7 % 2", "-1"), ("1 << 4 | 1", "17"), ("3 > 2 && 2 > 1", "1"), ("!5", "0"),
    ("~0", "-1"), ("'A'", "65 'A'"), ("'\\n'", "10 '\\n'"), ("\"hi\"", '"hi"'),
    ("x * 2", "10"), ("$rax + x", "8"), ("x ? 1 : 2", "1"), ("sizeof(int)", "4"),
    ("sizeof x", "4"), ("(char)321", "65 'A'"), ("(unsigned char)-1", "255 '\\377'"),
    ("4294967295", "4294967295"), ("0xffffffff + 1", "0"), ("1.5 * 2", "3"),
    ("10 / 4.0", "2.5"), ("&x", "(int *) 0x10"), ("*&x", "5"), ("(long)&x + 1", "17"),
    ("$pc", "(void (*)()) 0x401000"), ("$nosuch", "void"),
])
def test_expressions(text, expected):
    assert Printer().value(evaluate(text, Scope())) == expected


def test_assignment_writes_memory_and_history_is_gdbs():
    scope = Scope()
    assert Printer().value(evaluate("x = 40 + 2", scope)) == "42"
    assert scope.memory[0x10] == 42
    scope.hist.add(from_int(INT, 1))
    scope.hist.add(from_int(INT, 2))
    assert Printer().value(evaluate("$ + $$ * 10 + $1 * 100", scope)) == "112"


@pytest.mark.parametrize("text, error", [
    ("nosuch", 'No symbol "nosuch" in current context.'),
    ("1 +", "A syntax error in expression, near `'."),
    ("1 / 0", "Division by zero"),
    ("*5000", "Cannot access memory at address 0x1388"),
    ("&1", "Attempt to take address of value not located in memory."),
    ("x.y", "Attempt to extract a component of a value that is not a structure."),
    ("$9", "History has not yet reached $9."),
])
def test_errors_are_gdbs_one_liners(text, error):
    with pytest.raises(SourceError) as exc:
        evaluate(text, Scope())
    assert str(exc.value) == error


def test_the_parser_builds_c_precedence():
    assert cexpr.parse("a->b[2].c") == ("member", ("index", ("arrow", ("name", "a"), "b"),
                                                   ("num", 2, "", 10)), "c")
    assert cexpr.parse("(char **)p")[0:2] == ("cast", (("char",), 2))
    assert cexpr.parse("x = y = 1")[0] == "assign"
    assert Evaluator  # the evaluator is importable on its own


# -- the printer ------------------------------------------------------------------------------

def test_repeats_strings_and_enums():
    int_t = base("int", 4, "signed")
    zeros = Value(array_of(int_t, 16), bytes(64))
    assert Printer().value(zeros) == "{0 <repeats 16 times>}"
    mixed = Value(array_of(int_t, 12), (7).to_bytes(4, "little") + bytes(44))
    assert Printer().value(mixed) == "{7, 0 <repeats 11 times>}"
    name = Value(array_of(CHAR, 17), b"hello" + bytes(12))  # gdb drops one NUL: 11 > 10
    assert Printer().value(name) == '"hello", \'\\000\' <repeats 11 times>'
    name = Value(array_of(CHAR, 16), b"hello" + bytes(11))  # 10 NULs are no run
    assert Printer().value(name) == '"hello' + "\\000" * 10 + '"'
    run = Value(array_of(CHAR, 20), b"a" * 15 + b"b" + bytes(4))
    assert Printer().value(run) == "'a' <repeats 15 times>, \"b\\000\\000\\000\""
    flags = Type("enum", "f", 4, encoding="unsigned",
                 enumerators=[("R", 1), ("W", 2), ("X", 4)])
    assert Printer().value(from_int(flags, 5)) == "(R | X)"
    assert Printer().value(from_int(flags, 9)) == "(R | unknown: 0x8)"
    assert Printer().value(from_int(flags, 2)) == "W"
    memory = {0x40: b"hi\0"}
    printer = Printer(lambda a, n: memory[0x40][a - 0x40:a - 0x40 + n] if 0x40 <= a < 0x43
                      else (_ for _ in ()).throw(OSError()))
    assert printer.value(from_int(pointer_to(CHAR), 0x40)) == '0x40 "hi"'
    assert printer.value(from_int(pointer_to(CHAR), 0x90)) == \
        "0x90 <error: Cannot access memory at address 0x90>"


# -- debug files ------------------------------------------------------------------------------

@pytest.mark.live  # compiles a program
@pytest.mark.skipif(shutil.which("cc") is None or shutil.which("objcopy") is None,
                    reason="needs cc and objcopy (binutils) to make separate debug files")
def test_debug_files_found_by_build_id_and_by_debuglink(tmp_path):
    source = tmp_path / "p.c"
    source.write_text("int main(void) { return 0; }\n")
    program = tmp_path / "p"
    subprocess.run(["cc", "-g", "-Wl,--build-id", "-o", str(program), str(source)], check=True)
    debug = tmp_path / "p.debug"
    subprocess.run(["objcopy", "--only-keep-debug", str(program), str(debug)], check=True)
    subprocess.run(["objcopy", "--strip-debug", f"--add-gnu-debuglink={debug}", str(program)],
                   check=True, cwd=tmp_path)
    assert find_debug_file(str(program), root=str(tmp_path / "none")) == str(debug)
    ident = subprocess.run(["readelf", "-n", str(program)], capture_output=True, text=True,
                           check=True).stdout.split("Build ID: ")[1].split()[0]
    by_id = tmp_path / "root" / ".build-id" / ident[:2] / (ident[2:] + ".debug")
    by_id.parent.mkdir(parents=True)
    shutil.copy(debug, by_id)
    assert find_debug_file(str(program), root=str(tmp_path / "root")) == str(by_id)
    debug.write_bytes(debug.read_bytes() + b"x")  # a CRC mismatch: not the right file
    assert find_debug_file(str(program), root=str(tmp_path / "none")) is None


def test_return_values_of_the_integer_class_come_from_rax():
    from pydbg_utrace.source.regs import X86_64
    from pydbg_utrace.source.returns import return_value
    registers = {0: 2**64 - 5, 1: 7}  # rax = -5, rdx = 7
    int_t = base("int", 4, "signed")
    assert Printer().value(return_value(int_t, registers, X86_64)) == "-5"
    assert Printer().value(return_value(pointer_to(CHAR), {0: 0}, X86_64)) == "0x0"
    wide = base("__int128", 16, "signed")
    assert return_value(wide, registers, X86_64).data == (2**64 - 5).to_bytes(8, "little") + \
        (7).to_bytes(8, "little")
    # no FP registers given: a double is not guessed
    assert return_value(base("double", 8, "float"), registers, X86_64).optimized_out
    assert return_value(Type("struct", "s", 8), registers, X86_64).optimized_out


def test_return_values_by_the_sysv_classes():
    """Each eightbyte INTEGER (rax, rdx) or SSE (xmm0, xmm1), in order; long double in
    st(0); larger, packed or long double members: in memory at rax (gdb's amd64_classify)."""
    import struct as packing

    from pydbg_utrace.source.regs import X86_64
    from pydbg_utrace.source.returns import MEMORY, classify, return_value
    from pydbg_utrace.source.types import Member
    fp = bytearray(512)
    fp[160:168] = packing.pack("<d", 1.5)  # xmm0
    fp[176:184] = packing.pack("<d", 2.0)  # xmm1
    fp[32:42] = bytes.fromhex("0000000000000080fe3f")  # st(0) = 0.5 (x87)
    registers = {0: 0x1000, 1: 9}
    double_t, float_t = base("double", 8, "float"), base("float", 4, "float")
    int_t, long_t = base("int", 4, "signed"), base("long", 8, "signed")

    def struct(*members: tuple[str, Type, int]) -> Type:
        size = max(offset + m.size for _, m, offset in members)
        return Type("struct", "s", (size + 7) // 8 * 8,
                    members=[Member(n, m, offset) for n, m, offset in members])

    def show(t: Type, read=None) -> str:
        return Printer().value(return_value(t, registers, X86_64, bytes(fp), read))

    assert show(double_t) == "1.5"
    assert show(struct(("x", double_t, 0), ("n", long_t, 8))) == "{x = 1.5, n = 4096}"
    assert show(struct(("n", long_t, 0), ("x", double_t, 8))) == "{n = 4096, x = 1.5}"
    assert show(struct(("a", int_t, 0), ("b", int_t, 4))) == "{a = 4096, b = 0}"
    assert show(struct(("x", double_t, 0), ("y", double_t, 8))) == "{x = 1.5, y = 2}"
    assert show(struct(("f", float_t, 0), ("n", int_t, 4))) == "{f = 5.73971851e-42, n = 0}"
    assert show(base("long double", 16, "float")) == "0.5"
    big = struct(("a", long_t, 0), ("b", long_t, 8), ("c", long_t, 16))
    assert classify(big) == MEMORY
    memory = {0x1000: (1).to_bytes(8, "little") + (2).to_bytes(8, "little") +
              (3).to_bytes(8, "little")}
    assert show(big, lambda address, size: memory[address][:size]) == "{a = 1, b = 2, c = 3}"
    assert return_value(big, registers, X86_64, bytes(fp)).optimized_out  # no memory given
    packed = struct(("c", CHAR, 0), ("n", int_t, 1))
    assert classify(packed) == MEMORY


# -- printf and gdb's @ --------------------------------------------------------------------

def test_printf_splits_its_arguments_and_converts_as_gdb():
    from pydbg_utrace.source.printf import format_values, split_arguments

    int_t = base("int", 4, "signed")
    assert split_arguments('"a=%d, b=%s\\n", x[1], f(a, ","), (c, d)') == (
        "a=%d, b=%s\n", ["x[1]", 'f(a, ",")', "(c, d)"])
    values = [from_int(int_t, v) for v in (-1, 255, 7, 321, 42)]
    assert format_values("%d|%5x|%-3u|%c|%%|%f\n", values, None) == \
        "-1|   ff|7  |A|%|0.000000\n"  # %f reads an int's bytes as a float, as gdb
    memory = {0x1000: b"hello\0"}

    def read(address, size):
        for start, data in memory.items():
            if start <= address < start + len(data):
                return data[address - start:address - start + size]
        raise OSError(address)

    pointer = from_int(pointer_to(CHAR), 0x1000)
    null = from_int(pointer_to(CHAR), 0)
    assert format_values("%s|%.2s|%p|%p|%s", [pointer, pointer, pointer, null, null],
                         read) == "hello|he|0x1000|(nil)|(null)"
    for fmt, args, message in [("%d", [], "Wrong number of arguments for specified "
                                           "format-string"),
                               ("%hhd", values[:1], "Unrecognized format specifier 'h' in printf"),
                               ("%a", values[:1], "Unrecognized format specifier 'a' in printf")]:
        with pytest.raises(SourceError, match=re.escape(message)):
            format_values(fmt, args, read)
    with pytest.raises(SourceError, match="Bad format string, missing '\"'"):
        split_arguments("no quotes")


def test_at_makes_an_array_of_objects_in_memory():
    int_t = base("int", 4, "signed")
    memory = bytes(range(16))
    scope = _MemoryScope({"v": (int_t, 0x100)}, lambda a, n: memory[a - 0x100:a - 0x100 + n])
    value = evaluate("v@3", scope)
    assert type_name(value.type) == "int [3]" and value.data == memory[:12]
    assert type_name(evaluate("v@2@2", scope).type) == "int [2][2]"
    with pytest.raises(SourceError, match="Invalid number 0 of repetitions."):
        evaluate("v@0", scope)
    with pytest.raises(SourceError, match="Only values in memory can be extended with '@'."):
        evaluate("5@2", scope)


class _MemoryScope:
    """The least a Scope is: named objects in a memory, no frame, no registers."""

    byteorder = "little"
    pointer_size = 8

    def __init__(self, objects, read):
        self.objects, self.read = objects, read

    def variable(self, name):
        from pydbg_utrace.source.values import at_address

        found = self.objects.get(name)
        return at_address(found[0], found[1], self.read) if found else None

    def type_named(self, name):
        return None

    def register(self, name):
        return None

    def history(self, index):
        raise SourceError("History is empty.")
