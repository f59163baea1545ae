"""DWARF location expressions: where a value lives, computed from registers and memory.

The stack machine of DWARF 5 section 2.5/2.6, for what gcc emits at ``-O0`` and
``-O2`` and glibc's hand-written CFI uses: literals and constants, arithmetic
and logic, ``deref``, branches, ``fbreg``, ``regN``/``bregN``, ``addr``,
``call_frame_cfa``, ``piece``, ``stack_value``, ``implicit_value`` and
``entry_value`` (answered by the caller's call-site parameters, or
unavailable).  pyelftools decodes the bytes into operations; this module only
runs them.  The result is a :class:`Location`; an expression that cannot be
answered raises :class:`Unavailable`, which callers show as ``<optimized out>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from elftools.dwarf.dwarf_expr import DWARFExprParser


class Unavailable(Exception):
    """The expression asks for something this frame does not know."""


class ExprContext(Protocol):
    """What an expression may ask of the frame it runs in."""

    address_size: int
    byteorder: str  # "little" or "big"

    def read_memory(self, address: int, size: int) -> bytes: ...
    def register(self, number: int) -> int: ...  # raises Unavailable
    def frame_base(self) -> int: ...
    def cfa(self) -> int: ...
    def entry_value(self, expr: list) -> int: ...  # DW_OP_entry_value's operand
    def relocate(self, address: int) -> int: ...  # DW_OP_addr: file -> runtime address


@dataclass(frozen=True, slots=True)
class InMemory:
    address: int


@dataclass(frozen=True, slots=True)
class InRegister:
    number: int


@dataclass(frozen=True, slots=True)
class Implicit:
    """A value with no storage: ``implicit_value``'s bytes, or ``stack_value``'s
    number (whose low-order bytes the value takes, in the target's byte order)."""

    data: bytes = b""
    number: int | None = None


@dataclass(frozen=True, slots=True)
class Pieces:
    parts: tuple[tuple[InMemory | InRegister | Implicit | None, int], ...]  # (where, bytes)


Location = InMemory | InRegister | Implicit | Pieces

_BINARY: dict[str, Callable[[int, int], int]] = {
    "DW_OP_and": lambda a, b: a & b, "DW_OP_or": lambda a, b: a | b,
    "DW_OP_xor": lambda a, b: a ^ b, "DW_OP_plus": lambda a, b: a + b,
    "DW_OP_minus": lambda a, b: a - b, "DW_OP_mul": lambda a, b: a * b,
    "DW_OP_shl": lambda a, b: a << b, "DW_OP_shr": lambda a, b: a >> b,
    "DW_OP_eq": lambda a, b: int(a == b), "DW_OP_ne": lambda a, b: int(a != b),
    "DW_OP_lt": lambda a, b: int(_signed(a) < _signed(b)),
    "DW_OP_le": lambda a, b: int(_signed(a) <= _signed(b)),
    "DW_OP_gt": lambda a, b: int(_signed(a) > _signed(b)),
    "DW_OP_ge": lambda a, b: int(_signed(a) >= _signed(b)),
    "DW_OP_shra": lambda a, b: _signed(a) >> b,
    "DW_OP_div": lambda a, b: int(_signed(a) / _signed(b)) if b else _raise("division by 0"),
    "DW_OP_mod": lambda a, b: a % b if b else _raise("division by 0"),
}
_CONSTANTS = {f"DW_OP_const{n}{s}" for n in (1, 2, 4, 8) for s in "us"} | \
    {"DW_OP_constu", "DW_OP_consts"}
_MASK = (1 << 64) - 1


def _signed(v: int) -> int:
    v &= _MASK
    return v - (1 << 64) if v >> 63 else v


def _raise(why: str):
    raise Unavailable(why)


def parse(expr: bytes | list, structs) -> list:
    """pyelftools' decoding of an expression (a list of DWARFExprOp)."""
    if isinstance(expr, list) and expr and hasattr(expr[0], "op_name"):
        return expr
    return DWARFExprParser(structs).parse_expr(bytes(expr))


def evaluate(ops: list, ctx: ExprContext, push_cfa: bool = False) -> Location:
    """Run ``ops`` (from :func:`parse`); ``push_cfa`` starts the stack with the
    CFA, as CFI's DW_CFA_expression rules do."""
    stack: list[int] = [ctx.cfa()] if push_cfa else []
    pieces: list[tuple[Location | None, int]] = []
    result: Location | None = None
    by_offset = {op.offset: i for i, op in enumerate(ops)}
    i = 0
    while i < len(ops):
        op = ops[i]
        name, args = op.op_name, op.args
        i += 1
        if name.startswith("DW_OP_lit"):
            stack.append(int(name[9:]))
        elif name in _CONSTANTS or name == "DW_OP_addrx":
            stack.append(args[0])
        elif name == "DW_OP_addr":
            stack.append(ctx.relocate(args[0]))
        elif name.startswith("DW_OP_reg") and name != "DW_OP_regval_type":
            number = args[0] if name == "DW_OP_regx" else int(name[9:])
            result = InRegister(number)
        elif name.startswith("DW_OP_breg"):
            number, offset = (args[0], args[1]) if name == "DW_OP_bregx" else \
                (int(name[10:]), args[0])
            stack.append((ctx.register(number) + offset) & _MASK)
        elif name == "DW_OP_fbreg":
            stack.append((ctx.frame_base() + args[0]) & _MASK)
        elif name == "DW_OP_call_frame_cfa":
            stack.append(ctx.cfa())
        elif name in ("DW_OP_deref", "DW_OP_deref_size"):
            size = args[0] if name == "DW_OP_deref_size" else ctx.address_size
            stack.append(int.from_bytes(_read(ctx, stack.pop(), size), ctx.byteorder))
        elif name in _BINARY:
            b, a = stack.pop(), stack.pop()
            stack.append(_BINARY[name](a, b) & _MASK)
        elif name == "DW_OP_plus_uconst":
            stack.append((stack.pop() + args[0]) & _MASK)
        elif name == "DW_OP_neg":
            stack.append(-stack.pop() & _MASK)
        elif name == "DW_OP_not":
            stack.append(~stack.pop() & _MASK)
        elif name == "DW_OP_abs":
            stack.append(abs(_signed(stack.pop())))
        elif name == "DW_OP_dup":
            stack.append(stack[-1])
        elif name == "DW_OP_drop":
            stack.pop()
        elif name == "DW_OP_over":
            stack.append(stack[-2])
        elif name == "DW_OP_pick":
            stack.append(stack[-1 - args[0]])
        elif name == "DW_OP_swap":
            stack[-1], stack[-2] = stack[-2], stack[-1]
        elif name == "DW_OP_rot":
            stack[-3], stack[-2], stack[-1] = stack[-1], stack[-3], stack[-2]
        elif name in ("DW_OP_skip", "DW_OP_bra"):
            if name == "DW_OP_skip" or stack.pop() != 0:
                target = op.offset + 3 + args[0]  # relative to the end of this 3-byte op
                if target not in by_offset and target <= ops[-1].offset:
                    raise Unavailable("branch into the middle of an operation")
                i = by_offset.get(target, len(ops))
        elif name == "DW_OP_stack_value":
            result = Implicit(number=stack.pop() & _MASK)
        elif name == "DW_OP_implicit_value":
            result = Implicit(bytes(args[0]))
        elif name in ("DW_OP_entry_value", "DW_OP_GNU_entry_value"):
            stack.append(ctx.entry_value(args[0]))
        elif name in ("DW_OP_piece", "DW_OP_bit_piece"):
            size = args[0] if name == "DW_OP_piece" else args[0] // 8
            if result is None and stack:
                result = InMemory(stack.pop())
            pieces.append((result, size))
            result = None
        elif name in ("DW_OP_nop", "DW_OP_convert", "DW_OP_GNU_convert",
                      "DW_OP_reinterpret", "DW_OP_GNU_reinterpret"):
            continue
        else:  # implicit_pointer, typed stack ops, TLS: not answered here
            raise Unavailable(f"{name} is not supported")
    if pieces:
        return Pieces(tuple(pieces))
    if result is not None:
        return result
    if not stack:
        raise Unavailable("empty expression")
    return InMemory(stack.pop())


def evaluate_value(ops: list, ctx: ExprContext, push_cfa: bool = False) -> int:
    """An expression used for a number (a frame base, a CFA, a call value)."""
    where = evaluate(ops, ctx, push_cfa)
    if isinstance(where, InMemory):
        return where.address
    if isinstance(where, InRegister):
        return ctx.register(where.number)
    if isinstance(where, Implicit):
        if where.number is not None:
            return where.number
        return int.from_bytes(where.data[:8], ctx.byteorder)
    raise Unavailable("a piece list is not a number")


def _read(ctx: ExprContext, address: int, size: int) -> bytes:
    try:
        data = ctx.read_memory(address, size)
    except OSError as exc:
        raise Unavailable(f"Cannot access memory at address {address:#x}") from exc
    if len(data) < size:
        raise Unavailable(f"Cannot access memory at address {address:#x}")
    return data
