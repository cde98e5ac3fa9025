"""Gaps: found exactly, refused with a readable message, filled flat, or left alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.data.factories import HOUR, JAN_1_2024, MINUTE, ramp_candles, read_real_candles
from tradeplay.data.candles import Candles
from tradeplay.data.gaps import Gap, GapPolicy, apply_gap_policy, fill_gaps, find_gaps
from tradeplay.data.validation import validate_candles
from tradeplay.domain.errors import DataValidationError, InputError
from tradeplay.domain.timeframe import Timeframe

ONE_MINUTE = Timeframe.parse("1m")
ONE_HOUR = Timeframe.parse("1h")


def _without(candles: Candles, *rows: int) -> Candles:
    return candles.take(np.setdiff1d(np.arange(len(candles)), rows))


def test_gaps_are_listed_by_the_bars_around_them_and_the_bars_missing() -> None:
    candles = _without(ramp_candles(10), 3, 6, 7)

    gaps = find_gaps(candles.ts, ONE_MINUTE)

    assert gaps == [
        Gap(after_ms=JAN_1_2024 + 2 * MINUTE, before_ms=JAN_1_2024 + 4 * MINUTE, missing_bars=1),
        Gap(after_ms=JAN_1_2024 + 5 * MINUTE, before_ms=JAN_1_2024 + 8 * MINUTE, missing_bars=2),
    ]


def test_a_complete_series_and_tiny_series_have_no_gaps() -> None:
    assert find_gaps(ramp_candles(100).ts, ONE_MINUTE) == []
    assert find_gaps(ramp_candles(1).ts, ONE_MINUTE) == []
    assert find_gaps(Candles.empty().ts, ONE_MINUTE) == []


def test_fill_inserts_flat_zero_volume_bars_at_the_previous_close() -> None:
    candles = _without(ramp_candles(6), 2, 3)

    filled = fill_gaps(candles, ONE_MINUTE)

    assert filled.ts.tolist() == [JAN_1_2024 + k * MINUTE for k in range(6)]
    previous_close = candles.close[1]  # 102.0
    for row in (2, 3):
        bar = [filled.open[row], filled.high[row], filled.low[row], filled.close[row]]
        assert bar == [previous_close] * 4
        assert filled.volume[row] == 0.0
    kept = np.array([0, 1, 4, 5])
    assert filled.take(kept) == candles  # real bars are untouched
    validate_candles(filled, ONE_MINUTE, "filled")


def test_leave_returns_the_series_as_it_is() -> None:
    candles = _without(ramp_candles(6), 2)

    assert apply_gap_policy(candles, ONE_MINUTE, GapPolicy.LEAVE, "x") is candles
    assert apply_gap_policy(ramp_candles(6), ONE_MINUTE, "refuse", "x") == ramp_candles(6)


def test_refuse_names_the_first_gap_in_utc_and_the_number_of_gaps() -> None:
    candles = _without(ramp_candles(10), 3, 6, 7)

    with pytest.raises(DataValidationError) as caught:
        apply_gap_policy(candles, ONE_MINUTE, GapPolicy.REFUSE, "btc.csv")

    assert caught.value.rule == "no_gaps"
    assert caught.value.row == 4  # the first bar after the first gap
    assert caught.value.detail.startswith(
        "2 gaps in the 1m series; the first: 1 missing bar between "
        "2024-01-01T00:02:00Z and 2024-01-01T00:04:00Z."
    )


def test_an_unknown_policy_is_an_input_error() -> None:
    with pytest.raises(InputError, match="expected one of refuse, fill, leave"):
        apply_gap_policy(ramp_candles(3), ONE_MINUTE, "interpolate", "x")


def test_the_real_binance_spot_file_has_its_27_outage_gaps(shared_data: Path) -> None:
    candles = read_real_candles(shared_data, "binancespot_BTCUSDT_1h")

    gaps = find_gaps(candles.ts, ONE_HOUR)

    assert len(gaps) == 27
    assert gaps[0] == Gap(after_ms=1_515_034_800_000, before_ms=1_515_042_000_000, missing_bars=1)
    assert gaps[0].describe() == (
        "1 missing bar between 2018-01-04T03:00:00Z and 2018-01-04T05:00:00Z"
    )
    assert gaps[1].missing_bars == 33  # the February 2018 maintenance
    assert gaps[-1].describe() == (
        "1 missing bar between 2023-03-24T12:00:00Z and 2023-03-24T14:00:00Z"
    )
    assert sum(g.missing_bars for g in gaps) == 122


def test_refusing_the_real_file_reports_the_first_outage(shared_data: Path) -> None:
    candles = read_real_candles(shared_data, "binancespot_BTCUSDT_1h")

    with pytest.raises(DataValidationError, match="27 gaps in the 1h series; the first: 1 missing"):
        apply_gap_policy(candles, ONE_HOUR, GapPolicy.REFUSE, "binancespot_BTCUSDT_1h")


def test_filling_the_real_file_gives_one_bar_per_hour_and_keeps_every_real_bar(
    shared_data: Path,
) -> None:
    candles = read_real_candles(shared_data, "binancespot_BTCUSDT_1h")

    filled = apply_gap_policy(candles, ONE_HOUR, GapPolicy.FILL, "binancespot_BTCUSDT_1h")

    span_hours = (int(candles.ts[-1]) - int(candles.ts[0])) // HOUR + 1
    assert len(filled) == span_hours == len(candles) + 122
    assert find_gaps(filled.ts, ONE_HOUR) == []
    validate_candles(filled, ONE_HOUR, "filled")
    real = np.isin(filled.ts, candles.ts)
    assert filled.take(np.flatnonzero(real)) == candles
    assert np.all(filled.volume[~real] == 0.0)
