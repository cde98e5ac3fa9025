"""The rules on the last row only: what a live step needs, without building whole columns.

:mod:`tradeplay.play.evaluate` computes a rule on every row of a tail of the columns, and the
streaming path reads the last one; most of that work is the numpy arrays of rows nobody reads.
:class:`LastRow` computes the same value for the last row alone, walking the rule once per row
it reads (``x[n]``, a window, the previous row of a cross), with the semantics of
:mod:`tradeplay.play.evaluate` applied to single values: Python floats are the same IEEE
doubles as numpy's float64 and round every ``+ - * /`` alike; a comparison with NaN is false;
division by zero is NaN; a row before the tail is NaN (numbers) or false (conditions); a window
is NaN while it reaches before the tail or holds a NaN. Tests hold both to the same signals.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.play.evaluate import column_key
from tradeplay.play.functions import FUNCTIONS, Type
from tradeplay.play.nodes import Arith, Call, Compare, Expr, Logic, Lookback, Name, Neg, Not, Number

__all__ = ["LastRow"]

Value = float | bool
_NAN: Final = math.nan


class LastRow:
    """One play's rules, each evaluated on the last row of a tail of its columns."""

    def __init__(self, rules: Mapping[str, Expr | None], names: Sequence[str]) -> None:
        """``rules``: the four rules (``None``: not written, never true); ``names``: the
        columns in the order of the tail's columns."""
        self._rules = dict(rules)
        self._index = {name: j for j, name in enumerate(names)}
        self._rows: NDArray[np.float64] = np.empty((0, len(names)))

    def signals(self, rows: NDArray[np.float64]) -> dict[str, bool]:
        """Each rule on the last of ``rows`` (the tail, one column per name, oldest first)."""
        self._rows = rows
        last = len(rows) - 1
        return {
            rule: expr is not None and bool(self._value(expr, last))
            for rule, expr in self._rules.items()
        }

    def _value(self, expr: Expr, i: int) -> Value:  # noqa: PLR0911 (one case per node kind)
        match expr:
            case Number(number):
                return float(number)
            case Name(name):
                return float(self._rows[i, self._column(name)])
            case Neg(operand):
                return -self._value(operand, i)
            case Arith(op, left, right):
                return _ARITHMETIC[op](self._value(left, i), self._value(right, i))
            case Compare(op, left, right):
                return _compare(op, self._value(left, i), self._value(right, i))
            case Logic(op, left, right):
                both = bool(self._value(left, i)), bool(self._value(right, i))
                return both[0] and both[1] if op == "and" else both[0] or both[1]
            case Not(operand):
                return not self._value(operand, i)
            case Lookback(operand, bars):
                if i - bars < 0:
                    return False if _is_condition(operand) else _NAN
                return self._value(operand, i - bars)
            case Call():
                return self._call(expr, i)
        raise AssertionError(f"unknown node {expr!r}")  # pragma: no cover

    def _column(self, name: str) -> int:
        return self._index[column_key(name, self._index)]

    def _at(self, expr: Expr, i: int) -> Value:
        """``expr`` on row ``i``, NaN before the tail (a numeric argument's past)."""
        return _NAN if i < 0 else self._value(expr, i)

    def _call(self, call: Call, i: int) -> Value:
        name, args = call.function, call.args
        if name in _WINDOWED:
            window = args[-1]
            assert isinstance(window, Number)  # the checker guarantees a literal
            return self._windowed(name, args[0], int(window.value), i)
        if name in ("crosses_above", "crosses_below"):
            now, before = ("<", ">=") if name == "crosses_below" else (">", "<=")
            a, b = args
            crossed = _compare(now, self._value(a, i), self._value(b, i))
            return crossed and _compare(before, self._at(a, i - 1), self._at(b, i - 1))
        values = [self._value(arg, i) for arg in args]
        if name == "between":
            x, low, high = values
            return _compare(">=", x, low) and _compare("<=", x, high)
        if name == "abs":
            return abs(values[0])
        if name in ("min", "max"):
            return _extreme(min if name == "min" else max, values[0], values[1])
        raise KeyError(f"function {name!r} has no streaming evaluation")

    def _windowed(self, name: str, arg: Expr, n: int, i: int) -> Value:
        if name == "change":
            return float(self._value(arg, i)) - float(self._at(arg, i - n))
        if i < n - 1:  # the window reaches before the tail
            return False if name in ("rising", "falling") else _NAN
        if name in ("rising", "falling"):
            op = ">" if name == "rising" else "<"
            return all(
                _compare(op, self._value(arg, k), self._at(arg, k - 1))
                for k in range(i - n + 1, i + 1)
            )
        found = [float(self._value(arg, k)) for k in range(i - n + 1, i + 1)]
        if any(math.isnan(v) for v in found):
            return _NAN
        return max(found) if name == "highest" else min(found)


def _is_condition(expr: Expr) -> bool:
    """Whether ``expr`` is true or false on each row (the checker's condition type)."""
    match expr:
        case Compare() | Logic() | Not():
            return True
        case Lookback(operand, _):
            return _is_condition(operand)
        case Call(function=function):
            return function in _CONDITIONS
    return False


def _compare(op: str, left: Value, right: Value) -> bool:
    if math.isnan(left) or math.isnan(right):
        return False
    return _COMPARISONS[op](left, right)


def _divide(left: Value, right: Value) -> float:
    return _NAN if right == 0.0 else float(left) / float(right)


def _extreme(pick: Callable[[float, float], float], a: Value, b: Value) -> float:
    """``np.minimum`` / ``np.maximum`` of two values: NaN when either is."""
    if math.isnan(a) or math.isnan(b):
        return _NAN
    return pick(float(a), float(b))


_ARITHMETIC: Final[Mapping[str, Callable[[Value, Value], Value]]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
}
_COMPARISONS: Final[Mapping[str, Callable[[Value, Value], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_WINDOWED: Final = frozenset(name for name, f in FUNCTIONS.items() if f.has_window)
_CONDITIONS: Final = frozenset(name for name, f in FUNCTIONS.items() if f.result is Type.CONDITION)
