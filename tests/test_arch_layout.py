"""Register layouts, syscall ABIs, breakpoints and disassembly, per arch.

Layouts are checked against the kernel's own uapi structures as each arch's
C compiler sees them: a probe file lists ``sizeof``/``offsetof`` values in a
constant array, the (cross) compiler builds an object, and we read the array
back from the object's bytes.  Nothing runs on the foreign arch.
"""

from __future__ import annotations

import errno
import importlib.util
import shutil
import subprocess
from pathlib import Path

import capstone
import pytest
from pydbg_utrace.arch import by_name, for_elf_header
from pydbg_utrace.arch.base import Registers

from pydbg_utrace import arch as arch_pkg

ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(__file__).resolve().parent / "_build" / "arch_layout"
ALL = ("x86_64", "ppc64le", "ppc64", "s390x")

# arch -> (compiler, extra flags, headers, struct type, member for our name)
COMPILERS = {
    "x86_64": ("cc", [], "gcc"),
    "ppc64le": ("powerpc64le-linux-gnu-gcc", [], "gcc-powerpc64le-linux-gnu"),
    "ppc64": ("powerpc64le-linux-gnu-gcc", ["-mbig-endian"], "gcc-powerpc64le-linux-gnu"),
    "s390x": ("s390x-linux-gnu-gcc", [], "gcc-s390x-linux-gnu"),
}
HEADERS = {
    "x86_64": "#include <sys/user.h>\n#include <asm/ptrace-abi.h>\n",
    "ppc64le": "#include <asm/ptrace.h>\n#include <asm/elf.h>\n",
    "s390x": "#include <asm/ptrace.h>\n",
}
HEADERS["ppc64"] = HEADERS["ppc64le"]
STRUCT = {"x86_64": "struct user_regs_struct", "ppc64le": "struct pt_regs",
          "ppc64": "struct pt_regs", "s390x": "s390_regs"}


def member(arch_name: str, name: str) -> str:
    """Our register name -> the C member expression in the kernel structure."""
    if arch_name.startswith("ppc64") and name.startswith("r") and name[1:].isdigit():
        return f"gpr[{name[1:]}]"
    if arch_name == "s390x":
        if name.startswith("psw_"):
            return f"psw.{name[4:]}"
        if name.startswith("acr"):
            return f"acrs[{name[3:]}]"
        if name.startswith("r") and name[1:].isdigit():
            return f"gprs[{name[1:]}]"
    return name


def probe(arch_name: str, expressions: dict[str, str]) -> tuple[dict[str, int], bytes]:
    """Compile ``expressions`` for ``arch_name``; their values and the object's ELF header."""
    compiler, flags, package = COMPILERS[arch_name]
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not found: install Debian's {package} to check {arch_name}")
    BUILD.mkdir(parents=True, exist_ok=True)
    source = BUILD / f"probe_{arch_name}.c"
    obj = source.with_suffix(".o")
    body = ",\n".join(f"  (unsigned long)({e})" for e in expressions.values())
    source.write_text("#include <stddef.h>\n" + HEADERS[arch_name]
                      + f"const unsigned long probe_values[] = {{\n{body}\n}};\n")
    subprocess.run([compiler, *flags, "-c", str(source), "-o", str(obj)], check=True)
    from elftools.elf.elffile import ELFFile

    with open(obj, "rb") as f:
        elf = ELFFile(f)
        (sym,) = elf.get_section_by_name(".symtab").get_symbol_by_name("probe_values")
        section = elf.get_section(sym["st_shndx"])
        data = section.data()[sym["st_value"]:sym["st_value"] + 8 * len(expressions)]
        byteorder = "little" if elf.little_endian else "big"
        f.seek(0)
        header = f.read(20)
    values = [int.from_bytes(data[i:i + 8], byteorder) for i in range(0, len(data), 8)]
    return dict(zip(expressions, values, strict=True)), header


