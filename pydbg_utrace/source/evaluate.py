"""Evaluating a parsed C expression (:mod:`cexpr`) to a :class:`Value`, with C's rules.

Integer promotion and the usual arithmetic conversions (results get gdb's
builtin names: ``int``, ``long``, ``unsigned long``), pointer arithmetic scaled
by the pointee's size, arrays decaying to pointers, ``*``/``&``/``[]``/``.``/
``->``, casts to DWARF types, ``sizeof`` (``unsigned long``), registers
``$rip`` ``$sp`` (typed as gdb types them: ``$pc`` a code pointer, ``$sp``/``$fp``
``void *``, the rest ``long``), value history ``$``, ``$$``, ``$N``, ``$$N``,
and assignment to memory or registers through the scope.  Errors are
:class:`SourceError` worded as gdb words them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Protocol

from .cexpr import parse, parse_typename
from .types import (
    VOID,
    Type,
    array_of,
    base,
    byte_size,
    is_float,
    is_integer,
    is_signed,
    pointer_to,
    strip,
    type_name,
)
from .values import (
    MemoryReader,
    SourceError,
    Value,
    at_address,
    element_value,
    from_float,
    from_int,
    member_value,
)

INT = base("int", 4, "signed")
UINT = base("unsigned int", 4, "unsigned")
LONG = base("long", 8, "signed")
ULONG = base("unsigned long", 8, "unsigned")
CHAR = base("char", 1, "signed_char")
DOUBLE = base("double", 8, "float")
FLOAT = base("float", 4, "float")
_CODE_POINTER = pointer_to(Type("function", None, 1, VOID, prototyped=False))
_VOID_POINTER = pointer_to(VOID)
_BASE_WORDS = {
    ("int",): INT, ("signed",): INT, ("signed", "int"): INT, ("unsigned",): UINT,
    ("unsigned", "int"): UINT, ("long",): LONG, ("long", "int"): LONG,
    ("signed", "long"): LONG, ("long", "long"): base("long long", 8, "signed"),
    ("long", "long", "int"): base("long long", 8, "signed"),
    ("unsigned", "long"): ULONG, ("unsigned", "long", "int"): ULONG,
    ("long", "unsigned", "int"): ULONG, ("unsigned", "long", "long"):
        base("unsigned long long", 8, "unsigned"),
    ("short",): base("short", 2, "signed"), ("short", "int"): base("short", 2, "signed"),
    ("unsigned", "short"): base("unsigned short", 2, "unsigned"),
    ("char",): CHAR, ("signed", "char"): base("signed char", 1, "signed_char"),
    ("unsigned", "char"): base("unsigned char", 1, "unsigned_char"),
    ("float",): FLOAT, ("double",): DOUBLE, ("long", "double"): base("long double", 16, "float"),
    ("_Bool",): base("_Bool", 1, "boolean"), ("void",): VOID,
}
_SP_NAMES = ("sp", "fp", "rsp", "rbp", "esp", "ebp", "r1", "r15")
_PC_NAMES = ("pc", "rip", "eip", "nip", "pswa")


class Scope(Protocol):
    """What an expression may ask of the program (a frame, or the file before ``run``)."""

    read: MemoryReader
    pointer_size: int

    def variable(self, name: str) -> Value | None: ...
    def type_named(self, name: str) -> Type | None: ...  # "struct s", "my_t", "int"
    def register(self, name: str) -> int | None: ...
    def history(self, index: int) -> Value: ...  # absolute; <= 0: relative to the last
    def write_memory(self, address: int, data: bytes) -> None: ...
    def write_register(self, number: int, value: int) -> None: ...


def evaluate(text: str, scope: Scope) -> Value:
    """The value of the C expression ``text`` in ``scope``."""
    tree = parse(text, lambda name: _is_typedef(scope, name))
    return Evaluator(scope).eval(tree)


def type_from_text(text: str, scope: Scope) -> Type | None:
    """The type ``text`` names (``ptype struct s *``), or None if it is an expression."""
    typename = parse_typename(text, lambda name: _is_typedef(scope, name))
    return Evaluator(scope).resolve(typename) if typename is not None else None


def _is_typedef(scope: Scope, name: str) -> bool:
    if scope.variable(name) is not None:
        return False
    t = scope.type_named(name)
    return t is not None and t.kind in ("typedef", "base")


class Evaluator:
    def __init__(self, scope: Scope):
        self.scope = scope
        self.order = getattr(scope, "byteorder", "little")  # the target's byte order

    def eval(self, tree) -> Value:
        return getattr(self, "_" + tree[0])(*tree[1:])

    # -- leaves ---------------------------------------------------------------------------

    def _num(self, value: int, suffix: str, radix: int) -> Value:
        unsigned = "u" in suffix
        is_long = "l" in suffix
        # C's literal types: decimal int, long, unsigned long; others may be unsigned
        order = (INT, UINT, LONG, ULONG) if radix != 10 or unsigned else (INT, LONG, ULONG)
        for t in order:
            if (is_long and t.size < 8) or (unsigned and is_signed(t)):
                continue
            limit = 1 << (8 * t.size - (1 if is_signed(t) else 0))
            if value < limit:
                return from_int(t, value, self.order)
        return from_int(ULONG, value, self.order)

    def _float(self, value: float) -> Value:
        return from_float(DOUBLE, value, self.order)

    def _char(self, code: int) -> Value:
        return from_int(CHAR, code, self.order)

    def _str(self, data: bytes) -> Value:
        return Value(array_of(CHAR, len(data) + 1), data + b"\0", order=self.order)

    def _name(self, name: str) -> Value:
        found = self.scope.variable(name)
        if found is None:
            raise SourceError(f'No symbol "{name}" in current context.')
        return found

    def _dollar(self, text: str) -> Value:
        body = text[1:]
        if body == "" or re.fullmatch(r"\$\d*", body) or body.isdigit():
            if body == "":
                return self.scope.history(0)
            if body.isdigit():
                return self.scope.history(int(body))
            back = int(body[1:]) if len(body) > 1 else 1
            return self.scope.history(-back)
        number = self.scope.register(body)
        if number is None:
            return Value(VOID)  # gdb: an unset convenience variable is void
        if body in _PC_NAMES:
            value = from_int(_CODE_POINTER, number, self.order)
        elif body in _SP_NAMES:
            value = from_int(_VOID_POINTER, number, self.order)
        else:
            value = from_int(LONG, number, self.order)
        # an lvalue where the scope can say which register it is: `set $rdi = 7`
        numbered = getattr(self.scope, "register_number", None)
        where = numbered(body) if numbered is not None else None
        return value if where is None else dataclasses.replace(value, register=where)

    # -- operators ------------------------------------------------------------------------

    def _unary(self, op: str, operand) -> Value:
        if op == "&":
            return self.address_of(self.eval(operand))
        v = self.eval(operand)
        if op == "*":
            return self.deref(v)
        v = decay(v)
        if op == "!":
            return from_int(INT, int(not truth(v)), v.order)
        if is_float(v.type):
            return from_float(v.type, -v.as_float() if op == "-" else v.as_float(), v.order)
        if not is_integer(v.type):
            raise SourceError("Argument to arithmetic operation not a number or boolean.")
        t = promote(v.type)
        number = v.as_int()
        return from_int(t, {"-": -number, "+": number, "~": ~number}[op], v.order)

    def address_of(self, v: Value) -> Value:
        if strip(v.type).kind == "function":
            return from_int(pointer_to(v.type), v.address or 0, self.order)
        if v.address is None:
            raise SourceError("Attempt to take address of value not located in memory.")
        return from_int(pointer_to(v.type, self.scope.pointer_size), v.address, self.order)

    def deref(self, v: Value) -> Value:
        s = strip(v.type)
        if s.kind == "array":
            return element_value(v, 0, self.scope.read)
        if s.kind == "function":
            return v
        if s.kind != "pointer" and not is_integer(v.type):
            raise SourceError("Attempt to take contents of a non-pointer value.")
        target = s.target if s.kind == "pointer" else LONG
        if strip(target).kind == "void":
            raise SourceError("Attempt to take contents of a non-pointer value.")
        return at_address(target, v.as_int() & ((1 << 64) - 1), self.scope.read, v.order)

    def _binary(self, op: str, left, right) -> Value:
        if op == "@":
            return self._artificial_array(left, right)
        if op in ("&&", "||"):
            first = truth(decay(self.eval(left)))
            if op == "&&" and not first or op == "||" and first:
                return from_int(INT, int(first), self.order)
            return from_int(INT, int(truth(decay(self.eval(right)))), self.order)
        return binary(op, decay(self.eval(left)), decay(self.eval(right)))

    def _artificial_array(self, left, right) -> Value:
        """gdb's ``first@count``: ``count`` objects like ``first``, from its address on."""
        first = self.eval(left)
        count = decay(self.eval(right)).as_int()
        if count <= 0:
            raise SourceError(f"Invalid number {count} of repetitions.")
        if first.address is None:
            raise SourceError("Only values in memory can be extended with '@'.")
        return at_address(array_of(first.type, count), first.address, self.scope.read,
                          first.order)

    def _assign(self, left, right) -> Value:
        target = self.eval(left)
        value = convert(decay(self.eval(right)), target.type)
        if target.address is not None:
            self.scope.write_memory(target.address, value.data)
            return Value(target.type, value.data, target.address)
        if target.register is not None:
            self.scope.write_register(target.register, int.from_bytes(value.data, value.order))
            return Value(target.type, value.data, register=target.register)
        raise SourceError("Left operand of assignment is not an lvalue.")

    def _cond(self, test, yes, no) -> Value:
        return self.eval(yes) if truth(decay(self.eval(test))) else self.eval(no)

    def _index(self, base_tree, index_tree) -> Value:
        array, index = self.eval(base_tree), decay(self.eval(index_tree))
        s = strip(array.type)
        if s.kind == "array":
            return element_value(array, index.as_int(), self.scope.read)
        if s.kind == "pointer":
            size = byte_size(s.target)
            return at_address(s.target, (array.as_int() + index.as_int() * size) &
                              ((1 << 64) - 1), self.scope.read, array.order)
        raise SourceError(f"cannot subscript something of type `{type_name(array.type)}'")

    def _member(self, base_tree, name: str) -> Value:
        v = self.eval(base_tree)
        if strip(v.type).kind == "pointer":  # gdb lets `.` through a pointer
            v = self.deref(v)
        return member(v, name)

    def _arrow(self, base_tree, name: str) -> Value:
        v = decay(self.eval(base_tree))
        if strip(v.type).kind != "pointer":
            raise SourceError("The -> operator needs a pointer to a structure, not "
                              f"`{type_name(v.type)}'.")
        return member(self.deref(v), name)

    def _call(self, fn, args) -> Value:
        raise SourceError("Calling functions in the program is not supported.")

    def _cast(self, typename, operand) -> Value:
        return convert(decay(self.eval(operand)), self.resolve(typename), explicit=True)

    # gdb types sizeof as int in C (its builtin size type), not size_t
    def _sizeof_type(self, typename) -> Value:
        return from_int(INT, byte_size(self.resolve(typename)), self.order)

    def _sizeof(self, operand) -> Value:
        return from_int(INT, byte_size(self.eval(operand).type), self.order)

    def resolve(self, typename) -> Type:
        words, stars = typename
        if words and words[0] in ("struct", "union", "enum"):
            t = self.scope.type_named(" ".join(words))
            if t is None:
                raise SourceError(f"No {words[0]} type named {words[1]}.")
        elif words in _BASE_WORDS:
            t = self.scope.type_named(_BASE_WORDS[words].name) or _BASE_WORDS[words]
        elif len(words) == 1 and self.scope.type_named(words[0]) is not None:
            t = self.scope.type_named(words[0])
        else:
            raise SourceError(f'No symbol "{" ".join(words)}" in current context.')
        for _ in range(stars):
            t = pointer_to(t, self.scope.pointer_size)
        return t


