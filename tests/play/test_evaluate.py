"""Rules evaluate over whole columns, causally: row i never depends on a row after it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from tradeplay.play.checker import Namespace, compile_rule
from tradeplay.play.evaluate import evaluate
from tradeplay.play.last_row import LastRow
from tradeplay.play.nodes import Expr
from tradeplay.play.parser import parse

NAN = np.nan


def _columns(**values: list[float]) -> dict[str, NDArray[np.float64]]:
    return {name: np.array(column, dtype=np.float64) for name, column in values.items()}


def _eval(text: str, **values: list[float]) -> NDArray[np.float64]:
    return evaluate(parse(text), _columns(**values))


def _same(actual: NDArray[np.float64], expected: list[float]) -> bool:
    return bool(np.array_equal(actual, np.array(expected), equal_nan=True))


def test_crosses_above_fires_on_the_bar_after_being_at_or_below() -> None:
    result = _eval("crosses_above(a, b)", a=[1, 2, 3, 2, 3, 3], b=[2, 2, 2, 2, 2, 2])
    assert result.tolist() == [False, False, True, False, True, False]


def test_crosses_below_mirrors_crosses_above() -> None:
    result = _eval("crosses_below(a, b)", a=[3, 2, 1, 2, 1, 1], b=[2, 2, 2, 2, 2, 2])
    assert result.tolist() == [False, False, True, False, True, False]


def test_a_cross_next_to_missing_data_does_not_fire() -> None:
    result = _eval("crosses_above(a, b)", a=[NAN, 3, 1, NAN, 3], b=[2, 2, 2, 2, 2])
    assert result.tolist() == [False, False, False, False, False]


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_any_comparison_with_nan_is_false(op: str) -> None:
    result = _eval(f"a {op} b", a=[NAN, 1, NAN], b=[1, NAN, NAN])
    assert result.tolist() == [False, False, False]


def test_not_equal_is_true_for_different_known_values() -> None:
    assert _eval("a != b", a=[1, 2], b=[1, 3]).tolist() == [False, True]


def test_arithmetic_follows_precedence_and_division_by_zero_is_missing() -> None:
    assert _same(_eval("a + b * 2", a=[1, 2], b=[3, 4]), [7, 10])
    assert _same(_eval("a / b", a=[1, 0, -1], b=[0, 0, 2]), [NAN, NAN, -0.5])
    assert _same(_eval("-a", a=[1, -2]), [-1, 2])


def test_logic_combines_conditions() -> None:
    a, b = [1, 1, 0, 0], [1, 0, 1, 0]
    assert _eval("a > 0 and b > 0", a=a, b=b).tolist() == [True, False, False, False]
    assert _eval("a > 0 or b > 0", a=a, b=b).tolist() == [True, True, True, False]
    assert _eval("not a > 0", a=a, b=b).tolist() == [False, False, True, True]


def test_lookback_shifts_numbers_with_nan_and_conditions_with_false() -> None:
    assert _same(_eval("a[2]", a=[1, 2, 3, 4]), [NAN, NAN, 1, 2])
    assert _same(_eval("a[0]", a=[1, 2]), [1, 2])
    assert _same(_eval("a[5]", a=[1, 2]), [NAN, NAN])
    assert _eval("(a > 1)[1]", a=[2, 2, 0]).tolist() == [False, True, True]


def test_highest_and_lowest_cover_the_last_n_rows_including_the_current() -> None:
    a = [3, 1, 4, 1, 5, 9, 2, 6]
    assert _same(_eval("highest(a, 3)", a=a), [NAN, NAN, 4, 4, 5, 9, 9, 9])
    assert _same(_eval("lowest(a, 3)", a=a), [NAN, NAN, 1, 1, 1, 1, 2, 2])
    assert _same(_eval("highest(a, 1)", a=a), a)
    assert _same(_eval("highest(a, 9)", a=a), [NAN] * 8)


def test_a_window_holding_nan_is_nan() -> None:
    assert _same(_eval("highest(a, 2)", a=[1, NAN, 3, 4]), [NAN, NAN, NAN, 4])


@pytest.mark.parametrize("window", [1, 2, 3, 5, 7, 8, 13, 40])
def test_rolling_windows_agree_with_the_obvious_loop(window: int) -> None:
    values = np.random.default_rng(window).normal(size=50)
    expected = [max(values[i - window + 1 : i + 1]) if i >= window - 1 else NAN for i in range(50)]
    assert _same(evaluate(parse(f"highest(a, {window})"), {"a": values}), expected)


def test_change_rising_and_falling_look_back_n_bars() -> None:
    a = [1, 2, 3, 2, 3, 4, 5]
    assert _same(_eval("change(a, 2)", a=a), [NAN, NAN, 2, 0, 0, 2, 2])
    assert _eval("rising(a, 2)", a=a).tolist() == [False, False, True, False, False, True, True]
    assert _eval("falling(a, 1)", a=a).tolist() == [False, False, False, True, False, False, False]


def test_between_abs_min_and_max() -> None:
    assert _eval("between(a, 1, 3)", a=[0, 1, 2, 3, 4, NAN]).tolist() == [
        False,
        True,
        True,
        True,
        False,
        False,
    ]
    assert _same(_eval("abs(a)", a=[-1, 2]), [1, 2])
    assert _same(_eval("min(a, b)", a=[1, 5], b=[3, 2]), [1, 2])
    assert _same(_eval("max(a, b)", a=[1, 5], b=[3, 2]), [3, 5])


def test_a_single_output_feature_is_found_by_its_bare_name_or_as_value() -> None:
    columns = _columns(**{"fast.value": [1.0, 2.0]})
    assert _same(evaluate(parse("fast"), columns), [1, 2])


def test_columns_of_different_lengths_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="same length"):
        evaluate(parse("a > b"), _columns(a=[1, 2], b=[1]))


# ------------------------------------------------------------------ causality (future invariance)

_NAMESPACE = Namespace({"a": ("value",), "b": ("value",)})
_ATOMS = st.sampled_from(["a", "b", "close", "1", "2.5", "a[1]", "b[3]", "(a - b)"])


def _number_expr() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        windowed = st.sampled_from(["highest", "lowest", "change"])
        return st.one_of(
            st.tuples(inner, st.sampled_from("+-*/"), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(windowed, inner, st.integers(1, 6)).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
            inner.map(lambda x: f"abs({x})"),
            st.tuples(inner, st.integers(0, 4)).map(lambda t: f"({t[0]} + a)[{t[1]}]"),
        )

    return st.recursive(_ATOMS, extend, max_leaves=6)


def _condition() -> st.SearchStrategy[str]:
    number = _number_expr()
    compare = st.tuples(number, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), number).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    )
    calls = st.one_of(
        st.tuples(st.sampled_from(["crosses_above", "crosses_below"]), number, number).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(st.sampled_from(["rising", "falling"]), number, st.integers(1, 4)).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(number, number, number).map(lambda t: f"between({t[0]}, {t[1]}, {t[2]})"),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda x: f"not ({x})"),
            st.tuples(inner, st.integers(0, 3)).map(lambda t: f"({t[0]})[{t[1]}]"),
        )

    return st.recursive(st.one_of(compare, calls), extend, max_leaves=4)


_VALUES = st.one_of(st.floats(-10, 10), st.just(NAN), st.sampled_from([0.0, 1.0, 2.0]))


@st.composite
def _case(draw: st.DrawFn) -> tuple[Expr, dict[str, NDArray[np.float64]], int]:
    length = draw(st.integers(1, 30))
    columns = {
        name: np.array(draw(st.lists(_VALUES, min_size=length, max_size=length)))
        for name in ("a", "b", "close")
    }
    expr = compile_rule(draw(_condition()), _NAMESPACE).expr
    return expr, columns, draw(st.integers(0, length))


@settings(max_examples=200, deadline=None)
@given(_case())
def test_cutting_the_columns_at_t_changes_nothing_before_t(
    case: tuple[Expr, dict[str, NDArray[np.float64]], int],
) -> None:
    expr, columns, cut = case
    whole = evaluate(expr, columns)
    head = evaluate(expr, {name: column[:cut] for name, column in columns.items()})
    assert np.array_equal(whole[:cut], head, equal_nan=True)


@settings(max_examples=100, deadline=None)
@given(_case())
def test_a_tail_of_lookback_plus_one_rows_gives_the_last_value(
    case: tuple[Expr, dict[str, NDArray[np.float64]], int],
) -> None:
    """The streaming path: evaluate only a short tail and read its last row."""
    expr, columns, _ = case
    text = str(expr)
    lookback = compile_rule(text, _NAMESPACE).lookback
    tail = {name: column[-(lookback + 1) :] for name, column in columns.items()}
    assert evaluate(expr, tail)[-1] == evaluate(expr, columns)[-1]


@settings(max_examples=300, deadline=None)
@given(_case())
def test_the_last_row_alone_is_what_the_columns_give_on_every_row(
    case: tuple[Expr, dict[str, NDArray[np.float64]], int],
) -> None:
    """The streaming path's evaluator (:class:`LastRow`) against the batch one, row by row."""
    expr, columns, _cut = case
    names = list(columns)
    rows = np.column_stack([columns[name] for name in names])
    expected = evaluate(expr, columns)
    last = LastRow({"long.entry": expr, "long.exit": None}, names)
    for end in range(1, len(rows) + 1):
        got = last.signals(rows[:end])
        assert got == {"long.entry": bool(expected[end - 1]), "long.exit": False}, end