# -- layouts against the kernel structures --------------------------------------
@pytest.mark.parametrize("arch_name", ALL)
def test_register_layout_matches_kernel_structure(arch_name):
    arch = by_name(arch_name)
    struct = STRUCT[arch_name]
    exprs = {"sizeof": f"sizeof({struct})"}
    for name in arch.register_names:
        m = member(arch_name, name)
        exprs[f"off {name}"] = f"offsetof({struct}, {m})"
        exprs[f"size {name}"] = f"sizeof((({struct} *)0)->{m})"
    exprs["PTRACE_SINGLEBLOCK"] = "PTRACE_SINGLEBLOCK"
    if arch_name.startswith("ppc64"):
        exprs["ELF_NGREG"] = "ELF_NGREG"
    values, header = probe(arch_name, exprs)

    for name in arch.register_names:
        f = arch.fields[name]
        assert (f.offset, f.size) == (values[f"off {name}"], values[f"size {name}"]), name
    last = arch.fields[arch.register_names[-1]]
    assert last.offset + last.size == values["sizeof"]  # every member named, none missing
    if arch_name.startswith("ppc64"):
        assert values["sizeof"] == 44 * 8
        assert arch.regset_size == values["ELF_NGREG"] * 8 == 384  # gpr_get pads to ELF_NGREG
    else:
        assert arch.regset_size == values["sizeof"] == 216
    assert arch.blockstep_request == values["PTRACE_SINGLEBLOCK"]
    # the object the compiler made is an ELF of exactly this arch
    assert for_elf_header(header) is arch


def test_x86_64_register_order_is_the_documented_one():
    assert by_name("x86_64").register_names == tuple(
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags "
        "rsp ss fs_base gs_base ds es fs gs".split())


# -- Registers over raw bytes ----------------------------------------------------
@pytest.mark.parametrize("arch_name,pc_offset,sp_offset", [
    ("x86_64", 16 * 8, 19 * 8), ("ppc64le", 32 * 8, 1 * 8), ("ppc64", 32 * 8, 1 * 8),
    ("s390x", 8, 16 + 15 * 8)])
def test_pc_and_sp_are_raw_bytes_in_the_arch_byte_order(arch_name, pc_offset, sp_offset):
    arch = by_name(arch_name)
    regs = arch.empty_registers()
    assert not regs.changed
    regs.pc = 0x0011223344556677
    regs.sp = 0x7FFF_FFFF_E000
    assert regs.changed
    assert bytes(regs.raw[pc_offset:pc_offset + 8]) == (0x0011223344556677).to_bytes(
        8, arch.byteorder)
    assert bytes(regs.raw[sp_offset:sp_offset + 8]) == (0x7FFF_FFFF_E000).to_bytes(
        8, arch.byteorder)
    again = arch.registers(bytes(regs.raw))
    assert (again.pc, again.sp) == (0x0011223344556677, 0x7FFF_FFFF_E000)
    assert len(regs.raw) == arch.regset_size
    assert set(regs.as_dict()) == set(arch.register_names)


def test_s390x_access_registers_are_four_bytes():
    arch = by_name("s390x")
    regs = arch.empty_registers()
    regs["acr1"] = 0xDEADBEEF
    assert bytes(regs.raw[16 + 128 + 4:16 + 128 + 8]) == bytes.fromhex("deadbeef")
    with pytest.raises(ValueError):
        regs["acr1"] = 1 << 32
    regs["acr0"] = -1
    assert regs["acr0"] == 0xFFFFFFFF and regs.signed("acr0") == -1


@pytest.mark.parametrize("arch_name", ALL)
def test_register_errors_are_clear(arch_name):
    arch = by_name(arch_name)
    with pytest.raises(ValueError, match=str(arch.regset_size)):
        arch.registers(bytes(arch.regset_size - 8))
    regs = arch.empty_registers()
    with pytest.raises(KeyError, match="not a"):
        regs["no_such_register"]
    with pytest.raises(ValueError):
        regs[arch.pc_register] = 1 << 64
    regs[arch.pc_register] = -1
    assert regs.pc == 2**64 - 1