# -- C's conversions --------------------------------------------------------------------------

def decay(v: Value) -> Value:
    """Arrays become pointers to their first element; functions pointers to themselves."""
    s = strip(v.type)
    if s.kind == "array" and v.address is not None:
        return from_int(pointer_to(s.target), v.address, v.order)
    if s.kind == "function":
        return from_int(pointer_to(v.type), v.address or 0, v.order)
    return v


def truth(v: Value) -> bool:
    if is_float(v.type):
        return v.as_float() != 0
    return v.as_int() != 0


def promote(t: Type) -> Type:
    """Integer promotion: anything smaller than int becomes int."""
    s = strip(t)
    if s.kind == "enum":
        return INT if s.size <= 4 else LONG
    if byte_size(s) < 4:
        return INT
    return t


def _canonical(t: Type) -> Type:
    size, signed = byte_size(t), is_signed(t)
    if size <= 4:
        return INT if signed else UINT
    return LONG if signed else ULONG


def arithmetic_type(a: Type, b: Type) -> Type:
    """C's usual arithmetic conversions."""
    if is_float(a) or is_float(b):
        sizes = [byte_size(t) for t in (a, b) if is_float(t)]
        return FLOAT if max(sizes) == 4 else DOUBLE if max(sizes) == 8 else strip(
            a if is_float(a) else b)
    a, b = _canonical(promote(a)), _canonical(promote(b))
    if byte_size(a) != byte_size(b):
        return a if byte_size(a) > byte_size(b) else b
    return a if not is_signed(a) else b


