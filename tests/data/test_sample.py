"""The generated sample market: valid, deterministic, BTC-like, and always labelled as generated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tradeplay.data.candles import CANDLE_COLUMNS
from tradeplay.data.sample import (
    SAMPLE_EXCHANGE,
    SampleMarket,
    ensure_sample_market,
    generate_sample_market,
)
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.data.validation import validate_candles, validate_funding
from tradeplay.domain.timeframe import Timeframe

START_2024 = 1_704_067_200_000
EIGHT_HOURS = 8 * 3_600_000
DAY_MINUTES = 1_440
MINUTES_PER_YEAR = 365 * DAY_MINUTES
SEEDS = (7, 1, 2024)


@pytest.fixture(scope="module", params=SEEDS)
def market(request: pytest.FixtureRequest) -> SampleMarket:
    return generate_sample_market(seed=request.param)


def _log_returns(market: SampleMarket) -> NDArray[np.float64]:
    return np.diff(np.log(market.candles.close))


def _autocorrelation(x: NDArray[np.float64], lag: int) -> float:
    centred = x - x.mean()
    return float(np.dot(centred[:-lag], centred[lag:]) / np.dot(centred, centred))


# --- shape and validity ----------------------------------------------------------------------


def test_the_default_market_is_90_days_of_consecutive_minutes_from_2024(
    market: SampleMarket,
) -> None:
    ts = market.candles.ts
    assert len(ts) == 90 * DAY_MINUTES
    assert ts[0] == START_2024
    assert np.all(np.diff(ts) == 60_000)


def test_the_candles_pass_validation_as_1m_bars(market: SampleMarket) -> None:
    validate_candles(market.candles, Timeframe.parse("1m"), market.label)


def test_every_open_is_the_previous_close(market: SampleMarket) -> None:
    c = market.candles
    assert np.array_equal(c.open[1:], c.close[:-1])
    assert c.open[0] == 42_000.0


def test_prices_sit_on_the_tenth_of_a_dollar_tick(market: SampleMarket) -> None:
    for name in ("open", "high", "low", "close"):
        prices = getattr(market.candles, name)
        assert np.array_equal(prices, np.rint(prices * 10) / 10), name


def test_wicks_are_real_most_bars_have_a_high_above_and_a_low_below_the_body(
    market: SampleMarket,
) -> None:
    c = market.candles
    assert np.mean(c.high > np.maximum(c.open, c.close)) > 0.5
    assert np.mean(c.low < np.minimum(c.open, c.close)) > 0.5


def test_the_label_says_generated_and_not_real() -> None:
    market = generate_sample_market(seed=3, minutes=10)
    assert market.label == "generated sample market (seed 3) — not real prices"
    assert market.seed == 3


def test_nonsense_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="minute-aligned"):
        generate_sample_market(start_ms=START_2024 + 1)
    with pytest.raises(ValueError, match="positive"):
        generate_sample_market(minutes=0)


# --- determinism -----------------------------------------------------------------------------


def test_the_same_seed_gives_byte_identical_arrays() -> None:
    first, second = generate_sample_market(seed=11), generate_sample_market(seed=11)
    for name in CANDLE_COLUMNS:
        left, right = getattr(first.candles, name), getattr(second.candles, name)
        assert left.tobytes() == right.tobytes(), name
    assert first.funding.ts.tobytes() == second.funding.ts.tobytes()
    assert first.funding.rate.tobytes() == second.funding.rate.tobytes()


def test_different_seeds_give_different_markets() -> None:
    first, second = generate_sample_market(seed=1), generate_sample_market(seed=2)
    assert not np.array_equal(first.candles.close, second.candles.close)
    assert not np.array_equal(first.funding.rate, second.funding.rate)


# --- statistics a BTC trader would recognise --------------------------------------------------


def test_volatility_clusters_absolute_returns_are_autocorrelated_raw_returns_are_not(
    market: SampleMarket,
) -> None:
    returns = _log_returns(market)
    for lag in range(1, 11):
        absolute = _autocorrelation(np.abs(returns), lag)
        raw = _autocorrelation(returns, lag)
        assert absolute > 0.1, lag
        assert absolute > abs(raw) + 0.1, lag


def test_returns_are_fat_tailed(market: SampleMarket) -> None:
    returns = _log_returns(market)
    centred = returns - returns.mean()
    kurtosis = float(np.mean(centred**4) / np.mean(centred**2) ** 2)
    assert kurtosis > 3


def test_volatility_is_in_the_range_bitcoin_has_known(market: SampleMarket) -> None:
    returns = _log_returns(market)
    annualised = float(returns.std() * np.sqrt(MINUTES_PER_YEAR))
    daily = float(np.diff(np.log(market.candles.close[::DAY_MINUTES])).std())
    assert 0.4 < annualised < 0.9
    assert 0.015 < daily < 0.06


def test_there_are_up_trends_and_down_trends_of_several_percent_over_two_days(
    market: SampleMarket,
) -> None:
    close = market.candles.close
    two_days = np.log(close[2 * DAY_MINUTES :] / close[: -2 * DAY_MINUTES])
    assert two_days.max() > 0.05
    assert two_days.min() < -0.05


def test_the_us_afternoon_moves_more_than_the_asian_night(market: SampleMarket) -> None:
    moves = np.abs(_log_returns(market))
    hour = (market.candles.ts[1:] // 3_600_000) % 24
    assert moves[(hour >= 13) & (hour < 17)].mean() > 1.3 * moves[(hour >= 1) & (hour < 5)].mean()


def test_weekends_trade_less_volume(market: SampleMarket) -> None:
    c = market.candles
    weekday = (c.ts // 86_400_000 + 3) % 7  # 0 = Monday
    assert c.volume[weekday >= 5].mean() < 0.7 * c.volume[weekday < 5].mean()


def test_volume_rises_with_the_size_of_the_move(market: SampleMarket) -> None:
    moves = np.abs(_log_returns(market))
    assert np.corrcoef(market.candles.volume[1:], moves)[0, 1] > 0.3
    assert np.all(market.candles.volume > 0)


# --- funding ---------------------------------------------------------------------------------


def test_funding_settles_every_eight_hours_at_00_08_16_utc(market: SampleMarket) -> None:
    ts = market.funding.ts
    assert len(ts) == 90 * 3
    assert ts[0] == START_2024
    assert np.all(ts % EIGHT_HOURS == 0)
    assert np.all(np.diff(ts) == EIGHT_HOURS)
    validate_funding(market.funding, market.label)


def test_funding_rates_look_like_bybit_btc_funding(market: SampleMarket) -> None:
    rate = market.funding.rate
    assert np.all(np.abs(rate) <= 0.0075)
    assert 0.0 < float(np.median(rate)) <= 0.0002
    # Bybit's formula pins the rate at the 0.01 % interest rate while the premium is small...
    assert np.mean(rate == 0.0001) > 0.2
    # ...and it leaves the band both ways with the trend.
    assert rate.max() > 0.0003
    assert rate.min() < 0.0


def test_funding_follows_the_trend_of_the_day_before(market: SampleMarket) -> None:
    close, ts = market.candles.close, market.candles.ts
    index = np.searchsorted(ts, market.funding.ts[3:]) - 1  # last closed bar before settlement
    trend = np.log(close[index] / close[index - DAY_MINUTES])
    assert np.corrcoef(trend, market.funding.rate[3:])[0, 1] > 0.2


def test_a_short_market_that_starts_mid_interval_funds_only_inside_its_span() -> None:
    start = START_2024 + 60_000 * 7  # 00:07, so the 00:00 settlement is before the first bar
    market = generate_sample_market(start_ms=start, minutes=DAY_MINUTES)  # to 00:07 next day
    assert market.funding.ts.tolist() == [START_2024 + k * EIGHT_HOURS for k in (1, 2, 3)]


# --- the store -------------------------------------------------------------------------------


def test_ensure_writes_the_sample_as_generated_data_with_its_label(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    info = ensure_sample_market(store)
    expected = generate_sample_market()
    assert info.key == DatasetKey(SAMPLE_EXCHANGE, "BTCUSDT", Timeframe.parse("1m"))
    assert info.generated
    assert info.source == expected.label
    assert store.load_candles(info.key) == expected.candles
    funding = store.info(DatasetKey(SAMPLE_EXCHANGE, "BTCUSDT", None))
    assert funding.generated
    assert store.load_funding(SAMPLE_EXCHANGE, "BTCUSDT") == expected.funding


def test_ensure_is_idempotent_and_never_rewrites_the_files(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    first = ensure_sample_market(store)
    stamp = first.path.stat().st_mtime_ns
    second = ensure_sample_market(store)
    assert second == first
    assert second.path.stat().st_mtime_ns == stamp


def test_ensure_completes_a_sample_whose_funding_went_missing(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    ensure_sample_market(store, seed=7)
    funding_key = DatasetKey(SAMPLE_EXCHANGE, "BTCUSDT", None)
    store.delete(funding_key)
    ensure_sample_market(store, seed=7)
    assert store.load_funding(SAMPLE_EXCHANGE, "BTCUSDT") == generate_sample_market().funding