def test_extra_regset_is_loaded_lazily_once_and_written_back_when_set():
    arch = by_name("s390x")
    calls = []

    def load(note_type: int, size: int) -> bytes:
        calls.append((note_type, size))
        return (0x1234).to_bytes(4, "big")

    regs = arch.registers(bytes(arch.regset_size), load)
    assert calls == []
    assert arch.system_call_regset(regs) == 0x1234
    assert arch.system_call_regset(regs) == 0x1234
    assert calls == [(0x307, 4)]
    assert regs.extra_changed == set()
    regs.set_regset(0x307, (7).to_bytes(4, "big"))
    assert regs.extra_changed == {0x307} and arch.system_call_regset(regs) == 7
    with pytest.raises(LookupError):
        arch.system_call_regset(arch.empty_registers())  # no loader given


# -- syscall ABI round trips -----------------------------------------------------
ARG_REGISTERS = {
    "x86_64": ("rdi", "rsi", "rdx", "r10", "r8", "r9"),
    "ppc64le": ("r3", "r4", "r5", "r6", "r7", "r8"),
    "ppc64": ("r3", "r4", "r5", "r6", "r7", "r8"),
    "s390x": ("orig_gpr2", "r3", "r4", "r5", "r6", "r7"),
}
NUMBER_REGISTER = {"x86_64": "orig_rax", "ppc64le": "r0", "ppc64": "r0", "s390x": "r2"}


def entry_regs(arch_name: str) -> Registers:
    regs = by_name(arch_name).empty_registers()
    if arch_name.startswith("ppc64"):
        regs["trap"] = 0xC00  # entered with sc
    return regs


@pytest.mark.parametrize("arch_name", ALL)
@pytest.mark.parametrize("nr", [0, 1, 39, 435, -1])
def test_syscall_number_round_trip(arch_name, nr):
    arch = by_name(arch_name)
    regs = entry_regs(arch_name)
    arch.set_syscall_number(regs, nr)
    assert arch.syscall_number(regs) == nr
    assert regs.signed(NUMBER_REGISTER[arch_name]) == nr


@pytest.mark.parametrize("arch_name", ALL)
def test_syscall_args_come_from_the_abi_registers(arch_name):
    arch = by_name(arch_name)
    regs = entry_regs(arch_name)
    values = (1, 2**64 - 1, 0x7FFF_0000_1000, 4, 5, 6)
    for reg, value in zip(ARG_REGISTERS[arch_name], values, strict=True):
        regs[reg] = value
    assert arch.syscall_args(regs) == values


@pytest.mark.parametrize("arch_name", ALL)
@pytest.mark.parametrize("value", [0, 1, 4096, 2**62, -4096, -(2**40)])
def test_syscall_success_round_trip(arch_name, value):
    arch = by_name(arch_name)
    regs = entry_regs(arch_name)
    arch.set_syscall_result(regs, errno=errno.EIO)  # a stale error flag must be cleared
    arch.set_syscall_result(regs, value)
    assert arch.syscall_result(regs) == (value, None)


@pytest.mark.parametrize("arch_name", ALL)
@pytest.mark.parametrize("err", [1, errno.ENOSYS, errno.EINTR, 4095])
def test_syscall_error_round_trip(arch_name, err):
    arch = by_name(arch_name)
    regs = entry_regs(arch_name)
    arch.set_syscall_result(regs, value=123, errno=err)
    assert arch.syscall_result(regs) == (-err, err)


@pytest.mark.parametrize("arch_name", ("ppc64le", "ppc64"))
def test_ppc64_error_conventions_sc_and_scv(arch_name):
    arch = by_name(arch_name)
    regs = entry_regs(arch_name)  # sc: CR0.SO flags the error, r3 positive
    regs["ccr"] = 0x22000000
    arch.set_syscall_result(regs, errno=errno.EPERM)
    assert regs["r3"] == errno.EPERM and regs["ccr"] == 0x32000000
    arch.set_syscall_result(regs, 5)
    assert regs["r3"] == 5 and regs["ccr"] == 0x22000000
    regs["r3"] = 2**64 - 1  # -1 without SO is a success value under sc
    assert arch.syscall_result(regs) == (-1, None)
    regs["trap"] = 0x3000  # scv: negative errno in r3, CR untouched
    arch.set_syscall_result(regs, errno=errno.EPERM)
    assert regs.signed("r3") == -errno.EPERM and regs["ccr"] == 0x22000000
    assert arch.syscall_result(regs) == (-errno.EPERM, errno.EPERM)


