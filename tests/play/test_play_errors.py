"""A wrong play is refused with file, line, field path and what was expected — all at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.play.builders import BASE, DELETE, problems, problems_with

# ----------------------------------------------------------------------------------- schema

BASE_FEATURES = BASE["features"]
SCHEMA = [
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "period": "x"}}},
        "line 8: features.fast.period: expected a whole number ≥ 1, got 'x'",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "period": 0}}},
        "line 8: features.fast.period: expected a whole number ≥ 1, got 0",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "period": 1.5}}},
        "line 8: features.fast.period: expected a whole number ≥ 1, got 1.5",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "period": True}}},
        "line 8: features.fast.period: expected a whole number ≥ 1, got True",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "period": 10**6}}},
        "line 8: features.fast.period: expected a whole number ≤ 100000, got 1000000",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "source": "clse"}}},
        "line 8: features.fast.source: expected one of open, high, low, close, volume, hl2, "
        "hlc3, ohlc4, got 'clse' (did you mean 'close'?)",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "perod": 3}}},
        "line 8: features.fast.perod: feature kind 'ema' has no parameter 'perod' (did you "
        "mean 'period'?); it takes period, source",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "params": {"period": 3}}}},
        "line 8: features.fast.params: feature kind 'ema' has no parameter 'params'; it takes "
        "period, source; write parameters inline, e.g. fast: {kind: ema, period: 12}",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"period": 3}}},
        "line 6: features.fast.kind: required field is missing",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": 12}},
        "line 6: features.fast: expected a mapping of fields ('name: value' lines), got 12",
    ),
    (
        {"sizing": {"percent": 1}},
        "line 15: sizing.method: required: one of fixed_notional, percent_equity, "
        "risk_percent, volatility_target, kelly",
    ),
    (
        {"sizing": {"method": "risk_percnt", "percent": 1}},
        "line 16: sizing.method: unknown method 'risk_percnt' (did you mean 'risk_percent'?); "
        "expected one of fixed_notional, percent_equity, risk_percent, volatility_target, kelly",
    ),
    ({"sizing": {"method": "fixed_notional"}}, "line 15: sizing.amount: required field is missing"),
    (
        {"sizing": {"method": "fixed_notional", "amount": -5}},
        "line 17: sizing.amount: expected a number > 0, got -5",
    ),
    (
        {"sizing": {"method": "volatility_target", "annual_vol": 0.2}},
        "line 17: sizing.annual_vol: annual_vol is in percent (20 means 20 % a year), got 0.2; "
        "did you mean 20?",
    ),
    (
        {"stop_loss": {"method": "percent", "percent": 2, "buffer": 1}},
        "line 18: stop_loss.buffer: unknown field; allowed here: method, percent",
    ),
    (
        {"stop_loss": {"method": "percent", "percent": float("nan")}},
        "line 17: stop_loss.percent: expected a finite number, got nan",
    ),
    (
        {"stop_loss": {"method": "percent", "percent": True}},
        "line 17: stop_loss.percent: expected a number, got True",
    ),
    (
        {"account": {"levrage": 3}},
        "line 16: account.levrage: unknown field (did you mean 'leverage'?); allowed here: "
        "capital, leverage, margin_mode, fee_tier",
    ),
    (
        {"account": {"margin_mode": "crossed"}},
        "line 16: account.margin_mode: expected one of isolated, cross, got 'crossed' (did you "
        "mean 'cross'?)",
    ),
    (
        {"account": {"capital": "lots"}},
        "line 16: account.capital: expected a number, got 'lots'",
    ),
    (
        {"symbol": "BTCUSD"},
        "line 3: symbol: unknown Bybit linear symbol 'BTCUSD' (did you mean 'BTCUSDT'?); known: "
        "ADAUSDT, BNBUSDT, BTCUSDT, DOGEUSDT, ETHUSDT, LTCUSDT, SOLUSDT, XRPUSDT",
    ),
    (
        {"timeframe": "1x"},
        "line 4: timeframe: timeframe '1x' is not understood: expected a positive number and a "
        "unit m, h or d, e.g. 1m, 5m, 15m, 1h, 4h, 1d",
    ),
    (
        {"timeframe": 60},
        "line 4: timeframe: expected a timeframe such as 15m, 1h, 4h, got 60",
    ),
    (
        {"environments": ["backtest", "papr"]},
        "line 17: environments[1]: expected one of backtest, shadow, paper, demo, testnet, live, "
        "got 'papr' (did you mean 'paper'?)",
    ),
    ({"environments": ["live", "live"]}, "line 15: environments: live is listed more than once"),
    ({"environments": []}, "line 15: environments: must not be empty"),
    (
        {"stoploss": {"method": "percent", "percent": 1}},
        "line 15: stoploss: unknown field (did you mean 'stop_loss'?); allowed here: "
        "schema_version, name, description, symbol, symbols, timeframe, timeframes, features, "
        "long, short, sizing, stop_loss, take_profit, trailing_stop, max_holding, account, "
        "environments",
    ),
    ({"name": ""}, "line 2: name: must not be empty"),
    ({"long": None}, "line 12: long: is empty; write the rules or remove the section"),
    (
        {"long": {"entry": 5, "exit": "fast < slow"}},
        "line 13: long.entry: expected a rule (text) or a list of rules that must all hold, got 5",
    ),
    (
        {"max_holding": 0},
        "line 15: max_holding: expected a number of bars ≥ 1 or a duration such as 12h or 3d, "
        "got 0",
    ),
]


@pytest.mark.parametrize(("changes", "message"), SCHEMA)
def test_a_schema_problem_names_the_line_the_field_and_what_was_expected(
    changes: dict[str, Any], message: str
) -> None:
    assert problems_with(**changes) == [message]


# ---------------------------------------------------------------------------------- meaning

MEANING = [
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "emaa"}}},
        "line 7: features.fast.kind: unknown feature 'emaa' (did you mean 'ema'?); known: ",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "timeframe": "4h"}}},
        "line 8: features.fast.timeframe: 4h is not loaded by this play; add it: timeframes: [4h]",
    ),
    (
        {"features": {**BASE_FEATURES, "fast": {"kind": "ema", "timeframe": "15m"}}},
        "line 8: features.fast.timeframe: 15m is shorter than the trading timeframe 1h; features "
        "run on the trading timeframe or a larger one listed in timeframes",
    ),
    (
        {"features": {**BASE_FEATURES, "close": {"kind": "ema"}}},
        "line 12: features.close: 'close' is a bar field; give the feature another name",
    ),
    (
        {"features": {**BASE_FEATURES, "rising": {"kind": "ema"}}},
        "line 12: features.rising: 'rising' is a word of the rule language; give the feature "
        "another name",
    ),
    (
        {
            "features": {"bb": {"kind": "bbands"}},
            "long": {"entry": "close > bb.uper", "exit": "close < bb.lower"},
        },
        "line 9: long.entry, column 9: feature 'bb' has no output 'uper' (did you mean "
        "'upper'?); its outputs: bb.upper, bb.middle, bb.lower, bb.percent_b, bb.width\n"
        "  close > bb.uper\n"
        "          ^",
    ),
    (
        {"long": {"entry": "rsi < 30", "exit": "fast < slow"}},
        "line 13: long.entry, column 1: no feature named 'rsi'; declare it under features, e.g. "
        "rsi: {kind: rsi}\n"
        "  rsi < 30\n"
        "  ^",
    ),
    (
        {"sizing": {"method": "risk_percent", "percent": 1}},
        "line 16: sizing.method: risk_percent sizes against the stop loss: set stop_loss "
        "(percent, atr, structure)",
    ),
    (
        {"take_profit": {"method": "risk_reward", "multiple": 2}},
        "line 16: take_profit.method: risk_reward measures from the stop loss: set stop_loss or "
        "use percent / atr",
    ),
    (
        {"sizing": {"method": "percent_equity", "percent": 300}},
        "line 17: sizing.percent: 300 % of equity needs more than account.leverage 1× allows "
        "(at most 100 %)",
    ),
    (
        {"stop_loss": {"method": "atr", "multiple": 2, "atr": "fast", "period": 3}},
        "line 19: stop_loss.period: give either atr or period, not both",
    ),
    (
        {"stop_loss": {"method": "atr", "multiple": 2, "atr": "fast"}},
        "line 18: stop_loss.atr: feature 'fast' is of kind ema, not atr",
    ),
    (
        {"stop_loss": {"method": "atr", "multiple": 2, "atr": "atr14"}},
        "line 18: stop_loss.atr: no feature named 'atr14'; add one (atr14: {kind: atr, period: "
        "14}) or write period: 14 instead",
    ),
    (
        {"stop_loss": {"method": "structure", "below": "swing.last_low"}},
        "line 17: stop_loss.below: no feature named 'swing'; declare it under features, e.g. "
        "swing: {kind: swing}",
    ),
    (
        {
            "features": {**BASE_FEATURES, "swing": {"kind": "swing"}},
            "stop_loss": {"method": "structure", "below": "swing.lastlow"},
        },
        "line 19: stop_loss.below: feature 'swing' has no output 'lastlow' (did you mean "
        "'last_low'?); its outputs: swing.last_high, swing.last_low, swing.last_high_age, "
        "swing.last_low_age, swing.new_high, swing.new_low, swing.prev_high, swing.prev_low",
    ),
    (
        {"stop_loss": {"method": "structure", "above": "fast"}},
        "line 16: stop_loss.method: long entries need stop_loss.below, e.g. below: swing.last_low",
    ),
    (
        {"symbol": "DOGEUSDT", "account": {"leverage": 100}},
        "line 16: account.leverage: DOGEUSDT allows at most 75× leverage, got 100",
    ),
    (
        {"symbols": ["ETHUSDT"]},
        "line 3: symbol: write either symbol (one instrument) or symbols (a list), not both",
    ),
    (
        {"symbol": DELETE},
        "line 1: symbol: required: symbol (e.g. symbol: BTCUSDT) or symbols (a list)",
    ),
    (
        {"symbol": DELETE, "symbols": ["ETHUSDT", "ETHUSDT"]},
        "line 14: symbols: ETHUSDT listed twice",
    ),
    (
        {"timeframes": ["90m"]},
        "line 16: timeframes[0]: 90m is not a whole multiple of the trading timeframe 1h",
    ),
    (
        {"timeframes": ["1h"]},
        "line 16: timeframes[0]: 1h is the trading timeframe already; list only larger ones",
    ),
    (
        {"long": {"entry": "fast > slow"}},
        "line 13: long.entry: long positions would never close: add long.exit, a stop_loss, a "
        "take_profit, a trailing_stop or max_holding",
    ),
    (
        {"long": {"exit": "fast > slow"}},
        "line 12: long: an exit rule without an entry rule never runs; add long.entry",
    ),
    (
        {"long": DELETE},
        "line 1: the play never enters a position: write long.entry or short.entry",
    ),
    ({"max_holding": "90m"}, "line 15: max_holding: 90m is not a whole number of 1h bars"),
]


@pytest.mark.parametrize(("changes", "message"), MEANING)
def test_a_problem_of_meaning_names_the_line_and_suggests_a_fix(
    changes: dict[str, Any], message: str
) -> None:
    found = problems_with(**changes)
    assert len(found) == 1
    assert found[0].startswith(message)


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    found = problems_with(
        timeframes=["90m"],
        features={"fast": {"kind": "emaa"}, "slow": {"kind": "ema", "perod": 2}},
        long={"entry": "crosses_above(fast, slow", "exit": "close < slw"},
    )
    assert [line.split(":")[0] for line in found] == [
        "line 7",
        "line 10",
        "line 12",
        "line 13",
        "line 15",
    ]


def test_a_rule_about_a_broken_feature_is_not_reported_twice() -> None:
    found = problems_with(features={"fast": {"kind": "emaa"}, "slow": {"kind": "ema"}})
    assert len(found) == 1


def test_a_mistake_in_a_list_of_rules_names_its_item() -> None:
    found = problems_with(long={"entry": ["fast > slow", "close >"], "exit": "fast < slow"})
    assert found == [
        "line 15: long.entry[1], column 8: expected a value after '>'\n  close >\n         ^"
    ]


def test_problems_render_without_the_file_name_in_helpers() -> None:
    assert problems("schema_version: 1\nsymbol: BTCUSDT\n") == [
        "line 1: timeframe: required field is missing"
    ]


def test_rule_syntax_errors_come_with_the_schema_problems() -> None:
    found = problems_with(sizing={"method": "x"}, long={"entry": "fast >", "exit": "fast < slow"})
    assert [line.split(":")[1].strip() for line in found] == [
        "long.entry, column 7",
        "sizing.method",
    ]
