"""Whatever the text of a play, compiling it gives a play or a PlayError — never anything else.

No pydantic ValidationError, YAML error, KeyError, RecursionError … may escape: a trader sees
a message, not a traceback.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.play.builders import BASE, EXAMPLES, play_text
from tradeplay.play import CompiledPlay, PlayError, compile_play

EXAMPLE_TEXTS = [path.read_text(encoding="utf-8") for path in EXAMPLES]
FUZZ = settings(
    # a deeper run: TRADEPLAY_FUZZ_EXAMPLES=5000 pytest tests/play/test_fuzz.py
    max_examples=int(os.environ.get("TRADEPLAY_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _compile(text: str) -> CompiledPlay | None:
    try:
        return compile_play(text, "fuzz.yaml")
    except PlayError as error:
        message = str(error)
    assert message.startswith("fuzz.yaml")  # every message names the file
    return None


@FUZZ
@given(st.text(max_size=300))
def test_random_text_gives_a_play_or_a_play_error(text: str) -> None:
    _compile(text)


_YAML_CHARS = st.sampled_from(list(":{}[],-#&*!|>'\"%@?\t\n ~.0123456789abcxyz_()<=+/"))


@st.composite
def _mutated_example(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(EXAMPLE_TEXTS))
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "insert"]))
        span = draw(st.integers(1, 12))
        if action == "delete":
            text = text[:at] + text[at + span :]
        elif action == "duplicate":
            text = text[: at + span] + text[at : at + span] + text[at + span :]
        elif action == "replace":
            text = text[:at] + draw(_YAML_CHARS) + text[at + 1 :]
        else:
            text = text[:at] + draw(st.text(_YAML_CHARS, max_size=8)) + text[at:]
    return text


@FUZZ
@given(_mutated_example())
def test_mutated_example_plays_give_a_play_or_a_play_error(text: str) -> None:
    _compile(text)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["none", "1h", "4h", "15m", "3d", "ema", "atr", "BTCUSDT", "close > open"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


@st.composite
def _example_with_a_random_value(draw: st.DrawFn) -> str:
    data = yaml.safe_load(draw(st.sampled_from(EXAMPLE_TEXTS)))
    path = draw(st.sampled_from(_paths(data)))
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = draw(_VALUES)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@FUZZ
@given(_example_with_a_random_value())
def test_random_values_in_any_field_give_a_play_or_a_play_error(text: str) -> None:
    _compile(text)


_TOKENS = st.sampled_from(
    [
        "fast", "slow", "close", "open", "bb.upper", "x.y.z", "rsi", "1", "2.5", "-", "+", "*",
        "/", "(", ")", "[", "]", "[1]", ",", "<", "<=", ">", ">=", "==", "!=", "and", "or",
        "not", "crosses_above(", "highest(", "between(", "abs(", "change(", "=", "&&", "!",
        "'", "%", "1e999", ".", "_", "é", "\t", "\n",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(_TOKENS, max_size=30).map(" ".join))
def test_random_rules_give_a_play_or_a_play_error(rule: str) -> None:
    _compile(play_text(long={"entry": rule, "exit": "fast < slow"}))


@FUZZ
@given(st.text(max_size=60))
def test_random_characters_in_a_rule_give_a_play_or_a_play_error(rule: str) -> None:
    _compile(play_text(long={"entry": rule, "exit": "fast < slow"}))


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000,
        "{a: " * 2_000 + "1" + "}" * 2_000,
        "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(300)),
        "- " * 3_000 + "x",
        "a: &a [*a, *a]\nb: *a\n",
        "a: &x [1]\n" + "".join(f"b{i}: &x{i} [*x, *x, *x]\n" for i in range(30)),
    ],
    ids=["brackets", "flow-maps", "indented", "dashes", "self-alias", "alias-bomb"],
)
def test_deep_or_huge_yaml_is_refused_with_a_play_error(text: str) -> None:
    with pytest.raises(PlayError):
        compile_play(text, "deep.yaml")


@pytest.mark.parametrize(
    "rule",
    ["(" * 10_000 + "close", "not " * 5_000 + "close", "-" * 10_000 + "close > 1"],
)
def test_deeply_nested_rules_are_refused_with_a_play_error(rule: str) -> None:
    with pytest.raises(PlayError, match=r"nested too deeply|characters long"):
        compile_play(play_text(long={"entry": rule, "exit": "fast < slow"}), "deep.yaml")


def test_the_base_play_of_the_fuzzers_is_valid() -> None:
    assert _compile(play_text()) is not None
    assert BASE["schema_version"] == 1
