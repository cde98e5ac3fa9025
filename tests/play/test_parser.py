"""The rule language parses into the tree a trader expects: precedence, look-back, functions."""

from __future__ import annotations

import pytest

from tradeplay.play.nodes import (
    Arith,
    Call,
    Compare,
    Logic,
    Lookback,
    Name,
    Neg,
    Not,
    Number,
    depth,
    names,
)
from tradeplay.play.parser import parse

CANONICAL = [
    # atoms
    ("close", "close"),
    ("12", "12"),
    ("1.5", "1.5"),
    (".5", "0.5"),
    ("2e3", "2000"),
    ("1.5e-3", "0.0015"),
    ("bb.upper", "bb.upper"),
    ("ob.bull.top", "ob.bull.top"),
    ("_private", "_private"),
    # arithmetic: * and / before + and -, all left-associative
    ("a + b * c", "(a + (b * c))"),
    ("a * b + c", "((a * b) + c)"),
    ("a - b - c", "((a - b) - c)"),
    ("a / b / c", "((a / b) / c)"),
    ("a - b + c", "((a - b) + c)"),
    ("(a + b) * c", "((a + b) * c)"),
    ("((a))", "a"),
    # unary minus binds tighter than * and folds into number literals
    ("-a * b", "((-a) * b)"),
    ("-2 * a", "(-2 * a)"),
    ("- -a", "(-(-a))"),
    ("a - -1", "(a - -1)"),
    ("-a[1]", "(-a[1])"),
    # comparisons bind looser than arithmetic
    ("a + 1 > b * 2", "((a + 1) > (b * 2))"),
    ("a <= b", "(a <= b)"),
    ("a >= b", "(a >= b)"),
    ("a == b", "(a == b)"),
    ("a != b", "(a != b)"),
    ("a < b", "(a < b)"),
    # not < and < or
    ("a > b and c > d or e > f", "(((a > b) and (c > d)) or (e > f))"),
    ("a > b or c > d and e > f", "((a > b) or ((c > d) and (e > f)))"),
    ("not a > b", "(not (a > b))"),
    ("not a > b and c > d", "((not (a > b)) and (c > d))"),
    ("not not a > b", "(not (not (a > b)))"),
    ("a > b and c > d and e > f", "(((a > b) and (c > d)) and (e > f))"),
    # look-back
    ("close[1]", "close[1]"),
    ("close[0]", "close[0]"),
    ("bb.upper[12]", "bb.upper[12]"),
    ("(high + low)[2]", "(high + low)[2]"),
    ("close[1][2]", "close[1][2]"),
    ("highest(high, 20)[1]", "highest(high, 20)[1]"),
    ("(a > b)[1]", "(a > b)[1]"),
    # functions
    ("crosses_above(fast, slow)", "crosses_above(fast, slow)"),
    ("crosses_below(fast[1], slow * 2)", "crosses_below(fast[1], (slow * 2))"),
    ("between(rsi, 30, 70)", "between(rsi, 30, 70)"),
    ("abs(close - open) > 2 * atr", "(abs((close - open)) > (2 * atr))"),
    ("max(min(a, b), c)", "max(min(a, b), c)"),
    ("f()", "f()"),
    # whitespace and newlines do not matter
    ("  a\n>\tb ", "(a > b)"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_a_valid_rule_parses_to_its_canonical_form(text: str, canonical: str) -> None:
    assert str(parse(text)) == canonical


def test_the_tree_has_the_expected_nodes() -> None:
    tree = parse("crosses_above(fast, slow) and not close[1] < -2 * atr")
    assert tree == Logic(
        "and",
        Call("crosses_above", (Name("fast"), Name("slow"))),
        Not(Compare("<", Lookback(Name("close"), 1), Arith("*", Number(-2.0), Name("atr")))),
    )


def test_nodes_remember_where_they_start_in_the_text() -> None:
    tree = parse("fast > slow[2]")
    assert isinstance(tree, Compare)
    assert (tree.at, tree.left.at, tree.right.at) == (5, 0, 11)


def test_positions_do_not_take_part_in_equality() -> None:
    assert parse("a>b") == parse("  a  >  b")


def test_negating_an_expression_is_a_node_and_negating_a_literal_is_a_number() -> None:
    assert parse("-close") == Neg(Name("close"))
    assert parse("-3") == Number(-3.0)


def test_names_lists_each_column_once_in_order_of_appearance() -> None:
    assert names(parse("a > b and crosses_above(b, c[1]) or a < 2")) == ("a", "b", "c")


def test_depth_counts_levels_without_recursion() -> None:
    assert depth(parse("a")) == 1
    assert depth(parse("a > b")) == 2
    assert depth(parse("a > b and c > d")) == 3
