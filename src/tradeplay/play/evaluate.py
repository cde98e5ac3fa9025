"""Evaluating rules over whole columns with numpy: the same code for backtest and live.

Every operation is causal: the value at row ``i`` reads only rows ``≤ i``. The streaming path
therefore evaluates a rule over a short tail of the columns (at least ``max_lookback + 1`` rows)
and reads the last row; it gets exactly what the backtest got at that bar.

Semantics, stated once:

* numbers are float64, conditions are bool arrays;
* a comparison with NaN on either side is **false** (``!=`` too): a rule never fires on missing
  data, e.g. during warm-up;
* division by zero gives NaN (so any comparison with it is false), never ±inf;
* ``x[n]`` shifts by ``n`` rows; the first ``n`` rows are NaN (numbers) or false (conditions);
* ``crosses_above(a, b)[i]`` is ``a[i] > b[i] and a[i-1] <= b[i-1]``; false on row 0;
* ``highest(x, n)`` / ``lowest(x, n)`` cover the last ``n`` rows including the current one, NaN
  until ``n`` rows exist and whenever the window holds a NaN;
* ``rising(x, n)``: ``x[i-k] > x[i-k-1]`` for every ``k < n`` (``falling`` with ``<``).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.play.checker import SINGLE_OUTPUT
from tradeplay.play.nodes import Arith, Call, Compare, Expr, Logic, Lookback, Name, Neg, Not, Number

if TYPE_CHECKING:
    from tradeplay.play.compiler import CompiledPlay

Array = NDArray[Any]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

RULES: Final = ("long.entry", "long.exit", "short.entry", "short.exit")


def signals(compiled: CompiledPlay, columns: Mapping[str, Floats]) -> dict[str, Bools]:
    """The four rule signals (``long.entry`` …) as bool arrays; a rule not written is all false."""
    length = _length(columns)
    result: dict[str, Bools] = {}
    for key in RULES:
        expr = compiled.rules.get(key)
        result[key] = (
            np.zeros(length, dtype=np.bool_) if expr is None else _as_bools(evaluate(expr, columns))
        )
    return result


def evaluate(expr: Expr, columns: Mapping[str, Floats]) -> Array:
    """The value of ``expr`` on every row: float64 for numbers, bool for conditions."""
    with np.errstate(all="ignore"):
        return _Evaluator(columns, _length(columns)).value(expr)


def _length(columns: Mapping[str, Floats]) -> int:
    lengths = {len(column) for column in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns must all have the same length, got lengths {sorted(lengths)}")
    return lengths.pop()


def _as_bools(values: Array) -> Bools:
    return np.asarray(values, dtype=np.bool_)


class _Evaluator:
    def __init__(self, columns: Mapping[str, Floats], length: int) -> None:
        self.columns = columns
        self.length = length

    def value(self, expr: Expr) -> Array:  # noqa: PLR0911 (one case per node kind)
        match expr:
            case Number(number):
                return np.full(self.length, number, dtype=np.float64)
            case Name(name):
                return self.column(name)
            case Neg(operand):
                return -self.value(operand)
            case Arith(op, left, right):
                return _ARITHMETIC[op](self.value(left), self.value(right))
            case Compare(op, left, right):
                return _compare(op, self.value(left), self.value(right))
            case Logic(op, left, right):
                both = (self.value(left), self.value(right))
                return np.logical_and(*both) if op == "and" else np.logical_or(*both)
            case Not(operand):
                return np.logical_not(self.value(operand))
            case Lookback(operand, bars):
                return shift(self.value(operand), bars)
            case Call():
                return self.call(expr)
        raise AssertionError(f"unknown node {expr!r}")  # pragma: no cover

    def column(self, name: str) -> Floats:
        return np.asarray(self.columns[column_key(name, self.columns)], dtype=np.float64)

    def call(self, call: Call) -> Array:
        args = call.args
        if call.function in _WINDOWED:
            window = args[-1]
            assert isinstance(window, Number)  # the checker guarantees a literal
            return _WINDOWED[call.function](self.value(args[0]), int(window.value))
        values = [self.value(arg) for arg in args]
        return _PLAIN[call.function](*values)


def shift(values: Array, bars: int) -> Array:
    """``values`` moved ``bars`` rows later; NaN (or false) fills the rows that have no past."""
    if bars == 0:
        return values
    fill: float | bool = False if values.dtype == np.bool_ else np.nan
    shifted = np.full_like(values, fill)
    if bars < len(values):
        shifted[bars:] = values[:-bars]
    return shifted


def _compare(op: str, left: Floats, right: Floats) -> Bools:
    known = ~(np.isnan(left) | np.isnan(right))
    result: Bools = _COMPARISONS[op](left, right)
    return result & known


def _divide(left: Floats, right: Floats) -> Floats:
    quotient: Floats = np.divide(left, right)
    return np.where(right == 0.0, np.nan, quotient)


def _crosses_above(a: Floats, b: Floats) -> Bools:
    now = _compare(">", a, b)
    before = _compare("<=", shift(a, 1), shift(b, 1))
    return now & before


def _crosses_below(a: Floats, b: Floats) -> Bools:
    now = _compare("<", a, b)
    before = _compare(">=", shift(a, 1), shift(b, 1))
    return now & before


def _rolling(reduce: Callable[[Floats, Floats], Floats]) -> Callable[[Floats, int], Floats]:
    """A rolling reduction over the last ``window`` rows in O(n log window).

    Doubling: after step k, ``level[i]`` reduces rows ``i - 2**k + 1 … i``; two overlapping
    spans of the largest power of two ≤ window then cover the window exactly. ``np.maximum`` and
    ``np.minimum`` propagate NaN, so a window holding a NaN is NaN.
    """

    def rolled(values: Floats, window: int) -> Floats:
        result = np.full(len(values), np.nan)
        if window > len(values):
            return result
        level, span = values, 1
        while span * 2 <= window:
            level = reduce(level, shift(level, span))
            span *= 2
        covered = reduce(level, shift(level, window - span))
        result[window - 1 :] = covered[window - 1 :]
        return result

    return rolled


_rolling_min: Final = _rolling(np.minimum)


def _change(values: Floats, bars: int) -> Floats:
    changed: Floats = values - shift(values, bars)
    return changed


def _steps(op: str) -> Callable[[Floats, int], Bools]:
    def stepped(values: Floats, bars: int) -> Bools:
        step = _compare(op, values, shift(values, 1)).astype(np.float64)
        every: Bools = _rolling_min(step, bars) == 1.0
        return every

    return stepped


def _between(x: Floats, low: Floats, high: Floats) -> Bools:
    return _compare(">=", x, low) & _compare("<=", x, high)


_ARITHMETIC: Final[Mapping[str, Callable[[Floats, Floats], Floats]]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _divide,
}
_COMPARISONS: Final[Mapping[str, Callable[[Floats, Floats], Bools]]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_WINDOWED: Final[Mapping[str, Callable[[Floats, int], Array]]] = {
    "highest": _rolling(np.maximum),
    "lowest": _rolling_min,
    "change": _change,
    "rising": _steps(">"),
    "falling": _steps("<"),
}
_PLAIN: Final[Mapping[str, Callable[..., Array]]] = {
    "crosses_above": _crosses_above,
    "crosses_below": _crosses_below,
    "between": _between,
    "abs": np.abs,
    "min": np.minimum,
    "max": np.maximum,
}


def column_key(name: str, columns: Container[str]) -> str:
    """The column a rule's ``name`` reads: itself, or the single output of the feature it
    names (``rsi`` is ``rsi.value``). :class:`KeyError` when neither is given."""
    if name in columns:
        return name
    single = f"{name}.{SINGLE_OUTPUT}"
    if single in columns:
        return single
    raise KeyError(f"column '{name}' is not among the columns given to evaluate")
