"""A valid play compiles to features, checked rules, columns and a warm-up the engine can use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.play.builders import BASE, EXAMPLES, compiled, play_text
from tradeplay.domain.timeframe import Timeframe
from tradeplay.features import REGISTRY
from tradeplay.play import (
    ColumnRef,
    CompiledPlay,
    check_play,
    compile_play,
    load_play,
    show_play,
    signals,
)
from tradeplay.play.runner import PlaySignals
from tradeplay.play.schema import Environment

H1 = Timeframe.parse("1h")


def test_every_example_play_is_there() -> None:
    assert [path.name for path in EXAMPLES] == [
        "breakout_atr.yaml",
        "ema_cross.yaml",
        "multi_timeframe.yaml",
        "rsi_mean_reversion.yaml",
        "smc_structure.yaml",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_play_compiles_and_checks(path: Path) -> None:
    play = load_play(path)
    report = check_play(path)
    assert report.name == play.name
    assert report.rules.keys() == play.rules.keys()
    assert play.rules
    assert play.features
    assert play.warmup_bars >= play.feature_warmup_bars


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_play_uses_only_registered_feature_kinds(path: Path) -> None:
    assert all(ref.kind in REGISTRY for ref in load_play(path).features)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_play_has_a_readable_summary(path: Path) -> None:
    summary = show_play(path)
    play = load_play(path)
    assert summary.splitlines()[0] == f"play           {play.name}"
    assert all(key in summary for key in play.rules)
    assert "warm-up" in summary


def test_the_ema_cross_compiles_to_what_the_engine_needs() -> None:
    play = load_play(EXAMPLES[1])
    assert [(ref.name, ref.kind, ref.timeframe) for ref in play.features] == [
        ("fast", "ema", H1),
        ("slow", "ema", H1),
        ("atr14", "atr", H1),
    ]
    assert play.features[1].params == {"period": 26, "source": "close"}
    assert play.features[1].warmup == 25  # TA-Lib's EMA: the first value at bar `period`
    assert play.columns == {
        "fast": ColumnRef("fast", "value"),
        "slow": ColumnRef("slow", "value"),
        "atr14": ColumnRef("atr14", "value"),
    }
    assert {key: str(expr) for key, expr in play.rules.items()} == {
        "long.entry": "crosses_above(fast, slow)",
        "long.exit": "crosses_below(fast, slow)",
        "short.entry": "crosses_below(fast, slow)",
        "short.exit": "crosses_above(fast, slow)",
    }
    assert play.levels == {"stop_loss.atr": "atr14"}
    assert (play.max_lookback, play.warmup_bars) == (1, 26)
    assert play.play.environments == (
        Environment.BACKTEST,
        Environment.SHADOW,
        Environment.PAPER,
    )


def test_defaults_are_filled_in() -> None:
    play = compiled().play
    assert play.sizing.method == "percent_equity"
    assert (play.stop_loss.method, play.take_profit.method, play.trailing_stop.method) == (
        "none",
        "none",
        "none",
    )
    assert str(play.account.capital) == "10000"
    assert play.account.margin_mode == "isolated"
    assert play.environments == (Environment.BACKTEST,)
    assert play.timeframes == ()


def test_the_name_defaults_to_the_file_name() -> None:
    text = play_text().replace("name: base\n", "")
    assert compile_play(text, "plays/my_play.yaml").name == "my_play"


def test_a_feature_with_one_output_is_one_column_whatever_the_spelling() -> None:
    play = compiled(long={"entry": "fast.value > slow", "exit": "fast < slow.value"})
    assert str(play.rules["long.entry"]) == "(fast > slow)"
    assert str(play.rules["long.exit"]) == "(fast < slow)"


def test_bar_fields_are_columns_without_a_feature() -> None:
    play = compiled(long={"entry": "close > open", "exit": "close < fast"})
    assert play.columns["close"] == ColumnRef(None, "close")
    assert play.columns["open"] == ColumnRef(None, "open")


def test_outputs_of_a_multi_output_feature_are_qualified() -> None:
    play = compiled(
        features={"bb": {"kind": "bbands", "period": 20}},
        long={"entry": "close < bb.lower", "exit": "close > bb.middle"},
    )
    assert play.columns["bb.lower"] == ColumnRef("bb", "lower")


def test_a_list_of_rules_must_all_hold_and_the_deepest_lookback_counts() -> None:
    play = compiled(
        long={"entry": ["fast > slow", "close > highest(high, 20)[1]"], "exit": "close < slow"}
    )
    assert str(play.rules["long.entry"]) == "((fast > slow) and (close > highest(high, 20)[1]))"
    assert play.rule_lookbacks == {"long.entry": 20, "long.exit": 0}
    assert play.warmup_bars == 25 + 20


def test_higher_timeframe_warm_up_is_counted_in_trading_bars() -> None:
    play = compiled(
        timeframe="15m",
        timeframes=["4h"],
        features={"trend": {"kind": "ema", "period": 10, "timeframe": "4h"}},
        long={"entry": "close > trend", "exit": "close < trend"},
    )
    # 9 bars of 4h warm-up, one more to close, one more if history starts mid-bar: 16 × 11 − 2
    assert play.features[0].warmup_bars(Timeframe.parse("15m")) == 174
    assert play.warmup_bars == 174


def test_an_atr_distance_with_a_period_adds_its_own_atr_feature_once() -> None:
    play = compiled(
        stop_loss={"method": "atr", "multiple": 2},
        trailing_stop={"method": "atr", "multiple": 3, "period": 14},
    )
    added = [ref for ref in play.features if ref.name.startswith("_")]
    assert [(ref.name, ref.kind, dict(ref.params)) for ref in added] == [
        ("_atr14", "atr", {"period": 14})
    ]
    assert play.levels == {"stop_loss.atr": "_atr14", "trailing_stop.atr": "_atr14"}


def test_an_atr_distance_reuses_a_play_feature_with_the_same_parameters() -> None:
    features = {**BASE["features"], "vol": {"kind": "atr", "period": 14}}
    play = compiled(features=features, stop_loss={"method": "atr", "multiple": 2})
    assert play.levels == {"stop_loss.atr": "vol"}
    assert [ref.name for ref in play.features] == ["fast", "slow", "vol"]


def test_a_structure_stop_reads_feature_outputs() -> None:
    play = compiled(
        features={**BASE["features"], "swing": {"kind": "swing"}},
        short={"entry": "crosses_below(fast, slow)"},
        stop_loss={"method": "structure", "below": "swing.last_low", "above": "swing.last_high"},
    )
    assert play.levels == {
        "stop_loss.below": "swing.last_low",
        "stop_loss.above": "swing.last_high",
    }
    assert play.columns["swing.last_low"] == ColumnRef("swing", "last_low")


def test_max_holding_as_a_duration_is_counted_in_trading_bars() -> None:
    assert compiled(max_holding="3d").max_holding_bars == 72
    assert compiled(max_holding=10).max_holding_bars == 10


def test_a_compiled_play_is_frozen() -> None:
    play = compiled()
    with pytest.raises(AttributeError):
        play.warmup_bars = 3  # type: ignore[misc]


def test_signals_from_computed_features_for_all_four_rules() -> None:
    play = compiled(
        short={"entry": "crosses_below(fast, slow)", "exit": "crosses_above(fast, slow)"}
    )
    bars = _ramp_bars()
    result = signals(play, PlaySignals(play).frame.batch(bars))
    assert set(result) == {"long.entry", "long.exit", "short.entry", "short.exit"}
    assert all(values.dtype == np.bool_ and len(values) == len(bars) for values in result.values())
    # a down-then-up ramp: the fast EMA crosses the slow one upwards exactly once, after warm-up
    assert result["long.entry"].sum() == 1
    assert np.flatnonzero(result["long.entry"])[0] >= play.warmup_bars
    assert not result["short.entry"][play.warmup_bars :].any()


def test_signals_of_a_rule_not_written_are_all_false() -> None:
    play: CompiledPlay = compiled()
    columns = {"fast": np.array([1.0, 2.0]), "slow": np.array([2.0, 1.0])}
    result = signals(play, columns)
    assert result["short.entry"].tolist() == [False, False]
    assert result["long.entry"].tolist() == [False, True]


def _ramp_bars() -> np.ndarray:
    close = np.concatenate([np.linspace(200, 100, 60), np.linspace(100, 200, 60)])
    bars = np.empty((len(close), 6))
    bars[:, 0] = np.arange(len(close)) * 3_600_000
    bars[:, 1] = close
    bars[:, 2] = close + 1
    bars[:, 3] = close - 1
    bars[:, 4] = close
    bars[:, 5] = 1000.0
    return bars
