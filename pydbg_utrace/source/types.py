"""C types from DWARF DIEs, and their names the way gdb writes them.

A :class:`Type` is one node of a C type: a base type, ``void``, a pointer, an
array, a struct/union, an enum, a typedef, a ``const``/``volatile`` qualifier
or a function.  They are built once per DIE (:class:`TypeFactory` caches them
by DIE offset, which is also what makes ``struct node { struct node *next; }``
finite) and are plain data afterwards: the printer, the expression evaluator
and the tests need no DWARF.

:func:`type_name` writes C declarator syntax as gdb's ``c_print_type`` does
(``char **``, ``int (*)[4]``, ``void (*)(int)``, ``const char *``,
``char * const``); :func:`ptype_text` expands the struct/union/enum at the
bottom of a type as gdb's ``ptype`` does; ``whatis`` is :func:`type_name`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

QUALIFIERS = ("const", "volatile", "restrict", "_Atomic")


@dataclass(frozen=True, slots=True)
class Member:
    """A struct/union member: its offset in bytes, and bit field geometry if any."""

    name: str | None
    type: Type
    offset: int
    bit_size: int = 0  # 0: not a bit field
    bit_offset: int = 0  # from the least significant bit of the storage at ``offset``


@dataclass(eq=False)
class Type:
    """One C type.  ``target`` is what a pointer points to, an array's element,
    a typedef's or qualifier's underlying type, or a function's return type."""

    kind: str  # base void pointer array struct union enum typedef const volatile function
    name: str | None = None
    size: int = 0
    target: Type | None = None
    encoding: str = ""  # base: signed unsigned signed_char unsigned_char float boolean
    count: int | None = None  # array: number of elements; None: unknown ([])
    members: list[Member] = field(default_factory=list)
    enumerators: list[tuple[str, int]] = field(default_factory=list)
    params: list[Type] = field(default_factory=list)
    prototyped: bool = True
    varargs: bool = False
    declaration: bool = False  # struct s; without a body in this CU

    def __repr__(self) -> str:
        return f"Type({type_name(self)!r})"


VOID = Type("void", "void", 1)


def base(name: str, size: int, encoding: str) -> Type:
    return Type("base", name, size, encoding=encoding)


def pointer_to(target: Type, size: int = 8) -> Type:
    return Type("pointer", None, size, target)


def array_of(element: Type, count: int | None) -> Type:
    return Type("array", None, element.size * (count or 0), element, count=count)


def strip(t: Type) -> Type:
    """The type under typedefs and qualifiers (gdb's ``check_typedef`` + cv)."""
    while (t.kind == "typedef" or t.kind in QUALIFIERS) and t.target is not None:
        t = t.target
    if t.kind == "typedef" or t.kind in QUALIFIERS:
        return VOID
    return t


def byte_size(t: Type) -> int:
    s = strip(t)
    if s.kind == "array":
        return byte_size(s.target) * (s.count or 0)
    return s.size


def is_integer(t: Type) -> bool:
    s = strip(t)
    return s.kind == "enum" or (s.kind == "base" and s.encoding != "float")


def is_float(t: Type) -> bool:
    s = strip(t)
    return s.kind == "base" and s.encoding == "float"


def is_char(t: Type) -> bool:
    """A one-byte character type: gdb prints these as ``65 'A'`` and strings."""
    s = strip(t)
    return s.kind == "base" and s.size == 1 and s.encoding in ("signed_char", "unsigned_char")


def is_signed(t: Type) -> bool:
    s = strip(t)
    if s.kind == "enum":
        return any(value < 0 for _, value in s.enumerators)
    return s.encoding in ("signed", "signed_char", "float")


# -- names ----------------------------------------------------------------------------------

def _tag(t: Type) -> str:
    keyword = {"struct": "struct ", "union": "union ", "enum": "enum "}.get(t.kind, "")
    return keyword + (t.name or "{...}")


def _params(t: Type) -> str:
    names = [type_name(p) for p in t.params]
    if t.varargs:
        names.append("...")
    if not names:
        return "(void)" if t.prototyped else "()"
    return "(" + ", ".join(names) + ")"


def type_name(t: Type, inner: str = "", body=None) -> str:
    """C declarator text of ``t`` around ``inner`` (a variable name, or ``""``).

    ``body`` renders the innermost struct/union/enum instead of its tag (ptype).
    """
    if t.kind == "pointer":
        target = t.target or VOID
        star = "*" + inner
        if strip_qualifiers(target).kind in ("array", "function"):
            star = "(" + star + ")"
        return type_name(target, star, body)
    if t.kind == "array":
        bound = "" if t.count is None else str(t.count)
        return type_name(t.target or VOID, inner + f"[{bound}]", body)
    if t.kind == "function":
        return type_name(t.target or VOID, inner + _params(t), body)
    if t.kind in QUALIFIERS:
        target = t.target or VOID
        if target.kind == "pointer":  # gdb: char * const p, int (* const f)(int)
            return type_name(target, " " + t.kind + (" " + inner if inner else ""), body)
        rest = type_name(target, inner, body)
        # gcc qualifies an array and its elements both: gdb says the word once
        return rest if rest.startswith(t.kind + " ") else t.kind + " " + rest
    text = body(t) if body is not None and t.kind in ("struct", "union", "enum") else (
        _tag(t) if t.kind in ("struct", "union", "enum") else (t.name or "void"))
    if not inner:
        return text
    return text + " " + inner


def strip_qualifiers(t: Type) -> Type:
    while t.kind in QUALIFIERS and t.target is not None:
        t = t.target
    return t


def ptype_text(t: Type) -> str:
    """What gdb's ``ptype`` prints after ``type = ``: one typedef level resolved,
    the struct/union/enum at the bottom written out with its members."""
    if t.kind == "typedef" and t.target is not None:
        t = t.target
    return type_name(t, "", lambda leaf: _body(leaf, 0))


def _body(t: Type, indent: int) -> str:
    if t.kind == "enum":
        return _tag(t).replace("{...}", "").rstrip() + " {" + _enumerators(t) + "}"
    head = ("struct" if t.kind == "struct" else "union") + (f" {t.name}" if t.name else "")
    if t.declaration and not t.members:
        return head + " {\n" + " " * (indent + 4) + "<incomplete type>\n" + " " * indent + "}"
    lines = [head + " {"]
    if not t.members:
        lines.append(" " * (indent + 4) + "<no data fields>")
        lines.append("")
    for m in t.members:
        lines.append(" " * (indent + 4) + _member_decl(m, indent + 4) + ";")
    lines.append(" " * indent + "}")
    return "\n".join(lines)


def _member_decl(m: Member, indent: int) -> str:
    def nested(leaf: Type) -> str:
        return _body(leaf, indent) if leaf.name is None else _tag(leaf)
    text = type_name(m.type, m.name or "", nested)
    if m.bit_size:
        text += f" : {m.bit_size}"
    return text


def _enumerators(t: Type) -> str:
    parts, expected = [], 0
    for name, value in t.enumerators:
        parts.append(name if value == expected else f"{name} = {value}")
        expected = value + 1
    return ", ".join(parts)