def binary(op: str, left: Value, right: Value) -> Value:
    lk, rk = strip(left.type).kind, strip(right.type).kind
    if lk == "pointer" or rk == "pointer":
        return _pointer_arithmetic(op, left, right)
    for v in (left, right):
        if not (is_integer(v.type) or is_float(v.type)):
            raise SourceError("Argument to arithmetic operation not a number or boolean.")
    if op in ("<<", ">>"):
        t = _canonical(promote(left.type))
        shift = right.as_int()
        shifted = left.as_int() << shift if op == "<<" else left.as_int() >> shift
        return from_int(t, shifted, left.order)
    t = arithmetic_type(left.type, right.type)
    if is_float(t):
        a, b = _number(left), _number(right)
        if op in _COMPARE:
            return from_int(INT, int(_COMPARE[op](a, b)), left.order)
        if op == "/" and b == 0:
            return from_float(t, float("inf") if a > 0 else float("-inf") if a < 0 else
                              float("nan"), left.order)
        if op not in _FLOAT_OPS:
            raise SourceError("Integer only operation " + op + ".")
        return from_float(t, _FLOAT_OPS[op](a, b), left.order)
    a = convert(left, t).as_int()
    b = convert(right, t).as_int()
    if op in _COMPARE:
        return from_int(INT, int(_COMPARE[op](a, b)), left.order)
    if op in ("/", "%"):
        if b == 0:
            raise SourceError("Division by zero")
        quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return from_int(t, quotient if op == "/" else a - quotient * b, left.order)
    return from_int(t, _INT_OPS[op](a, b), left.order)


