"""Resampling: epoch-aligned bins, partial bins dropped by default, equal to the exchange's bars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.data.factories import HOUR, JAN_1_2024, MINUTE, ramp_candles, read_real_candles
from tradeplay.data._utc import iso_utc
from tradeplay.data.candles import Candles
from tradeplay.data.resample import resample
from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe

M1, M5, H1, H4 = (Timeframe.parse(t) for t in ("1m", "5m", "1h", "4h"))


def test_a_bin_takes_first_open_max_high_min_low_last_close_and_summed_volume() -> None:
    candles = ramp_candles(10)  # opens 100..109

    bars = resample(candles, M1, M5)

    assert bars.ts.tolist() == [JAN_1_2024, JAN_1_2024 + 5 * MINUTE]
    assert bars.open.tolist() == [100.0, 105.0]
    assert bars.high.tolist() == [105.5, 110.5]
    assert bars.low.tolist() == [99.5, 104.5]
    assert bars.close.tolist() == [105.0, 110.0]
    assert bars.volume.tolist() == [sum(candles.volume[:5]), sum(candles.volume[5:])]


def test_bins_are_aligned_to_the_epoch_and_ragged_edges_are_dropped() -> None:
    # 00:57 .. 03:02: the 00:00 and 03:00 bins are incomplete.
    candles = ramp_candles(126, start_ms=JAN_1_2024 + 57 * MINUTE)

    dropped = resample(candles, M1, H1)
    kept = resample(candles, M1, H1, partial="keep")

    assert dropped.ts.tolist() == [JAN_1_2024 + HOUR, JAN_1_2024 + 2 * HOUR]
    assert kept.ts.tolist() == [JAN_1_2024 + k * HOUR for k in range(4)]
    assert kept.open[0] == candles.open[0]
    assert kept.close[-1] == candles.close[-1]


def test_a_bin_with_a_gap_inside_is_dropped_unless_partial_bins_are_kept() -> None:
    candles = ramp_candles(10).take(np.array([0, 1, 2, 4, 5, 6, 7, 8, 9]))

    assert resample(candles, M1, M5).ts.tolist() == [JAN_1_2024 + 5 * MINUTE]
    assert len(resample(candles, M1, M5, partial="keep")) == 2


def test_the_target_must_be_a_whole_multiple_of_the_source() -> None:
    with pytest.raises(InputError, match="cannot resample 1h bars to 5m"):
        resample(ramp_candles(3), H1, M5)
    with pytest.raises(InputError, match="whole multiple"):
        resample(ramp_candles(3), Timeframe.parse("3m"), Timeframe.parse("10m"))
    with pytest.raises(InputError, match="expected 'drop' or 'keep'"):
        resample(ramp_candles(3), M1, M5, partial="pad")


def test_same_timeframe_and_empty_input_are_returned_unchanged() -> None:
    candles = ramp_candles(7)

    assert resample(candles, M1, M1) is candles
    assert len(resample(Candles.empty(), M1, H1)) == 0


# Bins where the third-party 5m source files disagree with the exchange's own 1h bars. Not a
# resampling error: the 5m files carry download artefacts (e.g. BTC 2024-10-28 20:00-21:05 is
# 14 flat zero-volume bars, a tool's gap fill; others differ in volume, a sign of bars fetched
# before they closed). Listed so the test still pins every other bin exactly.
KNOWN_SOURCE_DEFECTS = {
    ("binance_BTCUSDT_5m", "binance_BTCUSDT_1h"): {
        "2023-11-14T11:00:00Z", "2024-03-27T12:00:00Z", "2024-03-28T10:00:00Z",
        "2024-03-28T11:00:00Z", "2024-03-28T12:00:00Z", "2024-10-28T20:00:00Z",
        "2024-10-28T21:00:00Z",
    },
    ("binance_ETHUSDT_5m", "binance_ETHUSDT_1h"): {
        "2025-01-14T13:00:00Z", "2025-01-14T15:00:00Z", "2025-01-29T01:00:00Z",
        "2025-01-29T02:00:00Z",
    },
}  # fmt: skip


def _timeframe_of(file_name: str) -> Timeframe:
    return Timeframe.parse(file_name.rsplit("_", 1)[1])  # binance_BTCUSDT_1m -> 1m


@pytest.mark.parametrize(
    ("source_file", "target_file", "overlap"),
    [
        ("binance_BTCUSDT_1m", "binance_BTCUSDT_1h", 719),
        ("binance_ETHUSDT_1m", "binance_ETHUSDT_1h", 1002),
        ("binance_SOLUSDT_1m", "binance_SOLUSDT_1h", 719),
        ("binance_BTCUSDT_5m", "binance_BTCUSDT_1h", 10224),
        ("binance_ETHUSDT_5m", "binance_ETHUSDT_1h", 2160),
        ("binance_SOLUSDT_5m", "binance_SOLUSDT_1h", 9702),
        # The only 1m/5m pair covering the same period (the BTC and ETH 5m files are older).
        ("binance_SOLUSDT_1m", "binance_SOLUSDT_5m", 8639),
    ],
)
def test_resampling_real_bars_reproduces_the_exchanges_own_bars(
    shared_data: Path, source_file: str, target_file: str, overlap: int
) -> None:
    source = read_real_candles(shared_data, source_file)
    resampled = resample(source, _timeframe_of(source_file), _timeframe_of(target_file))
    exchange = read_real_candles(shared_data, target_file)

    common, ours, theirs = np.intersect1d(resampled.ts, exchange.ts, return_indices=True)
    assert len(common) == overlap
    mine, real = resampled.take(ours), exchange.take(theirs)
    same = np.ones(len(common), dtype=np.bool_)
    for column in ("open", "high", "low", "close"):
        same &= getattr(mine, column) == getattr(real, column)  # exact
    # Volume: sums in a different order than the exchange's decimal arithmetic.
    same &= np.isclose(mine.volume, real.volume, rtol=1e-9, atol=0.0)
    differing = {iso_utc(int(t)) for t in common[~same]}
    assert differing == KNOWN_SOURCE_DEFECTS.get((source_file, target_file), set())


@st.composite
def _minute_bars(draw: st.DrawFn) -> Candles:
    """Random valid 1m bars with random gaps, starting anywhere within a day."""
    n = draw(st.integers(min_value=1, max_value=400))
    steps = draw(st.lists(st.sampled_from([1, 1, 1, 1, 2, 7]), min_size=n, max_size=n))
    start = JAN_1_2024 + draw(st.integers(min_value=0, max_value=1439)) * MINUTE
    ts = start + np.cumsum(steps, dtype=np.int64) * MINUTE
    prices = draw(st.lists(st.integers(1, 1000), min_size=4 * n, max_size=4 * n))
    p = np.array(prices, dtype=np.float64).reshape(4, n)
    volume = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    high, low = p.max(axis=0), p.min(axis=0)
    return Candles(ts, p[0], high, low, p[3], np.array(volume, dtype=np.float64))


@settings(max_examples=150, deadline=None)
@given(
    candles=_minute_bars(),
    path=st.sampled_from([("5m", "15m"), ("5m", "1h"), ("15m", "1h"), ("1h", "4h"), ("2m", "4h")]),
    partial=st.sampled_from(["drop", "keep"]),
)
def test_resampling_in_two_steps_equals_resampling_straight(
    candles: Candles, path: tuple[str, str], partial: str
) -> None:
    middle, final = (Timeframe.parse(t) for t in path)

    in_between = resample(candles, M1, middle, partial=partial)
    two_steps = resample(in_between, middle, final, partial=partial)
    straight = resample(candles, M1, final, partial=partial)

    # Integer volumes make the sums exact whatever the order, so equality is exact.
    assert two_steps == straight
