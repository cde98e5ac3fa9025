"""The syntax tree of a rule expression: small immutable nodes.

Every node keeps ``at``, the 0-based index in the rule text where it starts (for binary nodes:
where the operator is), so later stages can point at the text with a caret. ``at`` takes no part
in equality, so tests compare trees by structure alone.

``str(node)`` is the canonical form: every operation in parentheses, names as written (or as
resolved by the checker). ``parse("a + b * c")`` prints ``(a + (b * c))``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        if self.value.is_integer() and abs(self.value) < 1e15:
            return str(int(self.value))
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class Name:
    """A column: a bar field (``close``), a feature (``fast``) or an output (``bb.upper``)."""

    name: str
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"(-{self.operand})"


@dataclass(frozen=True, slots=True)
class _Binary:
    """An operator between two operands; the subclass says which kind."""

    op: str
    left: Expr
    right: Expr
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True, slots=True)
class Arith(_Binary):
    """``+ - * /`` between two numbers."""


@dataclass(frozen=True, slots=True)
class Compare(_Binary):
    """``< <= > >= == !=`` between two numbers: a condition."""


@dataclass(frozen=True, slots=True)
class Logic(_Binary):
    """``and`` / ``or`` between two conditions."""


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"(not {self.operand})"


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    args: tuple[Expr, ...]
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.function}({', '.join(str(arg) for arg in self.args)})"


@dataclass(frozen=True, slots=True)
class Lookback:
    """``x[n]``: the value of ``x`` ``n`` bars ago."""

    operand: Expr
    bars: int
    at: int = field(default=0, compare=False)

    def __str__(self) -> str:
        return f"{self.operand}[{self.bars}]"


Expr = Number | Name | Neg | Arith | Compare | Logic | Not | Call | Lookback


def children(expr: Expr) -> tuple[Expr, ...]:
    match expr:
        case Neg(operand) | Not(operand) | Lookback(operand):
            return (operand,)
        case _Binary(_, left, right):
            return (left, right)
        case Call(_, args):
            return args
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children (iterative: safe on deep trees)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def depth(expr: Expr) -> int:
    """Levels of the tree (a lone name is 1), computed without recursion."""
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(node))
    return deepest


def names(expr: Expr) -> tuple[str, ...]:
    """The column names the expression reads, each once, in order of appearance."""
    return tuple(dict.fromkeys(node.name for node in walk(expr) if isinstance(node, Name)))
