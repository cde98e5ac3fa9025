"""Supertrend, which TA-Lib lacks: a hand-worked table, and agreement on real data with a plain
transcription of TradingView's ``ta.supertrend`` on top of TA-Lib's ATR."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib
from numpy.typing import NDArray

from tradeplay.features import Feature

Series = NDArray[np.float64]
NAN = math.nan


def _bars(rows: list[tuple[float, float, float]]) -> Series:
    bars = np.zeros((len(rows), 6))
    bars[:, 0] = np.arange(len(rows)) * 3_600_000.0
    bars[:, 2:5] = rows
    bars[:, 1] = bars[:, 4]
    bars[:, 5] = 1.0
    return bars


def test_supertrend_by_hand() -> None:
    """period 2, multiplier 1: ATR (2+2)/2 = 2 at bar 2, then Wilder (atr + tr) / 2."""
    bars = _bars(
        [  # high, low, close
            (10.0, 8.0, 9.0),
            (11.0, 9.0, 10.0),  # tr 2
            (12.0, 10.0, 11.0),  # tr 2, atr 2: bands 11 ± 2; starts down on the upper band 13
            (14.0, 12.0, 13.5),  # atr 2.5: upper 15.5 held at 13; close 13.5 > 13: up, lower 10.5
            (15.0, 13.0, 14.0),  # atr 2.25: lower 11.75 rises; upper resets (last close above it)
            (14.0, 11.0, 11.5),  # atr 2.625: lower 9.875 held at 11.75; close < 11.75: down
            (12.0, 10.0, 10.5),  # atr 2.3125: upper 15.125 → 13.3125 tightens; stays down
        ]
    )
    out = Feature.of("supertrend", {"period": 2, "multiplier": 1.0}).batch(bars)
    np.testing.assert_array_equal(out[:, 0], [NAN, NAN, 13.0, 10.5, 11.75, 15.125, 13.3125])
    np.testing.assert_array_equal(out[:, 1], [NAN, NAN, -1.0, 1.0, 1.0, -1.0, -1.0])


def tradingview_supertrend(bars: Series, period: int, factor: float) -> tuple[Series, Series]:
    """TradingView's ``ta.supertrend`` line by line (its direction is −1 up; returned flipped)."""
    high, low, close = (np.ascontiguousarray(bars[:, c]) for c in (2, 3, 4))
    atr = talib.ATR(high, low, close, period)
    value, direction = np.full(len(close), NAN), np.full(len(close), NAN)
    upper_band = lower_band = super_trend = NAN
    for i in range(len(close)):
        if math.isnan(atr[i]):
            continue
        src = (high[i] + low[i]) / 2.0
        upper, lower = src + factor * atr[i], src - factor * atr[i]
        prev_lower = 0.0 if math.isnan(lower_band) else lower_band  # nz(lowerBand[1])
        prev_upper = 0.0 if math.isnan(upper_band) else upper_band
        lower = lower if lower > prev_lower or close[i - 1] < prev_lower else prev_lower
        upper = upper if upper < prev_upper or close[i - 1] > prev_upper else prev_upper
        if math.isnan(atr[i - 1]):
            tv_direction = 1
        elif super_trend == prev_upper:
            tv_direction = -1 if close[i] > upper else 1
        else:
            tv_direction = 1 if close[i] < lower else -1
        super_trend = lower if tv_direction == -1 else upper
        upper_band, lower_band = upper, lower
        value[i], direction[i] = super_trend, -tv_direction
    return value, direction


@pytest.mark.parametrize("series", ["btc_1h", "eth_5m", "sol_1m"])
@pytest.mark.parametrize(("period", "multiplier"), [(10, 3.0), (7, 2.0), (22, 1.5)])
def test_supertrend_is_tradingviews_on_real_data(
    series: str, period: int, multiplier: float, request: pytest.FixtureRequest
) -> None:
    bars: Series = request.getfixturevalue(series)
    feature = Feature.of("supertrend", {"period": period, "multiplier": multiplier})
    out = feature.batch(bars)
    value, direction = tradingview_supertrend(bars, period, multiplier)
    start = feature.warmup
    assert np.isnan(out[:start]).all()
    np.testing.assert_array_equal(out[start:, 1], direction[start:])
    np.testing.assert_allclose(out[start:, 0], value[start:], rtol=1e-12)


def test_supertrend_defaults_are_tradingviews() -> None:
    assert Feature.of("supertrend").params == {"period": 10, "multiplier": 3.0}


def test_psar_starts_short_when_the_second_bar_moves_down_more_than_up() -> None:
    """TA-Lib's first direction: bar 1's −DM (down-move larger than the up-move) means short,
    with the SAR at bar 0's high; otherwise long at bar 0's low."""
    down = _bars([(10.0, 9.0, 9.5), (9.8, 8.0, 8.5), (9.0, 7.5, 8.0)])
    up = _bars([(10.0, 9.0, 9.5), (11.0, 9.5, 10.5), (12.0, 10.5, 11.5)])
    for bars, side, sar in ((down, -1.0, 10.0), (up, 1.0, 9.0)):
        out = Feature.of("psar").batch(bars)
        assert out[1, 1] == side
        assert out[1, 0] == sar
        np.testing.assert_array_equal(out[:, 0], talib.SAR(bars[:, 2].copy(), bars[:, 3].copy()))


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("adx", {"period": 2}),
        ("aroon", {"period": 2}),
        ("psar", {"acceleration": 0.1, "maximum": 0.3}),
        ("supertrend", {"period": 1, "multiplier": 0.5}),
    ],
)
def test_short_windows_stream_as_they_batch_and_never_look_ahead(
    kind: str, params: dict[str, object], eth_5m: Series
) -> None:
    bars = eth_5m[:2_000]
    feature = Feature.of(kind, params)
    batch = feature.batch(bars)
    stream = feature.stream()
    np.testing.assert_array_equal(np.array([stream.step(bar).copy() for bar in bars]), batch)
    for cut in (1, 2, 3, 4, 5, 8, 13, 777):
        np.testing.assert_array_equal(feature.batch(bars[:cut]), batch[:cut])
