"""Momentum oscillators beyond TA-Lib agreement: MACD's seeding, the conventions for flat
markets, the windowed highs and lows against brute force, MFI's empty windows, ranges, and
state sizes that hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from tradeplay.features import Feature

Series = NDArray[np.float64]
KINDS = ("rsi", "stoch", "stochrsi", "macd", "cci", "roc", "mom", "willr", "mfi")


def _random_bars(seed: int, n: int, flat: float = 0.0) -> Series:
    """A random walk on a 0.01 grid with highs and lows around the close; a share ``flat`` of
    the bars do not move at all."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(-3, 4, n) * (rng.random(n) >= flat)
    close = 50.0 + 0.01 * np.cumsum(steps)
    high = close + 0.01 * rng.integers(0, 4, n)
    low = close - 0.01 * rng.integers(0, 4, n)
    volume = rng.integers(0, 100, n).astype(np.float64)
    return np.column_stack([np.arange(n, dtype=np.float64), close, high, low, close, volume])


def test_macd_seeds_the_fast_ema_over_the_last_fast_bars_of_the_slow_seed() -> None:
    """TA-Lib starts both EMAs on bar slow − 1: the slow one with the mean of bars 0..slow−1, the
    fast one with the mean of bars slow−fast..slow−1 only, so the first MACD value is the
    difference of those two means."""
    bars = _random_bars(1, 60)
    close = bars[:, 4]
    feature = Feature.of("macd", {"fast": 4, "slow": 10, "signal": 1})
    out = feature.batch(bars)
    assert feature.warmup == 9
    assert np.isnan(out[:9]).all()
    first = close[6:10].mean() - close[:10].mean()
    np.testing.assert_allclose(out[9], [first, first, 0.0], rtol=1e-12, atol=1e-15)


def test_macd_with_fast_slower_than_slow_swaps_them_like_talib(
    btc_1h: NDArray[np.float64],
) -> None:
    swapped = Feature.of("macd", {"fast": 26, "slow": 12}).batch(btc_1h)
    np.testing.assert_array_equal(swapped, Feature.of("macd").batch(btc_1h))
    assert Feature.of("macd", {"fast": 26, "slow": 12}).warmup == Feature.of("macd").warmup


@pytest.mark.parametrize("kind", KINDS)
def test_a_market_that_never_moves_reads_zero(kind: str) -> None:
    """No range, no change, no flow: TA-Lib's convention is 0, never NaN after the warm-up.
    (MACD has no convention to apply: its two seeded means of 0.3 differ by rounding only.)"""
    n = 100
    bars = np.column_stack([np.arange(n, dtype=np.float64), *([np.full(n, 0.3)] * 4), np.ones(n)])
    feature = Feature.of(kind)
    out = feature.batch(bars)
    assert np.isnan(out[: feature.warmup]).all()
    tolerance = 1e-15 if kind == "macd" else 0.0
    np.testing.assert_allclose(out[feature.warmup :], 0.0, rtol=0.0, atol=tolerance)


@pytest.mark.parametrize(
    ("kind", "low", "high"),
    [
        ("rsi", 0.0, 100.0),
        ("stoch", 0.0, 100.0),
        ("stochrsi", 0.0, 100.0),
        ("willr", -100.0, 0.0),
        ("mfi", 0.0, 100.0),
    ],
)
def test_bounded_oscillators_stay_in_their_range(
    kind: str, low: float, high: float, sol_1m: NDArray[np.float64]
) -> None:
    """Up to rounding: a %D that averages 0s and 100s with TA-Lib's running sum can land
    ~1e-13 outside."""
    feature = Feature.of(kind)
    out = feature.batch(sol_1m)[feature.warmup :]
    assert (out >= low - 1e-9).all()
    assert (out <= high + 1e-9).all()


