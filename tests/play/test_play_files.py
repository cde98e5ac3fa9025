"""A file that is not a valid play — bad YAML, unreadable, a broken example — says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.play.builders import EXAMPLES
from tradeplay.domain.errors import InputError
from tradeplay.play import PlayFileError, compile_play, load_play

# ------------------------------------------------------------------------------------- YAML


def _message(text: str, source: str = "plays/x.yaml") -> str:
    with pytest.raises(PlayFileError) as caught:
        compile_play(text, source)
    return str(caught.value)


def test_a_yaml_syntax_error_names_file_line_and_column() -> None:
    text = "schema_version: 1\nsymbol: BTCUSDT\ntimeframe: 1h\nlong:\n  entry: close > open: 2\n"
    assert _message(text) == (
        "plays/x.yaml, line 5, column 22: YAML: mapping values are not allowed here; text "
        "containing ': ' (a rule, say) must be quoted"
    )


def test_a_tab_in_the_indentation_is_explained() -> None:
    assert _message("schema_version: 1\n\ttimeframe: 1h\n").endswith(
        "; indent with spaces, not tabs"
    )
    assert _message("schema_version: 1\n\ttimeframe: 1h\n").startswith(
        "plays/x.yaml, line 2, column 1: YAML: found character '\\t'"
    )


def test_an_unclosed_bracket_points_at_where_parsing_stopped() -> None:
    text = "schema_version: 1\nfeatures: {fast: {kind: ema}\ntimeframe: 1h\n"
    assert _message(text) == (
        "plays/x.yaml, line 3, column 1: YAML: expected ',' or '}', but got '<scalar>' "
        "(while parsing a flow mapping)"
    )


def test_a_control_character_is_refused_with_its_position() -> None:
    assert _message("schema_version: 1\nname: \x07\n") == (
        "plays/x.yaml, line 2, column 7: the character U+0007 is not allowed in a play file"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "plays/x.yaml: the file is empty; a play starts with 'schema_version: 1'"),
        (
            "- a\n- b\n",
            "plays/x.yaml, line 1: a play is a mapping of fields ('name: value' lines), got a list",
        ),
        (
            "schema_version: 1\nsymbol: BTCUSDT\nsymbol: ETHUSDT\n",
            "plays/x.yaml, line 3: symbol: written twice (first at line 2)",
        ),
        (
            "schema_version: 1\nname: !!python/object:os.system x\n",
            "plays/x.yaml, line 2: name: the YAML tag tag:yaml.org,2002:python/object:os.system "
            "is not supported in a play",
        ),
        (
            "schema_version: 1\non: x\n",
            "plays/x.yaml, line 2: field names must be text, got True; quote it",
        ),
        (
            "schema_version: 1\n[1, 2]: x\n",
            "plays/x.yaml, line 2: field names must be text, got a list or mapping",
        ),
        (
            "schema_version: 1\nbase: &b {x: 1}\nother:\n  <<: *b\n",
            "plays/x.yaml, line 4: other: merge keys (<<) are not supported; write the fields",
        ),
        ("[" * 5000, "plays/x.yaml: the YAML is nested too deeply to be a play"),
        (
            "name: x\n",
            "plays/x.yaml, line 1: schema_version: required field is missing; write "
            "'schema_version: 1' first",
        ),
        (
            "schema_version: 2\n",
            "plays/x.yaml, line 1: schema_version: this tradeplay reads schema version 1, the "
            "file says 2",
        ),
    ],
)
def test_a_file_that_is_not_a_play_says_why(text: str, message: str) -> None:
    assert _message(text) == message


def test_an_alias_that_contains_itself_is_refused() -> None:
    assert "nested more than 16 levels deep" in _message("schema_version: 1\na: &x [1, *x]\n")


def test_a_date_stays_text() -> None:
    text = "schema_version: 1\nname: 2024-01-01\nsymbol: BTCUSDT\ntimeframe: 1h\n"
    text += "long: {entry: close > open, exit: close < open}\n"
    assert compile_play(text, "x.yaml").name == "2024-01-01"


# ------------------------------------------------------------------------------ files


def test_a_missing_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InputError, match=f"^{missing}: cannot read the play: No such file"):
        load_play(missing)


def test_a_folder_is_not_a_play(tmp_path: Path) -> None:
    with pytest.raises(PlayFileError, match="cannot read the play"):
        load_play(tmp_path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(PlayFileError, match="not UTF-8 text"):
        load_play(path)


# ------------------------------------------------------------ hand-broken example plays

BROKEN = [
    (
        "ema_cross.yaml",
        "crosses_above(fast, slow)\n  exit",
        "crosses_above(fast, slow\n  exit",
        "ema_cross.yaml, line 17: long.entry, column 25: expected ')' after the arguments of "
        "crosses_above",
    ),
    (
        "ema_cross.yaml",
        "atr14: {kind: atr, period: 14}",
        "atr14: {kind: atr, period: fourteen}",
        "ema_cross.yaml, line 14: features.atr14.period: expected a whole number ≥ 1, got "
        "'fourteen'",
    ),
    (
        "rsi_mean_reversion.yaml",
        "close < bb.lower",
        "close < bb.low",
        "rsi_mean_reversion.yaml, line 16: long.entry, column 22: feature 'bb' has no output "
        "'low' (did you mean 'lower'?)",
    ),
    (
        "breakout_atr.yaml",
        "{method: atr, multiple: 2, atr: atr20}",
        "{method: atr, multiple: 2, atr: atr_20}",
        "breakout_atr.yaml, line 23: stop_loss.atr: no feature named 'atr_20' (did you mean "
        "'atr20'?); atr features: atr20",
    ),
    (
        "multi_timeframe.yaml",
        "timeframes: [1h, 4h]",
        "timeframes: [1h]",
        "multi_timeframe.yaml, line 11: features.trend_ema.timeframe: 4h is not loaded by this "
        "play; add it: timeframes: [1h, 4h]",
    ),
    (
        "smc_structure.yaml",
        "below: swing.last_low",
        "below: swing.low",
        "smc_structure.yaml, line 34: stop_loss.below: feature 'swing' has no output 'low'",
    ),
    (
        "smc_structure.yaml",
        "sizing: {method: risk_percent, percent: 1}",
        "sizing: {method: risk_percent, percent: 1}\nsizing: {method: kelly}",
        "smc_structure.yaml, line 34: sizing: written twice (first at line 33)",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), BROKEN)
def test_a_hand_broken_example_play_says_what_is_wrong(
    name: str, old: str, new: str, message: str
) -> None:
    original = next(path for path in EXAMPLES if path.name == name).read_text(encoding="utf-8")
    assert old in original
    with pytest.raises(PlayFileError) as caught:
        compile_play(original.replace(old, new, 1), name)
    assert str(caught.value).startswith(message)


README = EXAMPLES[0].parent / "README.md"


def _fields(model: type[Any]) -> set[str]:
    return set(model.model_fields)


def test_the_reference_documents_every_field_and_method() -> None:
    from tradeplay.play import risk, schema

    text = README.read_text(encoding="utf-8")
    models = [schema.Play, schema.Account, schema.SideRules, schema.FeatureDecl]
    models += [
        model
        for model in vars(risk).values()
        if isinstance(model, type) and issubclass(model, risk.Section) and model is not risk.Section
    ]
    undocumented = sorted(
        name for model in models for name in _fields(model) - {"params"} if f"`{name}`" not in text
    )
    assert undocumented == []
    methods = [method for section in risk.METHODS.values() for method in section]
    assert [method for method in methods if f"`{method}`" not in text] == []
