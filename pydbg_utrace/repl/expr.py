"""Addresses and values the way users type them: ``0x401000``, ``$sp+16``, ``main+4``.

A deliberately small language: sums and differences of numbers, registers
(``$rax``, ``$pc``, ``$sp``), symbols (``main``, ``&counter``), parentheses and
``*EXPR`` (the word at that address).  Anything else is a clear error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|\d+)|(\$[A-Za-z_][\w]*)|([A-Za-z_.@][\w.@]*)"
                    r"|([-+*&()]))")


class ExprError(ValueError):
    pass


@dataclass
class Scope:
    """Where names come from: registers, symbols and memory of the stopped program."""

    register: Callable[[str], int]  # "rax"/"pc"/"sp" -> value; KeyError if unknown
    symbol: Callable[[str], int | None]  # address or None
    read_word: Callable[[int], int]


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExprError(f"cannot parse {text[pos:]!r} in {text!r}")
        kind = ("num", "reg", "sym", "op")[m.lastindex - 1]
        tokens.append((kind, m.group(m.lastindex)))
        pos = m.end()
    return tokens


def evaluate(text: str, scope: Scope) -> int:
    """The value of ``text``; ExprError with a one-line reason otherwise."""
    tokens = tokenize(text)
    if not tokens:
        raise ExprError("an address or value is needed")
    value, rest = _sum(tokens, scope)
    if rest:
        raise ExprError(f"unexpected {rest[0][1]!r} in {text!r}")
    return value


def _sum(tokens: list, scope: Scope) -> tuple[int, list]:
    value, tokens = _unary(tokens, scope)
    while tokens and tokens[0] in (("op", "+"), ("op", "-")):
        sign = tokens[0][1]
        rhs, tokens = _unary(tokens[1:], scope)
        value = value + rhs if sign == "+" else value - rhs
    return value, tokens


def _unary(tokens: list, scope: Scope) -> tuple[int, list]:
    if not tokens:
        raise ExprError("expression ends too soon")
    kind, text = tokens[0]
    rest = tokens[1:]
    if (kind, text) == ("op", "-"):
        value, rest = _unary(rest, scope)
        return -value, rest
    if (kind, text) == ("op", "*"):
        address, rest = _unary(rest, scope)
        return scope.read_word(address), rest
    if (kind, text) == ("op", "&"):
        return _unary(rest, scope)  # &symbol is the symbol's address, as is symbol
    if (kind, text) == ("op", "("):
        value, rest = _sum(rest, scope)
        if not rest or rest[0] != ("op", ")"):
            raise ExprError("missing ')'")
        return value, rest[1:]
    if kind == "num":
        return int(text, 0), rest
    if kind == "reg":
        try:
            return scope.register(text[1:]), rest
        except KeyError:
            raise ExprError(f"no register {text}") from None
    if kind == "sym":
        address = scope.symbol(text)
        if address is None:
            raise ExprError(f'No symbol "{text}" in current context.')
        return address, rest
    raise ExprError(f"unexpected {text!r}")
