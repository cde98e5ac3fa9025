"""Where the replayed bars come from: the candle store (real before generated) or the sample.

The store is read as the backtester reads it (:func:`tradeplay.backtesting.load_market`): real
candles before generated ones, the asked-for timeframe before a smaller one that divides it
(which is then resampled), then the longest. Stored funding rates of the
same exchange are replayed with them; without any, Bybit's baseline constant rate applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.backtesting import load_market
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.resample import resample
from tradeplay.data.sample import (
    SAMPLE_START_PRICE,
    SAMPLE_SYMBOL,
    SAMPLE_TIMEFRAME,
    generate_sample_market,
    sample_label,
)
from tradeplay.data.store import CandleStore
from tradeplay.domain.errors import InputError
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Symbol
from tradeplay.emulator.market import Market

__all__ = ["market_from_store", "sample_market"]


def market_from_store(
    store: CandleStore,
    symbols: Sequence[Symbol],
    timeframe: Timeframe,
    *,
    start_ms: int | None = None,
    until_ms: int | None = None,
) -> Market:
    """The stored bars of ``symbols`` in ``[start_ms, until_ms)`` as ``timeframe`` bars."""
    candles: dict[Instrument, Candles] = {}
    funding: dict[Symbol, FundingRates] = {}
    sources = []
    for name in symbols:
        symbol = Symbol(name.upper())
        stored = load_market(store, symbol, timeframe, start_ms, until_ms)
        candles[bybit_linear(symbol)] = stored.candles
        if stored.funding is not None:
            funding[symbol] = stored.funding
        dataset = stored.dataset
        label = "GENERATED" if dataset.generated else "real"
        where = f"{dataset.key.exchange}/{dataset.key.timeframe}"
        sources.append(f"{symbol} {where} ({label}: {dataset.source})")
    return Market.from_candles(candles, timeframe, funding=funding, label="; ".join(sources))


#: Where each built-in symbol's generated market starts: about its early-2024 price, so orders
#: meet the instrument's real tick, step and minimum sizes at a plausible level. The paths are
#: generated (BTCUSDT's sample path rescaled), not real prices.
_SAMPLE_START_PRICES: Final[dict[str, float]] = {
    "ADAUSDT": 0.6,
    "BNBUSDT": 310.0,
    "BTCUSDT": SAMPLE_START_PRICE,
    "DOGEUSDT": 0.09,
    "ETHUSDT": 2_300.0,
    "LTCUSDT": 70.0,
    "SOLUSDT": 100.0,
    "XRPUSDT": 0.6,
}


def sample_market(
    *,
    symbols: Sequence[Symbol] = (SAMPLE_SYMBOL,),
    seed: int = 7,
    days: int = 30,
    timeframe: Timeframe | None = None,
) -> Market:
    """The generated sample market (not real prices) of ``symbols``, without touching the store.

    BTCUSDT is the sample every command generates from ``seed``; every other symbol follows a
    path of its own (its own seed, derived from ``seed`` and the symbol's place in the catalog),
    rescaled to its price level and tick, its volume scaled the other way so the turnover in
    USDT stays that of the sample."""
    if days < 1:
        raise InputError(f"--sample-days {days} must be at least 1")
    target = timeframe or SAMPLE_TIMEFRAME
    candles: dict[Instrument, Candles] = {}
    funding: dict[Symbol, FundingRates] = {}
    for name in dict.fromkeys(symbol.strip().upper() for symbol in symbols):
        instrument = bybit_linear(name)
        if name not in _SAMPLE_START_PRICES:  # pragma: no cover - every catalog symbol is listed
            raise InputError(f"--symbol {name}: no generated sample market for it")
        place = sorted(_SAMPLE_START_PRICES).index(name)
        own_seed = seed if name == SAMPLE_SYMBOL else seed + 1 + place
        sample = generate_sample_market(seed=own_seed, minutes=days * 1_440)
        bars = _rescaled(
            sample.candles, _SAMPLE_START_PRICES[name] / SAMPLE_START_PRICE, instrument
        )
        candles[instrument] = resample(bars, SAMPLE_TIMEFRAME, target)
        funding[name] = sample.funding
    names = ", ".join(candles_of.symbol for candles_of in candles)
    return Market.from_candles(
        candles,
        target,
        funding=funding,
        label=f"{names} {target}: {sample_label(seed)}",
    )


def _rescaled(candles: Candles, factor: float, instrument: Instrument) -> Candles:
    """``candles`` with prices times ``factor`` on ``instrument``'s tick (rounding keeps every
    open equal to the previous close and the high and low outside them) and volume divided by
    it."""
    if factor == 1.0:
        return candles
    tick = float(instrument.tick_size)
    decimals = max(0, -instrument.tick_size.as_tuple().exponent)  # type: ignore[operator]

    def price(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.round(np.maximum(np.round(values * factor / tick), 1.0) * tick, decimals)

    return Candles(
        ts=candles.ts,
        open=price(candles.open),
        high=price(candles.high),
        low=price(candles.low),
        close=price(candles.close),
        volume=candles.volume / factor,
    )