@pytest.mark.parametrize("arch_name,register", NUMBER_REGISTER.items())
def test_abort_sets_an_invalid_number(arch_name, register):
    arch = by_name(arch_name)
    regs = entry_regs(arch_name)
    arch.set_syscall_number(regs, 39)
    arch.abort_syscall(regs)
    assert regs[register] == 2**64 - 1 and regs.changed
    assert arch.syscall_number(regs) == -1


# -- syscall names ------------------------------------------------------------------
@pytest.mark.parametrize("arch_name,numbers", [
    # (execve, ioctl, rt_sigaction: the table has their x32 numbers too, 520, 514, 512)
    ("x86_64", {"read": 0, "write": 1, "getppid": 110, "clone3": 435, "execve": 59,
                "ioctl": 16, "rt_sigaction": 13}),
    ("ppc64le", {"read": 3, "write": 4, "getppid": 64, "clone3": 435}),
    ("ppc64", {"read": 3, "write": 4, "getppid": 64, "clone3": 435}),
    ("s390x", {"read": 3, "write": 4, "getppid": 64, "clone3": 435}),
])
def test_syscall_names_are_the_tracee_arch(arch_name, numbers):
    arch = by_name(arch_name)
    for name, nr in numbers.items():
        assert arch.syscall_number_of(name) == nr
        assert arch.syscall_names[nr] == name
    with pytest.raises(KeyError):
        arch.syscall_number_of("no_such_call")
    assert arch.syscall_name(99999) == "syscall_99999"


def test_python_ptrace_tables_load_where_its_package_refuses_the_host(monkeypatch):
    """In the s390x guest ``import ptrace.syscall`` raises NotImplementedError
    (python-ptrace picks tables by host); the per-arch files must still load."""
    from pydbg_utrace.arch.syscall_tables import python_ptrace_table

    modules = __import__("sys").modules
    for name in ("ptrace.syscall.linux.x86_64", "ptrace.syscall.linux"):
        monkeypatch.delitem(modules, name, raising=False)  # imported by an earlier test
    monkeypatch.setitem(modules, "ptrace.syscall", None)  # import fails
    with pytest.raises(ImportError):
        __import__("ptrace.syscall.linux.x86_64")
    assert python_ptrace_table("x86_64")[110] == "getppid"
    assert python_ptrace_table("powerpc64")[64] == "getppid"


