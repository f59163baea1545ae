"""repl/asm.py against GNU objdump (the same libopcodes text gdb prints): every
instruction of tests/tracees/src_demo.c's .text at -O0 and -O2, and of the first
64 KiB of libc's, in both flavors.  Only x87 register-stack forms are allowed to
differ (``fsubp %st,%st(1)``: capstone has no operand for the implied %st), and
only in libc."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pydbg_utrace import arch
from pydbg_utrace.repl import asm

SOURCE = Path(__file__).parent / "tracees" / "src_demo.c"
LIBC = Path("/lib/x86_64-linux-gnu/libc.so.6")
pytestmark = pytest.mark.skipif(shutil.which("objdump") is None or shutil.which("cc") is None,
                                reason="needs objdump and a C compiler (binutils, gcc)")
_BRANCH = re.compile(r"^((?:call|jmp|j\w+|loop\w*)\s+)([0-9a-f]+)$")


def _objdump(path: Path, start: int, end: int, flavor: str) -> dict[int, str]:
    """objdump's text by address, without its symbol names and ``#`` comments
    (the REPL adds those from its own symbols), branch targets with 0x as gdb."""
    args = ["objdump", "-d", "--no-show-raw-insn", "-j", ".text", f"--start-address={start:#x}",
            f"--stop-address={end:#x}", str(path)]
    if flavor == "intel":
        args.insert(2, "-Mintel")
    found = {}
    for line in subprocess.run(args, capture_output=True, text=True, check=True).stdout.split(
            "\n"):
        m = re.match(r"^\s+([0-9a-f]+):\t(.*)$", line)
        if m is None:
            continue
        text = re.sub(r" <[^>]*>$", "", re.sub(r"\s+#.*$", "", m[2].rstrip()))
        found[int(m[1], 16)] = _BRANCH.sub(lambda b: f"{b[1]}0x{b[2]}", text)
    return found


def _differences(path: Path, flavor: str, limit: int | None = None) -> list[tuple]:
    with open(path, "rb") as f:
        text = ELFFile(f).get_section_by_name(".text")
        code, start = text.data()[:limit], text["sh_addr"]
        machine = arch.for_elf_header(open(path, "rb").read(64))
    ours = {line.address: line.text for line in asm.lines_for(machine, code, start, 0, flavor)}
    theirs = _objdump(path, start, start + len(code), flavor)
    assert len(theirs) > 100
    # a cut (limit) splits the last instruction: capstone stops there, objdump goes on
    theirs = {a: t for a, t in theirs.items() if a <= max(ours)}
    return [(hex(a), t, ours.get(a)) for a, t in theirs.items() if ours.get(a) != t]


@pytest.mark.parametrize("flavor", asm.FLAVORS)
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_every_instruction_of_the_demo_reads_as_objdump_writes_it(tmp_path, opt, flavor):
    shutil.copy(SOURCE, tmp_path / "src_demo.c")
    subprocess.run(["cc", opt, "-g", "-o", "demo", "src_demo.c"], cwd=tmp_path, check=True)
    assert _differences(tmp_path / "demo", flavor) == []


@pytest.mark.skipif(not LIBC.exists(), reason="x86_64 Debian's libc path")
@pytest.mark.parametrize("flavor", asm.FLAVORS)
def test_libc_reads_as_objdump_writes_it_but_x87_stack_forms(flavor):
    different = _differences(LIBC, flavor, 64 * 1024)
    x87 = re.compile(r"%st\b|\bst\(|,st$|\bst,")
    assert [d for d in different if not x87.search(d[1])] == []


def test_targets_and_rip_relative_addresses_are_named_after_the_text():
    line = asm.AsmLine(0x1000, 7, "mov    0x2e67(%rip),%rax", refers=0x3e6e)
    names = {0x3e6e: "<first>", 0x118a: "<fact>"}
    assert asm.named(line, lambda a: names.get(a, "")) == \
        "mov    0x2e67(%rip),%rax        # 0x3e6e <first>"
    call = asm.AsmLine(0x1000, 5, "call   0x118a", target=0x118a)
    assert asm.listing([call], 0x1000, lambda a: names.get(a, ""), function_start=0xff0) == \
        ["=> 0x0000000000001000 <+16>:\tcall   0x118a <fact>"]
