"""Moving averages beyond TA-Lib agreement: the Hull average from its definition, the DEMA and
TEMA as compositions of our own EMA, the WMA without drift, and state sizes that hold."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from tradeplay.features import Feature

Series = NDArray[np.float64]


def _bars(close: Series) -> Series:
    """Bars whose every price is ``close`` (volume 1)."""
    n = len(close)
    return np.column_stack([np.arange(n, dtype=np.float64), *([close] * 4), np.ones(n)])


def _wma(x: Series, period: int) -> Series:
    """Weighted average, weights 1..period (newest heaviest), each window summed afresh."""
    out = np.full(len(x), np.nan)
    weights = np.arange(period, 0, -1, dtype=np.float64)  # convolve flips the kernel
    out[period - 1 :] = np.convolve(x, weights, "valid") / weights.sum()
    return out


def _hma(x: Series, period: int) -> Series:
    """Hull: WMA(2·WMA(n/2) − WMA(n), floor(sqrt(n))), straight from the definition."""
    raw = 2.0 * _wma(x, period // 2) - _wma(x, period)
    out = np.full(len(x), np.nan)
    out[period - 1 :] = _wma(raw[period - 1 :], math.isqrt(period))
    return out


@pytest.mark.parametrize("period", [2, 3, 4, 9, 16, 20, 55, 200])
@pytest.mark.parametrize("series", ["btc_1h", "eth_5m"])
def test_the_hull_average_follows_its_definition(
    period: int, series: str, request: pytest.FixtureRequest
) -> None:
    bars: Series = request.getfixturevalue(series)
    feature = Feature.of("hma", {"period": period})
    ours = feature.batch(bars)[:, 0]
    reference = _hma(bars[:, 4], period)
    assert feature.warmup == period - 1 + math.isqrt(period) - 1
    assert np.isnan(ours[: feature.warmup]).all()
    np.testing.assert_allclose(ours[feature.warmup :], reference[feature.warmup :], rtol=1e-12)


def test_the_hull_average_of_a_tiny_series_matches_the_hand_computed_table() -> None:
    """Period 4: half-length 2, smoothing 2, so four bars of warm-up.

    bar  close  WMA(4)                    WMA(2)           raw = 2·WMA(2) − WMA(4)
    3    13     (10+24+33+52)/10 = 11.9   (11+26)/3 = 37/3  74/3 − 11.9 = 383/30
    4    15     (12+22+39+60)/10 = 13.3   (13+30)/3 = 43/3  86/3 − 13.3 = 461/30
    5    14     (11+26+45+56)/10 = 13.8   (15+28)/3 = 43/3  86/3 − 13.8 = 446/30
    6    16     (13+30+42+64)/10 = 14.9   (14+32)/3 = 46/3  92/3 − 14.9 = 473/30
    HMA = (raw[t−1] + 2·raw[t]) / 3: 1305/90, 1353/90, 1392/90 on bars 4, 5, 6.
    """
    close = np.array([10.0, 12.0, 11.0, 13.0, 15.0, 14.0, 16.0])
    out = Feature.of("hma", {"period": 4}).batch(_bars(close))[:, 0]
    assert np.isnan(out[:4]).all()
    np.testing.assert_allclose(out[4:], [1305 / 90, 1353 / 90, 1392 / 90], rtol=1e-14)


@pytest.mark.parametrize("period", [4, 9, 20, 21, 100])
def test_on_a_straight_line_the_hull_average_lags_a_fraction_of_the_wma_lag(period: int) -> None:
    """A WMA(n) of a line lags (n − 1)/3 bars; the Hull average lags
    (floor(sqrt(n)) − 2 + 2·floor(n/2) − n)/3 bars: none at n = 4 or 9, 2/3 of a bar at n = 20."""
    line = 100.0 + 0.5 * np.arange(400, dtype=np.float64)
    feature = Feature.of("hma", {"period": period})
    out = feature.batch(_bars(line))[feature.warmup :, 0]
    lag = (math.isqrt(period) - 2 + 2 * (period // 2) - period) / 3
    np.testing.assert_allclose(out, line[feature.warmup :] - 0.5 * lag, rtol=1e-12)


def _ema_of(values: Series, period: int) -> Series:
    """Our EMA over ``values`` from their first finite value on; NaN before."""
    start = int(np.argmax(np.isfinite(values)))
    out = np.full(len(values), np.nan)
    out[start:] = Feature.of("ema", {"period": period}).batch(_bars(values[start:]))[:, 0]
    return out


@pytest.mark.parametrize("period", [2, 9, 20, 50])
def test_dema_and_tema_are_exactly_compositions_of_the_ema(
    period: int, btc_1h: NDArray[np.float64]
) -> None:
    bars = btc_1h[-5_000:]
    e1 = _ema_of(bars[:, 4], period)
    e2 = _ema_of(e1, period)
    e3 = _ema_of(e2, period)
    dema = Feature.of("dema", {"period": period}).batch(bars)[:, 0]
    tema = Feature.of("tema", {"period": period}).batch(bars)[:, 0]
    np.testing.assert_array_equal(dema, 2.0 * e1 - e2)
    np.testing.assert_array_equal(tema, e3 + (3.0 * e1 - 3.0 * e2))


@pytest.mark.parametrize("period", [2, 14, 50])
def test_the_wma_does_not_drift_over_a_long_series(
    period: int, eth_5m: NDArray[np.float64]
) -> None:
    """The running sums are rebuilt from the window every 8·period bars (as TA-Lib does), so
    after 200,000 bars the WMA still equals the freshly summed window to ~1e-14."""
    close = np.tile(eth_5m[:, 4], 8)[:200_000]
    ours = Feature.of("wma", {"period": period}).batch(_bars(close))[:, 0]
    np.testing.assert_allclose(ours[period - 1 :], _wma(close, period)[period - 1 :], rtol=1e-13)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("wma", {"period": 1}),
        ("wma", {"period": 7}),
        ("dema", {"period": 5}),
        ("tema", {"period": 5}),
        ("hma", {"period": 2}),
        ("hma", {"period": 3}),
        ("hma", {"period": 17}),
    ],
)
def test_kernels_stay_inside_their_announced_state(
    kind: str, params: dict[str, int], btc_1h: NDArray[np.float64]
) -> None:
    feature = Feature.of(kind, params)
    size = feature.spec.state_size(feature.params)
    state = np.full(size + 16, 12345.0)
    state[:size] = 0.0
    out = np.empty((500, len(feature.outputs)))
    feature.spec.kernel(state, feature.encoded, np.ascontiguousarray(btc_1h[:500]), out)
    assert (state[size:] == 12345.0).all()
    np.testing.assert_array_equal(out, feature.batch(btc_1h[:500]))
