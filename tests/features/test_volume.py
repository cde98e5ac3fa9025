"""The session VWAP, which TA-Lib lacks: a numpy reference grouped by UTC day, the reset at
midnight, and a session that opens without volume."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from tradeplay.features import Feature

Series = NDArray[np.float64]
HOUR = 3_600_000.0
DAY = 24 * HOUR


def session_vwap(bars: Series) -> Series:
    """numpy: cumulative Σ hlc3 × volume / Σ volume within each UTC day of the open time."""
    typical = (bars[:, 2] + bars[:, 3] + bars[:, 4]) / 3.0
    volume = bars[:, 5]
    day = np.floor(bars[:, 0] / DAY)
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    weighted, total = np.empty_like(typical), np.empty_like(typical)
    for begin, end in zip(starts, [*starts[1:], len(day)], strict=True):
        weighted[begin:end] = np.cumsum(typical[begin:end] * volume[begin:end])
        total[begin:end] = np.cumsum(volume[begin:end])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, weighted / total, typical)


@pytest.mark.parametrize("series", ["btc_1h", "eth_5m", "sol_1m"])
def test_vwap_is_the_volume_weighted_typical_price_of_the_utc_day(
    series: str, request: pytest.FixtureRequest
) -> None:
    bars: Series = request.getfixturevalue(series)
    np.testing.assert_allclose(Feature.of("vwap").batch(bars)[:, 0], session_vwap(bars), rtol=1e-12)


def _bars(rows: list[tuple[float, float, float, float, float]]) -> Series:
    """Rows of (hours since a UTC midnight, high, low, close, volume)."""
    bars = np.zeros((len(rows), 6))
    table = np.array(rows)
    bars[:, 0] = 1_735_689_600_000.0 + table[:, 0] * HOUR  # 2025-01-01T00:00Z
    bars[:, 2:6] = table[:, 1:]
    bars[:, 1] = bars[:, 4]
    return bars


def test_vwap_resets_on_the_first_bar_of_a_new_utc_day() -> None:
    bars = _bars(
        [
            (22.0, 12.0, 9.0, 9.0, 1.0),  # typical 10
            (23.0, 22.0, 19.0, 19.0, 3.0),  # typical 20: (10 + 60) / 4 = 17.5
            (24.0, 33.0, 30.0, 30.0, 1.0),  # 00:00 next day: only this bar, 31
            (25.0, 33.0, 30.0, 27.0, 1.0),  # typical 30: (31 + 30) / 2
            (49.0, 6.0, 3.0, 3.0, 2.0),  # a day later (a gap of a day): 4
        ]
    )
    np.testing.assert_array_equal(Feature.of("vwap").batch(bars)[:, 0], [10, 17.5, 31, 30.5, 4])


def test_a_session_without_volume_yet_shows_the_bars_typical_price() -> None:
    bars = _bars([(0.0, 12.0, 9.0, 9.0, 0.0), (1.0, 22.0, 19.0, 19.0, 0.0), (2.0, 6, 3, 3, 2.0)])
    np.testing.assert_array_equal(Feature.of("vwap").batch(bars)[:, 0], [10, 20, 4])


def test_vwap_streamed_across_midnight_equals_the_batch() -> None:
    bars = _bars([(h, 10.0 + h, 9.0, 9.5 + h / 2, 1.0 + h % 3) for h in np.arange(20.0, 30.0)])
    stream = Feature.of("vwap").stream()
    streamed = [stream.step(bar)[0] for bar in bars]
    np.testing.assert_array_equal(streamed, Feature.of("vwap").batch(bars)[:, 0])


def test_obv_starts_at_the_first_volume_and_follows_the_close() -> None:
    bars = _bars(
        [
            (0.0, 11, 9, 10, 5.0),
            (1.0, 12, 10, 11, 2.0),
            (2.0, 12, 10, 11, 4.0),
            (3.0, 11, 9, 9, 3.0),
        ]
    )
    np.testing.assert_array_equal(Feature.of("obv").batch(bars)[:, 0], [5, 7, 7, 4])