def test_s390x_table_is_what_the_generator_makes_from_the_header():
    from test_arch_libc import fetch_package

    root = fetch_package("linux-libc-dev:s390x", "linux-libc-dev_*_s390x.deb")
    spec = importlib.util.spec_from_file_location(
        "gen_s390x_syscalls", ROOT / "tools" / "gen_s390x_syscalls.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    header = root / gen.HEADER_IN_PACKAGE
    assert dict(by_name("s390x").syscall_names) == gen.parse_header(header.read_text())


# -- breakpoints and disassembly ----------------------------------------------------
@pytest.mark.parametrize("arch_name,instruction,offset,mnemonic", [
    ("x86_64", "cc", 1, "int3"),
    ("ppc64le", "0800e07f", 0, "trap"),
    ("ppc64", "7fe00008", 0, "trap"),
    ("s390x", "0001", 2, None),  # the illegal op gdb uses: capstone has no name for it
])
def test_breakpoint_instruction(arch_name, instruction, offset, mnemonic):
    arch = by_name(arch_name)
    assert arch.breakpoint_instruction == bytes.fromhex(instruction)
    assert arch.breakpoint_pc_offset == offset
    (insn,) = arch.disassemble(arch.breakpoint_instruction, 0x1000)
    assert insn.size == len(arch.breakpoint_instruction)
    if mnemonic:
        assert insn.mnemonic == mnemonic
    else:
        assert (insn.mnemonic, insn.op_str) == (".insn", "0001")


CAPSTONE5 = pytest.mark.skipif(
    capstone.cs_version()[0] < 5,
    reason=f"capstone {capstone.__version__}: expected texts recorded with 5.0.x")


@CAPSTONE5
@pytest.mark.parametrize("arch_name,code,expected", [
    ("x86_64", "0f05b905000000ffc975fc",
     [("syscall", ""), ("mov", "ecx, 5"), ("dec", "ecx"), ("jne", "0x1007")]),
    ("ppc64le", "0200004420000038",
     [("sc", ""), ("li", "r0, 0x20")]),
    ("ppc64", "4400000238000020", [("sc", ""), ("li", "r0, 0x20")]),
    ("s390x", "0a00a7f4000007fe", [("svc", "0"), ("j", "0x1002"), ("br", "%r14")]),
])
def test_capstone_decodes_known_bytes(arch_name, code, expected):
    arch = by_name(arch_name)
    insns = arch.disassemble(bytes.fromhex(code), 0x1000)
    assert [(i.mnemonic, i.op_str) for i in insns] == expected
    assert b"".join(i.bytes for i in insns) == bytes.fromhex(code)
    assert arch.disassemble(bytes.fromhex(code), 0x1000, count=1)[0].mnemonic == expected[0][0]


def test_capstone_constants_per_arch():
    assert (by_name("x86_64").capstone_arch, by_name("x86_64").capstone_mode) == (
        capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    assert by_name("ppc64").capstone_mode == capstone.CS_MODE_64 | capstone.CS_MODE_BIG_ENDIAN
    assert by_name("ppc64le").capstone_mode == capstone.CS_MODE_64
    assert by_name("s390x").capstone_arch == capstone.CS_ARCH_SYSZ


@pytest.mark.parametrize("arch_name", ALL)
def test_steps_and_gdb_facts(arch_name):
    arch = by_name(arch_name)
    assert arch.has_singlestep
    assert arch.gdb_architecture in {"i386:x86-64", "powerpc:common64", "s390:64-bit"}
    for gdb_name in arch.gdb_register_order:  # every gdb register maps to one of ours
        assert arch.gdb_register_map.get(gdb_name, gdb_name) in arch.fields, gdb_name
    assert arch.fields[arch.gdb_register_map.get("pc", arch.pc_register)]


def test_only_ppc64_has_a_software_step_rule():
    lwarx_loop = bytes.fromhex("7c00f8287c0058004082000c7d20f92d4082fff0")

    def read(address: int, size: int) -> bytes:
        return lwarx_loop[address - 0x1000:address - 0x1000 + size]
    assert by_name("ppc64").software_step(0x1000, read) == [0x1010, 0x1014]
    for name in ("x86_64", "s390x"):
        assert by_name(name).software_step(0x1000, read) is None


# -- choosing the arch -------------------------------------------------------------
def elf_header(machine: int, elf_class: int, data: int) -> bytes:
    order = "little" if data == 1 else "big"
    return (b"\x7fELF" + bytes([elf_class, data, 1]) + bytes(9) + (2).to_bytes(2, order)
            + machine.to_bytes(2, order))


@pytest.mark.parametrize("header,name", [
    (elf_header(62, 2, 1), "x86_64"), (elf_header(21, 2, 1), "ppc64le"),
    (elf_header(21, 2, 2), "ppc64"), (elf_header(22, 2, 2), "s390x")])
def test_for_elf_header(header, name):
    assert for_elf_header(header).name == name


@pytest.mark.parametrize("header,message", [
    (elf_header(3, 1, 1), "32-bit little-endian i386"),
    (elf_header(183, 2, 1), "aarch64"),
    (elf_header(22, 1, 2), "32-bit big-endian s390"),
    (b"#!/bin/sh\n" + bytes(10), "not an ELF"),
])
def test_unsupported_tracees_are_named(header, message):
    with pytest.raises(ValueError, match=message):
        for_elf_header(header)


def test_by_name_and_host():
    assert [by_name(n).name for n in ALL] == list(ALL)
    with pytest.raises(ValueError, match="x86_64, ppc64le, ppc64, s390x"):
        by_name("sparc64")
    assert arch_pkg.host().byteorder == __import__("sys").byteorder
    with pytest.raises(ProcessLookupError):
        arch_pkg.for_pid(2**22 + 12345)
