"""A play's features on several timeframes: larger bars visible only once closed, and parity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from tradeplay.data.candles import Candles
from tradeplay.data.resample import resample
from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.features import Feature
from tradeplay.features.frame import FeatureFrame, NamedFeature

M5, M15, H1, H4 = (Timeframe.parse(t) for t in ("5m", "15m", "1h", "4h"))


def _frame() -> FeatureFrame:
    return FeatureFrame(
        M5,
        [
            NamedFeature("fast", Feature.of("ema", {"period": 9}), M5),
            NamedFeature("trend", Feature.of("ema", {"period": 20}), H1),
            NamedFeature("slow4h", Feature.of("sma", {"period": 5}), H4),
        ],
    )


def _candles(bars: NDArray[np.float64]) -> Candles:
    return Candles(bars[:, 0].astype(np.int64), *(bars[:, c] for c in range(1, 6)))


def _identical(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def test_larger_bars_equal_the_resampled_bars_and_appear_when_they_close(
    eth_5m: NDArray[np.float64],
) -> None:
    bars = eth_5m[:5_000]
    frame = _frame()
    columns = frame.batch(bars)
    hourly = resample(_candles(bars), M5, H1)
    expected = Feature.of("ema", {"period": 20}).batch(
        np.column_stack(
            [hourly.ts, hourly.open, hourly.high, hourly.low, hourly.close, hourly.volume]
        ).astype(np.float64)
    )[:, 0]
    # The hourly value of bin [h, h+1h) is visible from the 5m bar opening at h+55m, not before.
    close_times = bars[:, 0] + M5.ms
    for j in range(30, 60):
        first_visible = int(np.searchsorted(close_times, hourly.ts[j] + H1.ms))
        assert columns["trend"][first_visible] == expected[j]
        assert columns["trend"][first_visible - 1] != expected[j]


def test_streaming_the_frame_equals_the_batch_columns_exactly(
    eth_5m: NDArray[np.float64],
) -> None:
    bars = eth_5m[:4_000]
    frame = _frame()
    columns = frame.batch(bars)
    stream = frame.stream()
    rows = [stream.step(bar) for bar in bars]
    for name in frame.column_names():
        assert _identical(np.array([row[name] for row in rows]), columns[name]), name


@settings(max_examples=20, deadline=None)
@given(cut=st.integers(min_value=1, max_value=3_999))
def test_cutting_the_bars_changes_no_earlier_value_on_any_timeframe(
    cut: int, eth_5m: NDArray[np.float64]
) -> None:
    bars = eth_5m[:4_000]
    frame = _frame()
    full, short = frame.batch(bars), frame.batch(bars[:cut])
    for name in frame.column_names():
        assert _identical(short[name], full[name][:cut]), name


def test_a_larger_bin_with_a_missing_bar_is_dropped(eth_5m: NDArray[np.float64]) -> None:
    bars = np.delete(eth_5m[:600], 100, axis=0)  # one 5m bar missing inside an hour
    frame = FeatureFrame(M5, [NamedFeature("h", Feature.of("sma", {"period": 1}), H1)])
    values = frame.batch(bars)["h"]
    hourly = resample(_candles(bars), M5, H1)  # drops the incomplete hour too
    close_times = bars[:, 0] + M5.ms
    completing = np.searchsorted(close_times, hourly.ts + H1.ms)
    assert len(hourly) == 600 // 12 - 1
    np.testing.assert_array_equal(values[completing], hourly.close)  # SMA(1) is the close
    broken_hour = int(bars[100, 0] - bars[100, 0] % H1.ms)
    inside = (bars[:, 0] >= broken_hour) & (bars[:, 0] < broken_hour + H1.ms)
    # During and right after the broken hour, the previous complete hour is still what is seen.
    assert len(np.unique(values[inside])) == 1


def test_a_feature_on_a_timeframe_that_is_not_a_multiple_is_refused() -> None:
    with pytest.raises(InputError, match="not a whole multiple of the trading timeframe 15m"):
        FeatureFrame(M15, [NamedFeature("x", Feature.of("ema"), Timeframe.parse("20m"))])
