"""Instructions as gdb writes them: GNU libopcodes' AT&T (gdb's default) or Intel text.

capstone decodes (the arch's handle gives boundaries and mnemonics); on x86_64
the operands are written here from capstone's operand details, the way
objdump and gdb write them, because capstone's own text differs in small
ways a gdb user notices: ``movl $3, -0x20(%rbp)`` for ``movl   $0x3,-0x20(%rbp)``,
``callq``/``retq`` for ``call``/``ret``, ``dword ptr [rbp - 0x20]`` for
``DWORD PTR [rbp-0x20]``, an encoded zero displacement dropped (``nopw
(%rax, %rax)`` for ``nopw   0x0(%rax,%rax,1)``), immediates signed where
objdump shows them in the operand's width (``$0xfffffffffffffff8``).  The
rules, checked against objdump on whole programs (tests/test_repl_asm.py):

- the mnemonic padded to six columns, then one space, then the operands
  joined by ``,``;
- AT&T: the size suffix only where no register operand fixes the size
  (``movl $0x3,-0x20(%rbp)`` but ``mov %rsp,%rbp``); never on call, ret, jmp,
  push, pop, leave; the shift by an implicit 1 (``d1 e8``) without its ``$1``;
- immediates in hex, unsigned in their operand's width; a displacement in
  hex, signed, and written whenever the instruction encodes one (``0x0``);
  an index always with its scale (``(%rax,%rax,1)``, ``[rax+rax*1+0x0]``);
- Intel: ``BYTE``/``WORD``/``DWORD``/``QWORD``/``XMMWORD PTR`` on memory
  operands but ``lea``'s, a rip-relative displacement unsigned
  (``[rip+0xfffffffffffffee5]``);
- string instructions name their segments (``stos %rax,%es:(%rdi)``).

A rip-relative operand's address and a direct branch's target are returned
beside the text: the caller names them (``        # 0x4010 <counter>``,
``call   0x1139 <f>``), as it knows the symbols.  Other architectures keep
capstone's text (gdb's is not compared there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

FLAVORS = ("att", "intel")

_SIZE_WORDS = {1: "BYTE", 2: "WORD", 4: "DWORD", 8: "QWORD", 10: "TBYTE", 16: "XMMWORD",
               32: "YMMWORD", 64: "ZMMWORD"}
_NO_SUFFIX = {"call", "ret", "jmp", "push", "pop", "leave", "enter"}
_BRANCHES = ("j", "call", "loop")
# string instructions by opcode: their memory operands name a segment (objdump's es:/ds:)
_STRING_OPS = {0xA4: "movs", 0xA5: "movs", 0xA6: "cmps", 0xA7: "cmps", 0xAA: "stos",
               0xAB: "stos", 0xAC: "lods", 0xAD: "lods", 0xAE: "scas", 0xAF: "scas"}
_PREFIX_WORDS = {"rep", "repe", "repz", "repne", "repnz", "lock", "notrack", "bnd"}


@dataclass(frozen=True)
class AsmLine:
    """One instruction: ``text`` as gdb shows it, before the names of what it points to."""

    address: int
    size: int
    text: str  # "mov    0x2e67(%rip),%rax"
    target: int | None = None  # a direct branch's target: " <fact+61>" after the text
    refers: int | None = None  # a rip-relative operand's address: "        # 0x... <sym>"


def lines_for(arch, code: bytes, address: int, count: int = 0,
              flavor: str = "att") -> list[AsmLine]:
    """``code`` at ``address`` as gdb writes it (``count`` 0: all of it)."""
    if arch.name != "x86_64":
        return [AsmLine(i.address, i.size, f"{i.mnemonic} {i.op_str}".rstrip(),
                        _plain_target(i.mnemonic, i.op_str))
                for i in arch.disassemble(code, address, count)]
    return _x86_lines(code, address, count, flavor)


def _plain_target(mnemonic: str, op_str: str) -> int | None:
    if mnemonic.startswith(("j", "call", "b")) and op_str.startswith("0x"):
        try:
            return int(op_str, 16)
        except ValueError:
            return None
    return None


_HANDLES: dict[str, object] = {}


def _handle(syntax: str):
    """capstone handles for x86_64: ``intel`` with operand details, ``att`` for its suffixes."""
    cs = _HANDLES.get(syntax)
    if cs is None:
        import capstone

        cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        if syntax == "att":
            cs.syntax = capstone.CS_OPT_SYNTAX_ATT
        else:
            cs.detail = True
        _HANDLES[syntax] = cs
    return cs


def _x86_lines(code: bytes, address: int, count: int, flavor: str) -> list[AsmLine]:
    att_mnemonics = {a: m for a, _size, m, _ops in _handle("att").disasm_lite(code, address,
                                                                              count)}
    out = []
    for insn in _handle("intel").disasm(code, address, count):
        out.append(_x86_line(insn, att_mnemonics.get(insn.address, insn.mnemonic), flavor))
    return out


def _x86_line(insn, att_mnemonic: str, flavor: str) -> AsmLine:
    from capstone import x86

    att = flavor == "att"
    raw = bytes(insn.bytes)
    if raw == b"\x66\x90":  # capstone says nop; libopcodes says what the bytes are
        return AsmLine(insn.address, insn.size, "xchg   %ax,%ax" if att else "xchg   ax,ax")
    words = insn.mnemonic.split()
    prefixes = [w for w in words[:-1] if w in _PREFIX_WORDS]
    base = words[-1]
    string_op = _STRING_OPS.get(insn.opcode[0]) if len(insn.opcode) and not insn.opcode[1] \
        and insn.opcode[0] in _STRING_OPS else None
    if string_op is not None:
        base = string_op
    operands = list(insn.operands)
    target = refers = None
    texts = []
    for op in operands:
        if op.type == x86.X86_OP_IMM and base.startswith(_BRANCHES):
            target = op.imm & _MASK64
            texts.append(f"{target:#x}")
        elif op.type == x86.X86_OP_IMM:
            texts.append(("$" if att else "") + f"{op.imm & _mask(op.size):#x}")
        elif op.type == x86.X86_OP_REG:
            texts.append(("%" if att else "") + insn.reg_name(op.reg))
        elif op.type == x86.X86_OP_MEM:
            text, at = _memory(insn, op, att, base, string_op)
            texts.append(text)
            if at is not None:
                refers = at
    if att and base in ("call", "jmp") and target is None:
        texts = ["*" + t for t in texts]
    if insn.opcode[0] in (0xD0, 0xD1) and len(operands) == 2 \
            and operands[1].type == x86.X86_OP_IMM:
        # the implicit 1 of a one-bit shift: not written in AT&T, "1" in Intel
        texts = texts[:1] if att else [texts[0], "1"]
    if att:
        texts.reverse()
        base = _att_mnemonic(base, att_mnemonic.split()[-1], operands, string_op)
    if base == "nop" or base.startswith("nop"):
        segment = next((op.mem.segment for op in operands if op.type == x86.X86_OP_MEM), 0)
        if segment:  # a padding nop's cs prefix is a word of its own (objdump: "cs nopw")
            prefixes = ["data16"] * max(0, raw[:raw.index(0x0F)].count(0x66) - 1) + ["cs"]
    mnemonic = " ".join([*prefixes, base])
    text = f"{mnemonic:<6} {','.join(texts)}" if texts else mnemonic
    return AsmLine(insn.address, insn.size, text, target, refers)


_MASK64 = (1 << 64) - 1


def _mask(size: int) -> int:
    return (1 << (8 * (size or 8))) - 1


def _att_mnemonic(intel: str, att: str, operands, string_op: str | None) -> str:
    """objdump's AT&T mnemonic: capstone's suffixed one, unsuffixed where a
    register operand already says the size (or where 64-bit is implied)."""
    from capstone import x86

    if intel in _NO_SUFFIX:
        return intel
    if att[:-1] == intel and att[-1] in "bwlq" and any(op.type == x86.X86_OP_REG
                                                       for op in operands):
        return intel
    if string_op is not None and any(op.type == x86.X86_OP_REG for op in operands):
        return string_op
    return att


def _memory(insn, op, att: bool, base_mnemonic: str,
            string_op: str | None) -> tuple[str, int | None]:
    """One memory operand, and the address it names when it is rip-relative."""
    mem = op.mem
    segment = insn.reg_name(mem.segment) if mem.segment else None
    base = insn.reg_name(mem.base) if mem.base else None
    index = insn.reg_name(mem.index) if mem.index else None
    if string_op is not None and segment is None:
        segment = "es" if base in ("rdi", "edi") else "ds"
    if base_mnemonic.startswith("nop"):
        segment = None  # written as a prefix word: "cs nopw 0x0(%rax,%rax,1)"
    disp = mem.disp
    encoded = insn.disp_size > 0 or (base is None and index is None)
    refers = insn.address + insn.size + disp if base == "rip" else None
    if att:
        text = ""
        if encoded or base == "rip":
            text = f"-{-disp:#x}" if disp < 0 else f"{disp:#x}"
        if index is not None:
            text += f"({'%' + base if base else ''},%{index},{mem.scale})"
        elif base is not None:
            text += f"(%{base})"
        return (f"%{segment}:" if segment else "") + text, refers
    parts = []
    if base is not None:
        parts.append(base)
    if index is not None:
        parts.append(f"{index}*{mem.scale}")
    inner = "+".join(parts)
    if base == "rip":
        inner += f"+{disp & _MASK64:#x}"
    elif encoded and (base is not None or index is not None):
        inner += f"-{-disp:#x}" if disp < 0 else f"+{disp:#x}"
    if base is None and index is None:
        text = f"{segment or 'ds'}:{disp & _MASK64:#x}"
    else:
        text = (f"{segment}:" if segment else "") + f"[{inner}]"
    if base_mnemonic == "lea":
        return text, refers
    word = _SIZE_WORDS.get(op.size)
    return (f"{word} PTR {text}" if word else text), refers


def named(line: AsmLine, describe: Callable[[int], str]) -> str:
    """The text with what it points to named: ``call   0x1139 <f>``, ``# 0x4010 <x>``."""
    text = line.text
    if line.target is not None:
        where = describe(line.target)
        if where:
            text += f" {where}"
    if line.refers is not None:
        where = describe(line.refers)
        text += f"        # {line.refers:#x}" + (f" {where}" if where else "")
    return text


def listing(lines: Sequence[AsmLine], pc: int | None, describe: Callable[[int], str],
            function_start: int | None = None) -> list[str]:
    """gdb's lines, the current one marked ``=>``: ``x/i`` style (``0x1139
    <main+4>:``), or ``disassemble`` style when ``function_start`` is given
    (``0x0000000000001139 <+4>:``, addresses in 16 digits)."""
    out = []
    for line in lines:
        mark = "=> " if line.address == pc else "   "
        if function_start is not None:
            where = f"0x{line.address:016x} <+{line.address - function_start}>"
        else:
            name = describe(line.address)
            where = f"{line.address:#x}" + (f" {name}" if name else "")
        out.append(f"{mark}{where}:\t{named(line, describe)}")
    return out
