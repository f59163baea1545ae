"""C expressions as gdb users type them, parsed by a small Pratt parser into a tree.

No Python ``eval``: tokens, then binding powers (C's precedence, lowest first:
``=`` ``?:`` ``||`` ``&&`` ``|`` ``^`` ``&`` ``== !=`` ``< > <= >=`` ``<< >>``
``+ -`` ``* / %``, then unary ``- + ! ~ * & sizeof`` and casts, then postfix
``[] . -> ()``).  A parenthesised type name is a cast; which identifiers name
types (typedefs) the caller says through ``is_type_name``, as a C parser must.

The tree is tuples: ``("num", value, suffix)``, ``("float", value)``,
``("char", code)``, ``("str", bytes)``, ``("name", ident)``, ``("dollar", text)``,
``("unary", op, operand)``, ``("binary", op, left, right)``, ``("assign", left,
right)``, ``("cond", test, yes, no)``, ``("index", base, index)``, ``("member",
base, name)``, ``("arrow", base, name)``, ``("call", fn, args)``, ``("cast",
typename, operand)``, ``("sizeof_type", typename)``, ``("sizeof", operand)``.
A typename is ``(words, stars)``: ``(("unsigned", "long"), 1)`` or
``(("struct", "s"), 2)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .values import SourceError

_TOKEN = re.compile(r"""
    (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?[fFlL]?|\d+[eE][-+]?\d+[fFlL]?)
  | (?P<num>(?:0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)(?P<suffix>[uUlL]*))
  | (?P<char>'(?:\\.[0-7]{0,2}|[^'\\])')
  | (?P<str>"(?:\\.|[^"\\])*")
  | (?P<dollar>\$[\w$]*)
  | (?P<name>[A-Za-z_]\w*)
  | (?P<op>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!<>?:=()\[\].,{}@])
