"""A generated BTCUSDT-like 1-minute market for working offline, always labelled as generated.

When no real candles are on the machine, tradeplay still needs a market to backtest, replay and
demo against. This module makes one that *behaves* like a crypto perpetual, so that strategies,
indicators and the simulator meet the features they will meet in real data, while every dataset
it writes says plainly that its prices are not real.

What makes it look like BTC (each choice is commented where it is made):

* **volatility clustering** -- GARCH(1,1) on standardised 1-minute shocks, Student-t innovations;
* **seasonality** -- more volatility and volume around the US session, less at weekends;
* **regimes** -- a Markov chain of up-trends, down-trends and mean-reverting ranges lasting days;
* **jumps** -- rare, fat-tailed Poisson jumps that also feed the volatility recursion;
* **consistent OHLC** -- high and low come from a Brownian bridge of sub-minute steps between the
  open and the close, every open is the previous close, prices sit on the 0.1 USDT tick;
* **volume** rising with the size of the move;
* **funding** every 8 h at 00/08/16 UTC from Bybit's formula over a premium that follows the trend.

Everything is drawn from one ``numpy.random.default_rng(seed)`` in a fixed order, so the same
seed gives byte-identical arrays. Only the GARCH / price recursion is a Python loop (a variance
that depends on the previous shock cannot be vectorised); 90 days take about a tenth of a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.store import CandleStore, DatasetInfo, DatasetKey
from tradeplay.domain.timeframe import Timeframe

__all__ = [
    "SAMPLE_EXCHANGE",
    "SAMPLE_START_PRICE",
    "SAMPLE_SYMBOL",
    "SAMPLE_TIMEFRAME",
    "SampleMarket",
    "ensure_sample_market",
    "generate_sample_market",
]

SAMPLE_EXCHANGE: Final = "sample"
SAMPLE_SYMBOL: Final = "BTCUSDT"
SAMPLE_TIMEFRAME: Final = Timeframe.parse("1m")
SAMPLE_START_PRICE: Final = 42_000.0

_MINUTE_MS: Final = 60_000
_DAY_MINUTES: Final = 1_440
_WEEK_MINUTES: Final = 7 * _DAY_MINUTES
_FUNDING_INTERVAL_MS: Final = 8 * 3_600_000
_START_2024_MS: Final = 1_704_067_200_000  # 2024-01-01T00:00:00Z, a Monday

# Base volatility: BTC's realised volatility has mostly lived between 50 % and 70 % a year since
# 2020; 55 % before the regime and GARCH multipliers lands the generated series near 60 %.
_ANNUAL_VOL: Final = 0.55
_MINUTE_VOL: Final = _ANNUAL_VOL / math.sqrt(365 * _DAY_MINUTES)

# GARCH(1,1) on unit-variance shocks: h_t = (1 - a - b) + a * e_{t-1}^2 + b * h_{t-1}.
# a + b = 0.995 gives a half-life of ~2.3 h for a volatility burst, the scale seen in BTC 1m data
# (|return| autocorrelation still ~0.2 after ten minutes); the regimes add the day-scale memory.
# a stays small enough that the returns keep a finite fourth moment with these innovations
# ((a + b)^2 + (kurtosis - 1) * a^2 < 1), so kurtosis is fat but stable from seed to seed.
_GARCH_ALPHA: Final = 0.03
_GARCH_BETA: Final = 0.965
# Student-t with 6 degrees of freedom: kurtosis 6 for the innovations themselves.
_T_DOF: Final = 6.0

# Jumps: about one every two days (liquidation cascades, news), Laplace sized with a 0.2 % scale,
# so a few moves of ~1 % in a minute happen in a quarter. They enter the GARCH recursion too,
# because a real crash is followed by a nervous market.
_JUMPS_PER_DAY: Final = 0.5
_JUMP_SCALE: Final = 0.002

# Regimes: 0 = range, 1 = up-trend, 2 = down-trend. Mean durations in days; exponential lengths
# with a six-hour floor so a "trend" is never a blip.
_RANGE, _UP, _DOWN = 0, 1, 2
_MEAN_DAYS: Final = (3.0, 2.5, 2.0)
_MIN_REGIME_MINUTES: Final = 360
# Where the chain goes next: ranges break either way; trends mostly pause in a range, sometimes
# reverse outright (a V-shaped reversal).
_TRANSITIONS: Final = ((0.0, 0.5, 0.5), (0.7, 0.0, 0.3), (0.7, 0.3, 0.0))
# Trend strength: a typical trend drifts ~1.5 % a day, visible against ~3 % daily noise over its
# few days of life without turning the quarter into a rocket or a crash. Down-trends are faster
# than up-trends, as in crypto ("up the stairs, down the elevator").
_TREND_PER_DAY: Final = 0.015
_DOWN_SPEED: Final = 1.3
# Ranges pull the log price back to where the range began with a half-life of ~8 hours.
_RANGE_PULL: Final = math.log(2) / (8 * 60)

_SUBSTEPS: Final = 8  # sub-minute steps that draw each bar's high and low
_TICKS_PER_USDT: Final = 10  # BTCUSDT perpetual tick size on Bybit: 0.1
_STEPS_PER_BTC: Final = 1_000  # BTCUSDT quantity step: 0.001; volumes are in BTC
_BASE_VOLUME: Final = 25.0  # BTC per minute, roughly Bybit BTCUSDT perpetual activity

# Funding (Bybit): rate = P + clamp(I - P, -0.05 %, +0.05 %), I = 0.01 % interest per 8 h, then
# capped at +-0.75 %. So the rate sits exactly at 0.01 % until the premium P leaves the band;
# real BTC settlements show the same pile-up at 0.01 % (a third of Binance's since 2019).
_FUNDING_INTEREST: Final = 0.0001
_FUNDING_BAND: Final = 0.0005
_FUNDING_CAP: Final = 0.0075
_PREMIUM_PER_TREND: Final = 0.015  # premium per unit of 24 h log return: leverage chases trends
_PREMIUM_MEMORY: Final = 0.6  # AR(1) weight: the premium mean-reverts towards the trend level
_PREMIUM_NOISE: Final = 0.0003
# Perpetual buyers usually outnumber sellers: the premium leans positive, and so does funding
# (BTC's long-run average is a little above 0.01 % per 8 h).
_PREMIUM_BIAS: Final = 0.0001


@dataclass(frozen=True, slots=True)
class SampleMarket:
    """A generated market: 1-minute candles, 8-hourly funding, and the label that marks them."""

    candles: Candles
    funding: FundingRates
    seed: int
    label: str


@dataclass(frozen=True, slots=True)
class _Regimes:
    """Per-minute regime inputs for the price recursion."""

    drift: NDArray[np.float64]  # log return per minute added in trends
    pull: NDArray[np.float64]  # mean-reversion speed per minute in ranges (0 in trends)
    starts: NDArray[np.bool_]  # True on the first minute of each regime (the range's anchor)
    vol: NDArray[np.float64]  # volatility multiplier of the regime


def sample_label(seed: int) -> str:
    """The words every generated dataset carries as its source."""
    return f"generated sample market (seed {seed}) — not real prices"


def generate_sample_market(
    *,
    seed: int = 7,
    start_ms: int = _START_2024_MS,
    minutes: int = 60 * 24 * 90,
    start_price: float = SAMPLE_START_PRICE,
) -> SampleMarket:
    """Generate ``minutes`` 1-minute bars from ``start_ms`` and the funding settlements within.

    Deterministic: the same arguments give byte-identical arrays.
    """
    if minutes <= 0 or start_price <= 0 or not SAMPLE_TIMEFRAME.is_aligned(start_ms):
        raise ValueError("minutes and start_price must be positive and start_ms minute-aligned")
    rng = np.random.default_rng(seed)
    ts = start_ms + _MINUTE_MS * np.arange(minutes, dtype=np.int64)
    vol_season, volume_season = _seasonality(ts)
    regimes = _regimes(rng, minutes)
    scale = _MINUTE_VOL * vol_season * regimes.vol  # unconditional sigma of each minute
    shocks = rng.standard_t(_T_DOF, minutes) / math.sqrt(_T_DOF / (_T_DOF - 2))
    jumps = _jumps(rng, minutes)
    returns, sigma = _price_path(shocks, jumps / scale, scale, regimes)
    open_, high, low, close = _ohlc(rng, math.log(start_price), returns, sigma)
    volume = _volumes(rng, returns, scale, volume_season)
    candles = Candles(ts=ts, open=open_, high=high, low=low, close=close, volume=volume)
    funding = _funding(rng, ts, close)
    return SampleMarket(candles=candles, funding=funding, seed=seed, label=sample_label(seed))


def _seasonality(ts: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Volatility and volume multipliers by minute of the week (UTC).

    Crypto trades around the clock but not evenly: activity peaks when the US session overlaps
    Europe (~14-16 UTC) and is lowest late in the US evening / early Asia, and weekends are
    quieter (~70 % of weekday volatility, ~50 % of the volume). Volume swings more than volatility.
    The volatility factor is normalised over a whole week, so the base volatility stays the
    annual figure above.
    """

    def factors(minute_of_week: NDArray[np.int64]) -> tuple[NDArray[np.float64], ...]:
        hour = (minute_of_week % _DAY_MINUTES) / 60.0
        weekend = (minute_of_week // _DAY_MINUTES) >= 5  # Monday = day 0
        daily = np.cos(2 * np.pi * (hour - 15.0) / 24.0)
        vol = (1.0 + 0.3 * daily) * np.where(weekend, 0.7, 1.0)
        volume = (1.0 + 0.5 * daily) * np.where(weekend, 0.5, 1.0)
        return vol, volume

    week_vol, week_volume = factors(np.arange(_WEEK_MINUTES, dtype=np.int64))
    # Unix day 0 (1970-01-01) was a Thursday: shift so that day 0 of the week is a Monday.
    minute_of_week = (ts // _MINUTE_MS + 3 * _DAY_MINUTES) % _WEEK_MINUTES
    vol, volume = factors(minute_of_week)
    return vol / np.sqrt(np.mean(week_vol**2)), volume / np.mean(week_volume)


def _regimes(rng: np.random.Generator, minutes: int) -> _Regimes:
    """Draw a Markov chain of range / up / down regimes and expand it to one value per minute."""
    count = minutes // _MIN_REGIME_MINUTES + 2  # enough regimes to cover the span, always
    uniforms = rng.random(count)
    lengths_days = rng.exponential(1.0, count)
    strength = rng.lognormal(0.0, 0.4, count)  # how steep this trend / how firm this range
    vol_mult = rng.lognormal(0.0, 0.25, count)  # calm and nervous periods last days
    states = np.empty(count, dtype=np.int64)
    states[0] = _RANGE
    cumulative = np.cumsum(_TRANSITIONS, axis=1)
    for i in range(1, count):  # a few hundred steps at most: not worth vectorising
        states[i] = min(int(np.searchsorted(cumulative[states[i - 1]], uniforms[i])), 2)
    mean_minutes = np.array(_MEAN_DAYS)[states] * _DAY_MINUTES
    lengths = np.maximum(_MIN_REGIME_MINUTES, (lengths_days * mean_minutes).astype(np.int64))
    index = np.repeat(np.arange(count), lengths)[:minutes]
    direction = np.select([states == _UP, states == _DOWN], [1.0, -_DOWN_SPEED], 0.0)
    drift = direction * strength * _TREND_PER_DAY / _DAY_MINUTES
    # Trends are a little more volatile than ranges.
    vol = vol_mult * np.where(states == _RANGE, 0.85, 1.1)
    starts = np.zeros(minutes, dtype=np.bool_)
    starts[np.flatnonzero(np.diff(index)) + 1] = True
    starts[0] = True
    pull = np.where(states == _RANGE, _RANGE_PULL * strength, 0.0)
    return _Regimes(drift=drift[index], pull=pull[index], starts=starts, vol=vol[index])


def _jumps(rng: np.random.Generator, minutes: int) -> NDArray[np.float64]:
    """Log-return jumps: Poisson arrivals with Laplace (double-exponential) sizes."""
    arrivals = rng.random(minutes) < _JUMPS_PER_DAY / _DAY_MINUTES
    sizes = rng.laplace(0.0, _JUMP_SCALE, minutes)
    return np.where(arrivals, sizes, 0.0)


def _price_path(
    shocks: NDArray[np.float64],
    jumps_std: NDArray[np.float64],
    scale: NDArray[np.float64],
    regimes: _Regimes,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Run GARCH(1,1) and the regime drift / range pull; return log returns and their sigma.

    A plain loop over Python floats (``tolist`` first: numpy scalar access would be ~5x slower).
    ``jumps_std`` is the jump in units of the minute's scale, so it feeds the variance recursion.
    """
    omega = 1.0 - _GARCH_ALPHA - _GARCH_BETA
    z, j, s = shocks.tolist(), jumps_std.tolist(), scale.tolist()
    mu, k, new = regimes.drift.tolist(), regimes.pull.tolist(), regimes.starts.tolist()
    returns = [0.0] * len(z)
    sigmas = [0.0] * len(z)
    h, e2, x, anchor = 1.0, 1.0, 0.0, 0.0  # x: log price relative to the start
    for t in range(len(z)):
        if new[t]:
            anchor = x
        h = omega + _GARCH_ALPHA * e2 + _GARCH_BETA * h
        root = math.sqrt(h)
        e = root * z[t] + j[t]
        e2 = e * e
        r = mu[t] - k[t] * (x - anchor) + s[t] * e
        x += r
        returns[t] = r
        sigmas[t] = s[t] * root
    return np.array(returns), np.array(sigmas)


def _on_grid(values: NDArray[np.float64], per_unit: int) -> NDArray[np.float64]:
    """Round to a grid of ``1 / per_unit``: the double nearest the decimal the exchange prints.

    ``rint(p / 0.1) * 0.1`` would leave values like 42000.100000000006; dividing the integer
    count by ``per_unit`` is correctly rounded.
    """
    return np.rint(values * per_unit) / per_unit


def _on_tick(price: NDArray[np.float64]) -> NDArray[np.float64]:
    return _on_grid(price, _TICKS_PER_USDT)


def _ohlc(
    rng: np.random.Generator,
    log_start: float,
    returns: NDArray[np.float64],
    sigma: NDArray[np.float64],
) -> tuple[NDArray[np.float64], ...]:
    """OHLC from the log returns; high / low from a Brownian bridge of sub-minute steps.

    The bridge starts at the open and ends exactly at the close, with the minute's own volatility,
    so the wick length is consistent with the move and with the volatility regime.
    """
    log_close = log_start + np.cumsum(returns)
    log_open = np.concatenate(([log_start], log_close[:-1]))
    steps = rng.standard_normal((len(returns), _SUBSTEPS)) * (sigma / math.sqrt(_SUBSTEPS))[:, None]
    walk = np.cumsum(steps, axis=1)
    fraction = np.arange(1, _SUBSTEPS + 1) / _SUBSTEPS
    bridge = walk - fraction * (walk[:, -1] - returns)[:, None]
    close = _on_tick(np.exp(log_close))
    open_ = np.concatenate((_on_tick(np.exp([log_start])), close[:-1]))
    high = _on_tick(np.exp(log_open + np.maximum(bridge.max(axis=1), 0.0)))
    low = _on_tick(np.exp(log_open + np.minimum(bridge.min(axis=1), 0.0)))
    # Rounding can put a wick a tick inside the body; the body always wins.
    high = np.maximum(high, np.maximum(open_, close))
    low = np.minimum(low, np.minimum(open_, close))
    return open_, high, low, close


def _volumes(
    rng: np.random.Generator,
    returns: NDArray[np.float64],
    scale: NDArray[np.float64],
    season: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Volume in BTC: seasonal base, more on big moves, lognormal noise, on the quantity step."""
    surprise = np.abs(returns) / scale  # size of the move relative to what is normal now
    noise = rng.lognormal(-0.5 * 0.45**2, 0.45, len(returns))  # mean 1
    volume = _BASE_VOLUME * season * (0.35 + 0.65 * surprise) * noise
    return np.maximum(_on_grid(volume, _STEPS_PER_BTC), 1 / _STEPS_PER_BTC)


def _funding(
    rng: np.random.Generator, ts: NDArray[np.int64], close: NDArray[np.float64]
) -> FundingRates:
    """Funding at every 00/08/16 UTC settlement inside the candles' span.

    The premium of the perpetual over the index follows the last 24 h of price trend (leveraged
    longs crowd in after rallies), mean-reverting as an AR(1) with noise; Bybit's formula then
    turns it into the rate.
    """
    first = -(-int(ts[0]) // _FUNDING_INTERVAL_MS) * _FUNDING_INTERVAL_MS
    end = int(ts[-1]) + _MINUTE_MS
    settle = np.arange(first, end, _FUNDING_INTERVAL_MS, dtype=np.int64)
    # The trend known at a settlement: the last closed bar against the one 24 h earlier.
    last = (settle - int(ts[0])) // _MINUTE_MS - 1
    earlier = np.maximum(last - _DAY_MINUTES, 0)
    trend = np.where(last >= 0, np.log(close[np.maximum(last, 0)] / close[earlier]), 0.0)
    noise = rng.normal(0.0, _PREMIUM_NOISE, len(settle)).tolist()
    target = (_PREMIUM_BIAS + _PREMIUM_PER_TREND * trend).tolist()
    premium, level = [0.0] * len(settle), 0.0
    for i in range(len(settle)):
        level = _PREMIUM_MEMORY * level + (1 - _PREMIUM_MEMORY) * target[i] + noise[i]
        premium[i] = level
    p = np.array(premium)
    rate = p + np.clip(_FUNDING_INTEREST - p, -_FUNDING_BAND, _FUNDING_BAND)
    rate = np.round(np.clip(rate, -_FUNDING_CAP, _FUNDING_CAP), 8)  # Bybit prints 8 decimals
    return FundingRates(ts=settle, rate=rate)


def ensure_sample_market(store: CandleStore, *, seed: int = 7) -> DatasetInfo:
    """Write the sample market (1m candles and funding) into ``store`` unless it is there already.

    Idempotent: a second call writes nothing and returns the stored dataset. Each part is
    checked on its own, so a run interrupted between the two completes the missing one.
    Everything is stored with ``generated=True`` and the label as its source.
    """
    candle_key = DatasetKey(SAMPLE_EXCHANGE, SAMPLE_SYMBOL, SAMPLE_TIMEFRAME)
    funding_key = DatasetKey(SAMPLE_EXCHANGE, SAMPLE_SYMBOL, None)
    if store.exists(candle_key) and store.exists(funding_key):
        return store.info(candle_key)
    market = generate_sample_market(seed=seed)
    if not store.exists(funding_key):
        store.write_funding(
            SAMPLE_EXCHANGE, SAMPLE_SYMBOL, market.funding, source=market.label, generated=True
        )
    if store.exists(candle_key):
        return store.info(candle_key)
    # Candles last: their presence is what the quick path above trusts.
    return store.write_candles(candle_key, market.candles, source=market.label, generated=True)