def _williams(bars: Series, period: int) -> Series:
    """Williams %R with the window's extremes found by brute force."""
    high = sliding_window_view(bars[:, 2], period).max(axis=1)
    low = sliding_window_view(bars[:, 3], period).min(axis=1)
    close = bars[period - 1 :, 4]
    span = high - low
    flat = np.abs(span) <= 1e-14 * (np.abs(high) + np.abs(low))
    out = np.full(len(bars), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[period - 1 :] = np.where(flat, 0.0, (high - close) / span * -100.0)
    return out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    period=st.integers(1, 40),
    flat=st.sampled_from([0.0, 0.5, 0.9]),
)
def test_windowed_highs_and_lows_equal_brute_force(seed: int, period: int, flat: float) -> None:
    """The rolling extreme behind %R and the stochastics equals a brute-force scan, for every
    window length, ties and flat stretches included (period 1 is outside TA-Lib)."""
    bars = _random_bars(seed, 400, flat)
    ours = Feature.of("willr", {"period": period}).batch(bars)[:, 0]
    np.testing.assert_array_equal(ours, _williams(bars, period))


def test_the_stochastic_is_the_smoothed_position_in_the_range(
    btc_1h: NDArray[np.float64],
) -> None:
    """%K = SMA(k_smoothing) of the close's place in the period's range; %D = SMA of %K."""
    bars = btc_1h[-2_000:]
    period, smooth, d_period = 14, 3, 3
    high = sliding_window_view(bars[:, 2], period).max(axis=1)
    low = sliding_window_view(bars[:, 3], period).min(axis=1)
    fast = (bars[period - 1 :, 4] - low) / (high - low) * 100.0
    k = sliding_window_view(fast, smooth).mean(axis=1)
    d = sliding_window_view(k, d_period).mean(axis=1)
    feature = Feature.of("stoch", {"period": period, "k_smoothing": smooth, "d_period": d_period})
    out = feature.batch(bars)[feature.warmup :]
    np.testing.assert_allclose(out[:, 0], k[d_period - 1 :], rtol=1e-12)
    np.testing.assert_allclose(out[:, 1], d, rtol=1e-12)


def test_mfi_forgets_rounding_residue_once_a_whole_window_had_no_flow(
    eth_5m: NDArray[np.float64],
) -> None:
    """After `period` bars without money flow (here: no volume) the flow sums restart from an
    exact zero, so later values equal those of a series that starts in the quiet stretch."""
    bars = eth_5m[:400].copy()
    bars[200:220, 5] = 0.0
    feature = Feature.of("mfi", {"period": 14})
    whole = feature.batch(bars)[:, 0]
    np.testing.assert_array_equal(whole[213:220], 0.0)  # windows of bars 200..219 only
    fresh = feature.batch(bars[200:])[:, 0]
    np.testing.assert_array_equal(whole[214:], fresh[14:])


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("rsi", {"period": 2}),
        ("stoch", {"period": 1, "k_smoothing": 1, "d_period": 1}),
        ("stoch", {"period": 7, "k_smoothing": 4, "d_period": 2}),
        ("stochrsi", {"rsi_period": 3, "period": 1, "d_period": 1}),
        ("stochrsi", {"rsi_period": 5, "period": 6, "d_period": 4}),
        ("macd", {"fast": 3, "slow": 7, "signal": 2}),
        ("cci", {"period": 2}),
        ("cci", {"period": 9}),
        ("roc", {"period": 1}),
        ("mom", {"period": 3}),
        ("willr", {"period": 1}),
        ("willr", {"period": 5}),
        ("mfi", {"period": 2}),
        ("mfi", {"period": 6}),
    ],
)
def test_kernels_stay_inside_their_announced_state(
    kind: str, params: dict[str, int], eth_5m: NDArray[np.float64]
) -> None:
    feature = Feature.of(kind, params)
    size = feature.spec.state_size(feature.params)
    state = np.full(size + 16, 12345.0)
    state[:size] = 0.0
    bars = np.ascontiguousarray(eth_5m[:500])
    out = np.empty((500, len(feature.outputs)))
    feature.spec.kernel(state, feature.encoded, bars, out)
    assert (state[size:] == 12345.0).all()
    np.testing.assert_array_equal(out, feature.batch(bars))
