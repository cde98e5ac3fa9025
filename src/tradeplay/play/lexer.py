"""Tokens of the rule language, with friendly refusals of what people type from other languages.

Only ASCII is accepted: names are ``[A-Za-z_][A-Za-z0-9_]*`` joined by dots (``ob.bull.top`` is
one token), numbers are decimal with an optional fraction and exponent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from tradeplay.play.errors import ExpressionError


class Kind(StrEnum):
    NUMBER = "number"
    NAME = "name"
    KEYWORD = "keyword"
    OPERATOR = "operator"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    at: int
    """0-based index of the first character in the rule text."""

    def describe(self) -> str:
        return "the end of the rule" if self.kind is Kind.END else f"'{self.text}'"


KEYWORDS: Final = frozenset({"and", "or", "not"})
OPERATORS: Final = ("<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",")

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPACE: Final = frozenset(" \t\r\n")

# What people write out of habit from other languages, and what to write instead.
_HABITS: Final = (
    ("&&", "'&&' is not an operator here; write 'and'"),
    ("||", "'||' is not an operator here; write 'or'"),
    ("<>", "'<>' is not an operator here; write '!='"),
    ("=>", "'=>' is not an operator here; write '>='"),
    ("=<", "'=<' is not an operator here; write '<='"),
    ("**", "there is no power operator; multiply instead, e.g. x * x"),
    ("&", "'&' is not an operator here; write 'and'"),
    ("|", "'|' is not an operator here; write 'or'"),
    ("!", "'!' is not an operator here; write 'not'"),
    ("=", "'=' does not compare; write '==' (or '<=', '>=')"),
    ("^", "there is no power operator; multiply instead, e.g. x * x"),
    ("%", "'%' is not an operator; write percentages as factors, e.g. close > open * 1.02"),
    ('"', "quotes are not part of the rule language; write names and numbers bare"),
    ("'", "quotes are not part of the rule language; write names and numbers bare"),
)


def tokenize(text: str, where: str = "") -> list[Token]:
    """The tokens of ``text``, ending with an END token; ExpressionError at the first bad one."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if text[i] in _SPACE:
            i += 1
            continue
        token = _next_token(text, i, where)
        tokens.append(token)
        i = token.at + len(token.text)
    tokens.append(Token(Kind.END, "", len(text)))
    return tokens


def _next_token(text: str, i: int, where: str) -> Token:
    for operator in OPERATORS:
        if text.startswith(operator, i) and not _is_habit(text, i):
            return Token(Kind.OPERATOR, operator, i)
    if match := _NUMBER.match(text, i):
        return _number(text, match, where)
    if match := _NAME.match(text, i):
        if text.startswith(".", match.end()):
            raise ExpressionError(where, text, match.end(), "expected a name after '.'")
        kind = Kind.KEYWORD if match.group() in KEYWORDS else Kind.NAME
        return Token(kind, match.group(), i)
    for habit, advice in _HABITS:
        if text.startswith(habit, i):
            raise ExpressionError(where, text, i, advice)
    raise ExpressionError(where, text, i, f"unexpected character {text[i]!r}")


def _is_habit(text: str, i: int) -> bool:
    """``<>`` and ``**`` start with a real operator but mean something else."""
    return text.startswith(("<>", "**"), i)


def _number(text: str, match: re.Match[str], where: str) -> Token:
    end = match.end()
    if end < len(text) and (text[end].isalnum() or text[end] in "._"):
        tail = re.match(r"[A-Za-z0-9_.]*", text[end:])
        word = match.group() + (tail.group() if tail else "")
        raise ExpressionError(where, text, match.start(), f"'{word}' is not a number or a name")
    return Token(Kind.NUMBER, match.group(), match.start())
