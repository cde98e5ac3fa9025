"""Volatility kernels beyond the TA-Lib cases: numpy references for the realised volatility and
the z-score, flat markets, and the rolling standard deviation at awkward price levels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from tradeplay.domain.errors import InputError
from tradeplay.features import Feature

SERIES = ("btc_1h", "eth_5m", "sol_1m")
RTOL = 1e-9
Series = NDArray[np.float64]


def _close(bars: Series) -> Series:
    return np.ascontiguousarray(bars[:, 4])


def realised_volatility(close: Series, period: int, periods_per_year: float) -> Series:
    """numpy: sample standard deviation of the last `period` log returns, annualised."""
    returns = np.log(close[1:] / close[:-1])
    sd = sliding_window_view(returns, period).std(axis=1, ddof=1) * math.sqrt(periods_per_year)
    return np.concatenate([np.full(period, np.nan), sd])


def zscore(x: Series, period: int) -> Series:
    """numpy: (x − mean) / population deviation of the last `period` values; 0 if they are flat."""
    windows = sliding_window_view(x, period)
    mean, sd = windows.mean(axis=1), windows.std(axis=1)
    flat = sd <= 1e-12 * np.abs(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(flat, 0.0, (x[period - 1 :] - mean) / sd)
    return np.concatenate([np.full(period - 1, np.nan), z])


def _assert_matches(feature: Feature, ours: Series, reference: Series) -> None:
    start = feature.warmup
    assert np.isnan(ours[:start]).all()
    scale = float(np.mean(np.abs(reference[start:])))
    np.testing.assert_allclose(ours[start:], reference[start:], rtol=RTOL, atol=RTOL * scale)


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize(
    ("period", "periods_per_year"), [(20, 1.0), (2, 1.0), (50, 24 * 365.0), (200, 525_600.0)]
)
def test_realised_volatility_is_the_sample_stdev_of_log_returns_annualised(
    series: str, period: int, periods_per_year: float, request: pytest.FixtureRequest
) -> None:
    bars: Series = request.getfixturevalue(series)
    params = {"period": period, "periods_per_year": periods_per_year}
    feature = Feature.of("volatility", params)
    ours = feature.batch(bars)[:, 0]
    _assert_matches(feature, ours, realised_volatility(_close(bars), period, periods_per_year))


@pytest.mark.parametrize("series", SERIES)
@pytest.mark.parametrize(("period", "source"), [(20, "close"), (2, "close"), (100, "hlc3")])
def test_zscore_is_the_distance_from_the_mean_in_population_stdevs(
    series: str, period: int, source: str, request: pytest.FixtureRequest
) -> None:
    bars: Series = request.getfixturevalue(series)
    feature = Feature.of("zscore", {"period": period, "source": source})
    x = _close(bars) if source == "close" else (bars[:, 2] + bars[:, 3] + bars[:, 4]) / 3.0
    _assert_matches(feature, feature.batch(bars)[:, 0], zscore(x, period))


def _bars(close: Series) -> Series:
    bars = np.zeros((len(close), 6))
    bars[:, 0] = np.arange(len(close)) * 60_000.0
    bars[:, 1:5] = close[:, None]
    bars[:, 5] = 1.0
    return bars


def test_a_flat_market_has_collapsed_bands_a_middle_percent_b_and_a_zero_zscore() -> None:
    bars = _bars(np.concatenate([np.linspace(100.0, 101.0, 30), np.full(60, 0.1 * 3)]))
    bands = Feature.of("bbands", {"period": 20})
    out = bands.batch(bars)[-30:]
    upper, middle, lower, percent_b, width = out.T
    assert (upper == middle).all()
    assert (lower == middle).all()
    assert (percent_b == 0.5).all()
    assert (width == 0.0).all()
    assert (Feature.of("zscore", {"period": 20}).batch(bars)[-30:, 0] == 0.0).all()
    assert (Feature.of("volatility", {"period": 20}).batch(bars)[-30:, 0] == 0.0).all()


def test_the_rolling_stdev_neither_cancels_nor_drifts_at_a_high_price_level() -> None:
    """A price near 1e7 moving by cents for 200,000 bars. Running sums of x and x² would keep no
    correct digit of the deviation (x² ≈ 1e14, variance ≈ 1e-3); the answer may only lose what
    the prices themselves cannot hold (one ulp of 1e7 is ~1e-7 of the deviation)."""
    rng = np.random.default_rng(7)
    close = 1e7 + np.cumsum(rng.normal(0.0, 0.01, 200_000))
    windows = sliding_window_view(close.astype(np.longdouble), 30)
    mean = windows.mean(axis=1)
    sd = np.sqrt(((windows - mean[:, None]) ** 2).mean(axis=1))
    bars = _bars(close)
    z = Feature.of("zscore", {"period": 30}).batch(bars)[29:, 0]
    np.testing.assert_allclose(z, ((close[29:] - mean) / sd).astype(float), rtol=0, atol=1e-6)
    bands = Feature.of("bbands", {"period": 30, "stddev": 1.0}).batch(bars)
    np.testing.assert_allclose(bands[29:, 0] - bands[29:, 1], sd.astype(float), rtol=1e-6)


def test_natr_refuses_a_one_bar_period_where_talib_returns_the_raw_true_range() -> None:
    with pytest.raises(InputError, match="at least 2"):
        Feature.of("natr", {"period": 1})


def test_keltner_is_nan_until_both_its_ema_and_its_atr_exist() -> None:
    bars = _bars(np.linspace(100.0, 130.0, 40))
    feature = Feature.of("keltner", {"period": 5, "atr_period": 12})
    out = feature.batch(bars)
    assert feature.warmup == 12
    assert np.isnan(out[:12]).all()
    assert np.isfinite(out[12:]).all()


SHORT_WINDOWS = [
    ("atr", {"period": 1}),
    ("natr", {"period": 2}),
    ("bbands", {"period": 2, "stddev": 1.0}),
    ("bbands", {"period": 7, "source": "hlc3"}),
    ("keltner", {"period": 3, "atr_period": 7}),
    ("donchian", {"period": 3}),
    ("highest", {"period": 1}),
    ("lowest", {"period": 4, "source": "ohlc4"}),
    ("volatility", {"period": 3, "periods_per_year": 8760.0}),
    ("zscore", {"period": 3}),
    ("linreg_slope", {"period": 5}),
]


@pytest.mark.parametrize(("kind", "params"), SHORT_WINDOWS)
def test_short_windows_stream_as_they_batch_and_never_look_ahead(
    kind: str, params: dict[str, object], eth_5m: Series
) -> None:
    """The generic parity tests run the defaults; short windows wrap their rings and re-anchor
    their sums every few bars, so they get the same two checks here."""
    bars = eth_5m[:2_000]
    feature = Feature.of(kind, params)
    batch = feature.batch(bars)
    stream = feature.stream()
    np.testing.assert_array_equal(np.array([stream.step(bar).copy() for bar in bars]), batch)
    for cut in (1, 2, 3, 4, 5, 8, 13, 777):
        np.testing.assert_array_equal(feature.batch(bars[:cut]), batch[:cut])