""", re.VERBOSE)
_TYPE_WORDS = {"struct", "union", "enum", "unsigned", "signed", "int", "char", "long", "short",
               "float", "double", "void", "_Bool", "const", "volatile"}
_BINARY = {"||": 4, "&&": 5, "|": 6, "^": 7, "&": 8, "==": 9, "!=": 9, "<": 10, ">": 10,
           "<=": 10, ">=": 10, "<<": 11, ">>": 11, "@": 11.5, "+": 12, "-": 12, "*": 13, "/": 13,
           "%": 13}  # gdb's '@' (an artificial array) binds between the shifts and + -
_UNARY_POWER = 14
_ESCAPES = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "e": 27, "\\": 92,
            "'": 39, '"': 34, "?": 63}


def tokenize(text: str) -> list[tuple[str, object]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SourceError(f"Invalid character '{text[pos]}' in expression.")
        kind = m.lastgroup if m.lastgroup != "suffix" else "num"
        raw = m.group(kind)
        if kind == "num":
            digits = raw.rstrip("uUlL")
            base = 16 if digits[:2].lower() == "0x" else 2 if digits[:2].lower() == "0b" else \
                8 if len(digits) > 1 and digits[0] == "0" else 10
            tokens.append(("num", (int(digits, base), raw[len(digits):].lower(), base)))
        elif kind == "float":
            tokens.append(("float", float(raw.rstrip("fFlL"))))
        elif kind == "char":
            tokens.append(("char", _unescape(raw[1:-1])[0]))
        elif kind == "str":
            tokens.append(("str", bytes(_unescape(raw[1:-1]))))
        else:
            tokens.append((kind, raw))
        pos = m.end()
    return tokens


def _unescape(body: str) -> list[int]:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            octal = re.match(r"[0-7]{1,3}", body[i + 1:])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            if body[i + 1] == "x":
                hexa = re.match(r"[0-9a-fA-F]+", body[i + 2:])
                out.append(int(hexa.group(), 16) & 0xFF if hexa else 0)
                i += 2 + (len(hexa.group()) if hexa else 0)
                continue
            out.append(_ESCAPES.get(body[i + 1], ord(body[i + 1])))
            i += 2
        else:
            out.extend(body[i].encode())
            i += 1
    return out


class Parser:
    def __init__(self, text: str, is_type_name: Callable[[str], bool] = lambda name: False):
        self.tokens = tokenize(text)
        self.pos = 0
        self.is_type_name = is_type_name

    def parse(self):
        if not self.tokens:
            raise SourceError("Argument required (expression to compute).")
        tree = self.expression(0)
        if self.pos < len(self.tokens):
            raise SourceError(f"A syntax error in expression, near `{self._rest()}'.")
        return tree

    # -- helpers ---------------------------------------------------------------------------

    def _peek(self, ahead: int = 0):
        at = self.pos + ahead
        return self.tokens[at] if at < len(self.tokens) else ("end", None)

    def _take(self):
        token = self._peek()
        self.pos += 1
        return token

    def _is(self, kind: str, value=None, ahead: int = 0) -> bool:
        token = self._peek(ahead)
        return token[0] == kind and (value is None or token[1] == value)

    def _expect_op(self, op: str) -> None:
        if not self._is("op", op):
            raise SourceError(f"A syntax error in expression, near `{self._rest()}'.")
        self.pos += 1

    def _rest(self) -> str:
        return " ".join(_token_text(t) for t in self.tokens[self.pos:])

    # -- grammar ---------------------------------------------------------------------------

    def expression(self, min_power: int):
        left = self.prefix()
        while True:
            kind, value = self._peek()
            if kind != "op":
                return left
            if value == "=" and min_power <= 2:
                self.pos += 1
                left = ("assign", left, self.expression(2))
            elif value == "?" and min_power <= 3:
                self.pos += 1
                yes = self.expression(0)
                self._expect_op(":")
                left = ("cond", left, yes, self.expression(3))
            elif value in _BINARY and _BINARY[value] > min_power:  # left-associative
                self.pos += 1
                left = ("binary", value, left, self.expression(_BINARY[value]))
            else:
                return left

    def prefix(self):
        kind, value = self._take()
        if kind == "num":
            return self.postfix(("num", value[0], value[1], value[2]))
        if kind == "float":
            return self.postfix(("float", value))
        if kind == "char":
            return self.postfix(("char", value))
        if kind == "str":
            return self.postfix(("str", value))
        if kind == "dollar":
            return self.postfix(("dollar", value))
        if kind == "name" and value == "sizeof":
            if self._is("op", "(") and self._starts_type(1):
                self.pos += 1
                typename = self.typename()
                self._expect_op(")")
                return ("sizeof_type", typename)
            return ("sizeof", self.expression(_UNARY_POWER))
        if kind == "name":
            return self.postfix(("name", value))
        if kind == "op" and value == "(":
            if self._starts_type(0):
                typename = self.typename()
                self._expect_op(")")
                return ("cast", typename, self.expression(_UNARY_POWER))
            inner = self.expression(0)
            self._expect_op(")")
            return self.postfix(inner)
        if kind == "op" and value in ("-", "+", "!", "~", "*", "&"):
            return ("unary", value, self.expression(_UNARY_POWER))
        if kind == "end":
            raise SourceError("A syntax error in expression, near `'.")
        self.pos -= 1
        raise SourceError(f"A syntax error in expression, near `{self._rest()}'.")

    def postfix(self, tree):
        while True:
            if self._is("op", "["):
                self.pos += 1
                index = self.expression(0)
                self._expect_op("]")
                tree = ("index", tree, index)
            elif self._is("op", ".") or self._is("op", "->"):
                arrow = self._take()[1] == "->"
                kind, name = self._take()
                if kind != "name":
                    raise SourceError("A syntax error in expression, near `'.")
                tree = ("arrow" if arrow else "member", tree, name)
            elif self._is("op", "("):
                self.pos += 1
                args = []
                while not self._is("op", ")"):
                    args.append(self.expression(3))
                    if self._is("op", ","):
                        self.pos += 1
                self._expect_op(")")
                tree = ("call", tree, args)
            else:
                return tree

    def _starts_type(self, ahead: int) -> bool:
        kind, value = self._peek(ahead)
        return kind == "name" and (value in _TYPE_WORDS or self.is_type_name(value))

    def typename(self) -> tuple[tuple[str, ...], int]:
        words: list[str] = []
        while self._is("name"):
            word = self._peek()[1]
            if word in ("const", "volatile"):
                self.pos += 1
                continue
            if word in ("struct", "union", "enum"):
                self.pos += 1
                words = [word, self._take()[1]]
                break
            if word not in _TYPE_WORDS and (words or not self.is_type_name(word)):
                break
            words.append(word)
            self.pos += 1
        stars = 0
        while self._is("op", "*") or self._is("name", "const"):
            stars += self._take()[1] == "*"
        return tuple(words), stars


def _token_text(token) -> str:
    kind, value = token
    if kind == "num":
        return str(value[0])
    if kind == "str":
        return '"' + value.decode(errors="replace") + '"'
    if kind == "char":
        return repr(chr(value))
    return str(value)


def parse_typename(text: str, is_type_name: Callable[[str], bool] = lambda name: False):
    """``text`` as a type name (``struct s *``, ``unsigned long``, ``my_t``), or None
    when it is not one (then it is an expression)."""
    try:
        parser = Parser(text, is_type_name)
    except SourceError:
        return None
    if not parser.tokens or not parser._starts_type(0):
        return None
    typename = parser.typename()
    return typename if parser.pos == len(parser.tokens) else None


def parse(text: str, is_type_name: Callable[[str], bool] = lambda name: False):
    """The tree of ``text``; :class:`SourceError` with gdb's wording if it is not C."""
    return Parser(text, is_type_name).parse()
