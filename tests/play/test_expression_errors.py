"""A broken rule is refused with the rule's name, the column, a caret and what to write instead."""

from __future__ import annotations

import pytest

from tradeplay.play.checker import Namespace, compile_rule
from tradeplay.play.errors import ExpressionError, PlayError
from tradeplay.play.parser import MAX_LENGTH, parse

NAMESPACE = Namespace(
    {
        "fast": ("value",),
        "slow": ("value",),
        "bb": ("upper", "middle", "lower"),
        "rsi": ("value",),
    }
)


def _error(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_rule(text, NAMESPACE, "long.entry")
    return caught.value


SYNTAX = [
    (
        "crosses_above(fast, slow",
        "long.entry, column 25: expected ')' after the arguments of crosses_above\n"
        "  crosses_above(fast, slow\n"
        "                          ^",
    ),
    (
        "crosses_above(fast slow)",
        "long.entry, column 20: expected ',' or ')' after argument 1 of crosses_above, "
        "got 'slow'\n"
        "  crosses_above(fast slow)\n"
        "                     ^",
    ),
    (
        "(fast > slow",
        "long.entry, column 13: expected ')' to close the '(' at column 1, got the end of the "
        "rule\n"
        "  (fast > slow\n"
        "              ^",
    ),
    ("fast >", "long.entry, column 7: expected a value after '>'\n  fast >\n        ^"),
    (
        "fast > > slow",
        "long.entry, column 8: expected a value, got '>'\n  fast > > slow\n         ^",
    ),
    ("fast > slow)", "long.entry, column 12: unmatched ')'\n  fast > slow)\n             ^"),
    (
        "fast slow",
        "long.entry, column 6: expected an operator (and, or, >, +, …) before 'slow'\n"
        "  fast slow\n"
        "       ^",
    ),
    (
        "a < b < c",
        "long.entry, column 7: comparisons do not chain; write 'a < b and b < c', or "
        "between(x, low, high)\n"
        "  a < b < c\n"
        "        ^",
    ),
    ("", "long.entry, column 1: the rule is empty\n  \n  ^"),
]


@pytest.mark.parametrize(("text", "message"), SYNTAX)
def test_a_syntax_error_names_the_rule_the_column_and_points_at_it(text: str, message: str) -> None:
    assert str(_error(text)) == message


HABITS = [
    ("fast && slow > 1", 6, "'&&' is not an operator here; write 'and'"),
    ("fast > 1 || slow > 1", 10, "'||' is not an operator here; write 'or'"),
    ("!(fast > slow)", 1, "'!' is not an operator here; write 'not'"),
    ("fast = slow", 6, "'=' does not compare; write '==' (or '<=', '>=')"),
    ("fast <> slow", 6, "'<>' is not an operator here; write '!='"),
    ("fast => slow", 6, "'=>' is not an operator here; write '>='"),
    ("fast =< slow", 6, "'=<' is not an operator here; write '<='"),
    ("close ^ 2 > 1", 7, "there is no power operator; multiply instead, e.g. x * x"),
    ("close ** 2 > 1", 7, "there is no power operator; multiply instead, e.g. x * x"),
    (
        "close > open * 2%",
        17,
        "'%' is not an operator; write percentages as factors, e.g. close > open * 1.02",
    ),
    ("'close' > 1", 1, "quotes are not part of the rule language; write names and numbers bare"),
    ("fast > slow AND rsi < 30", 13, "write 'and' in lower case"),
    ("close € 1", 7, "unexpected character '€'"),
    ("12abc > 1", 1, "'12abc' is not a number or a name"),
    ("bb. > 1", 3, "expected a name after '.'"),
    ("close > 1e999", 9, "the number 1e999 is too large"),
    ("fast > slow, 2", 12, "',' outside the arguments of a function"),
    ("fast > slow and", 16, "expected a value after 'and'"),
    ("and fast > 1", 1, "expected a value before 'and'"),
]


@pytest.mark.parametrize(("text", "column", "detail"), HABITS)
def test_habits_from_other_languages_get_advice(text: str, column: int, detail: str) -> None:
    error = _error(text)
    assert (error.column, error.detail) == (column, detail)


LOOKBACKS = [
    ("close[1.5] > 1", 7, "expected a whole number of bars ≥ 0 in '[…]', e.g. close[1]"),
    ("close[x] > 1", 7, "expected a whole number of bars ≥ 0 in '[…]', e.g. close[1]"),
    ("close[-1] > 1", 7, "expected a whole number of bars ≥ 0 in '[…]', e.g. close[1]"),
    ("close[1 > 2", 9, "expected ']' after the lookback, got '>'"),
    ("5[1] > 2", 2, "a number has no history to look back into"),
    ("close[100001] > 1", 7, "looks back 100001 bars; the limit is 100000"),
]


@pytest.mark.parametrize(("text", "column", "detail"), LOOKBACKS)
def test_a_lookback_is_a_whole_number_literal_on_a_series(
    text: str, column: int, detail: str
) -> None:
    error = _error(text)
    assert (error.column, error.detail) == (column, detail)


NAMES = [
    (
        "fats > slow",
        1,
        "unknown name 'fats' (did you mean 'fast'?); known: open, high, low, close, volume, "
        "fast, slow, bb.upper, bb.middle, bb.lower, rsi",
    ),
    ("bb > 1", 1, "feature 'bb' has several outputs; name one: bb.upper, bb.middle, bb.lower"),
    (
        "close > bb.uper",
        9,
        "feature 'bb' has no output 'uper' (did you mean 'upper'?); its outputs: bb.upper, "
        "bb.middle, bb.lower",
    ),
    ("close.x > 1", 1, "'close' is a bar field with no parts; write close"),
    ("highest > 1", 1, "'highest' is a function; call it: highest(x, n)"),
    ("fast(1) > 2", 1, "'fast' is a column, not a function"),
    (
        "crosses_abve(fast, slow)",
        1,
        "unknown function 'crosses_abve' (did you mean 'crosses_above'?); functions: "
        "crosses_above(a, b), crosses_below(a, b), highest(x, n), lowest(x, n), "
        "between(x, low, high), abs(x), min(a, b), max(a, b), change(x, n), rising(x, n), "
        "falling(x, n)",
    ),
]


@pytest.mark.parametrize(("text", "column", "detail"), NAMES)
def test_an_unknown_name_suggests_the_closest_valid_one(
    text: str, column: int, detail: str
) -> None:
    error = _error(text)
    assert (error.column, error.detail) == (column, detail)


ARITY_AND_WINDOWS = [
    ("crosses_above(fast)", 1, "crosses_above takes 2 arguments (crosses_above(a, b)), got 1"),
    ("between(rsi, 1)", 1, "between takes 3 arguments (between(x, low, high)), got 2"),
    ("abs(fast, slow) > 1", 1, "abs takes 1 argument (abs(x)), got 2"),
    (
        "highest(close, 20.5) > 1",
        16,
        "the window n of highest(x, n) must be a whole number from 1 to 100000 written as a "
        "literal, e.g. highest(close, 20); got 20.5",
    ),
    (
        "rising(close, fast)",
        15,
        "the window n of rising(x, n) must be a whole number from 1 to 100000 written as a "
        "literal, e.g. rising(close, 20); got fast",
    ),
    (
        "change(close, 0) > 1",
        15,
        "the window n of change(x, n) must be a whole number from 1 to 100000 written as a "
        "literal, e.g. change(close, 20); got 0",
    ),
]


@pytest.mark.parametrize(("text", "column", "detail"), ARITY_AND_WINDOWS)
def test_functions_check_their_arguments(text: str, column: int, detail: str) -> None:
    error = _error(text)
    assert (error.column, error.detail) == (column, detail)


TYPES = [
    (
        "close",
        1,
        "the rule must be a condition (true or false on each bar), got a number: close; "
        "compare it, e.g. close > open",
    ),
    (
        "close + (fast > slow) > 1",
        10,
        "expected a number on the right of '+', got a condition: (fast > slow)",
    ),
    ("close > 1 and fast", 15, "expected a condition on the right of 'and', got a number: fast"),
    ("rsi or close > 1", 1, "expected a condition on the left of 'or', got a number: rsi"),
    ("not close", 5, "expected a condition after 'not', got a number: close"),
    ("-(fast > slow) < 1", 3, "expected a number after '-', got a condition: (fast > slow)"),
    (
        "crosses_above(fast > slow, slow)",
        15,
        "expected a number as argument 1 of crosses_above, got a condition: (fast > slow)",
    ),
    (
        "highest(fast > slow, 3) > 1",
        9,
        "expected a number as argument 1 of highest, got a condition: (fast > slow)",
    ),
    (
        "(fast > slow) == (rsi > 50)",
        2,
        "expected a number on the left of '==', got a condition: (fast > slow)",
    ),
]


@pytest.mark.parametrize(("text", "column", "detail"), TYPES)
def test_conditions_and_numbers_are_not_mixed_up(text: str, column: int, detail: str) -> None:
    error = _error(text)
    assert (error.column, error.detail) == (column, detail)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 40 + "close" + ")" * 40 + " > 1",
        "not " * 40 + "close > 1",
        "-" * 40 + "close > 1",
        "abs(" * 40 + "close" + ")" * 40 + " > 1",
    ],
)
def test_deep_nesting_is_refused_with_a_message(text: str) -> None:
    assert "nested too deeply" in _error(text).detail


def test_a_very_long_chain_is_refused_before_it_can_exhaust_the_stack() -> None:
    text = " and ".join(["close > 1"] * 100)
    assert _error(text).detail == "the rule is more than 64 levels deep; split it with features"


def test_a_rule_longer_than_the_limit_is_refused() -> None:
    error = _error("close > 1" + " " * MAX_LENGTH)
    assert error.detail == f"the rule is {MAX_LENGTH + 9} characters long; the limit is 2000"


def test_a_long_rule_is_shown_around_the_error() -> None:
    text = "close > 1 and " * 10 + "fats > 1"
    lines = str(_error(text)).splitlines()
    assert lines[1].startswith("  …")
    assert lines[2].index("^") == lines[1].index("fats")


def test_expression_errors_are_input_errors() -> None:
    with pytest.raises(PlayError):
        parse("(")