def _number(v: Value) -> float:
    return v.as_float() if is_float(v.type) else float(v.as_int())


def _pointer_arithmetic(op: str, left: Value, right: Value) -> Value:
    lk, rk = strip(left.type).kind, strip(right.type).kind
    if op in _COMPARE:
        answer = _COMPARE[op](left.as_int() & _MASK, right.as_int() & _MASK)
        return from_int(INT, int(answer), left.order)
    if lk == "pointer" and rk == "pointer" and op == "-":
        size = byte_size(strip(left.type).target) or 1
        return from_int(LONG, (left.as_int() - right.as_int()) // size, left.order)
    if op in ("+", "-") and lk == "pointer" and is_integer(right.type):
        size = byte_size(strip(left.type).target) or 1
        delta = right.as_int() * size
        return from_int(left.type, left.as_int() + (delta if op == "+" else -delta), left.order)
    if op == "+" and rk == "pointer" and is_integer(left.type):
        return _pointer_arithmetic(op, right, left)
    raise SourceError("Argument to arithmetic operation not a number or boolean.")


def convert(v: Value, t: Type, explicit: bool = False) -> Value:
    """``v`` as type ``t`` (a cast, or an assignment's conversion)."""
    target = strip(t)
    source = strip(v.type)
    if target.kind in ("struct", "union", "array"):
        if source is target or type_name(source) == type_name(target):
            return Value(t, v.data, v.address, order=v.order)
        raise SourceError("Invalid cast.")
    if target.kind == "void":
        return Value(t)
    if is_float(target):
        return from_float(t, _number(v), v.order)
    if source.kind in ("struct", "union"):
        raise SourceError("Invalid cast.")
    if is_float(source):
        return from_int(t, int(v.as_float()), v.order)
    if source.kind == "array":
        return from_int(t, v.address or 0, v.order)
    if target.kind == "base" and target.encoding == "boolean":
        return from_int(t, int(v.as_int() != 0), v.order)
    return from_int(t, v.as_int(), v.order)


def member(v: Value, name: str) -> Value:
    """``v.name``, looking through anonymous struct/union members as C does."""
    s = strip(v.type)
    if s.kind not in ("struct", "union"):
        raise SourceError("Attempt to extract a component of a value that is not a "
                          "structure.")
    for m in s.members:
        if m.name == name:
            return member_value(v, m)
    for m in s.members:
        if m.name is None and strip(m.type).kind in ("struct", "union"):
            try:
                return member(member_value(v, m), name)
            except SourceError:
                continue
    raise SourceError(f"There is no member named {name}.")


_MASK = (1 << 64) - 1
_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}
_INT_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
            "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b}
_FLOAT_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
              "/": lambda a, b: a / b}
