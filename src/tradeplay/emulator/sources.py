"""Where the replayed bars come from: the candle store (real before generated) or the sample.

The store is searched as the backtester searches it (:func:`tradeplay.backtesting.
choose_dataset`): real candles before generated ones, the asked-for timeframe before a smaller
one that divides it (which is then resampled), then the longest. Stored funding rates of the
same exchange are replayed with them; without any, Bybit's baseline constant rate applies.
"""

from __future__ import annotations

from collections.abc import Sequence

from tradeplay.backtesting import choose_dataset
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.resample import resample
from tradeplay.data.sample import SAMPLE_SYMBOL, SAMPLE_TIMEFRAME, generate_sample_market
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.domain.errors import DataNotFoundError, InputError
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
    for symbol in symbols:
        dataset = choose_dataset(store, symbol, timeframe)
        base = dataset.key.timeframe
        assert base is not None  # choose_dataset picks candle datasets only
        bars = resample(store.load_candles(dataset.key, start_ms, until_ms), base, timeframe)
        if len(bars) == 0:
            raise DataNotFoundError(f"{dataset.key}: no complete {timeframe} bar in that range")
        candles[bybit_linear(symbol)] = bars
        funding_key = DatasetKey(dataset.key.exchange, symbol, None)
        if store.exists(funding_key):
            funding[symbol] = store.load_funding(dataset.key.exchange, symbol, start_ms, until_ms)
        label = "GENERATED" if dataset.generated else "real"
        sources.append(f"{symbol} {dataset.key.exchange}/{base} ({label}: {dataset.source})")
    return Market.from_candles(candles, timeframe, funding=funding, label="; ".join(sources))


def sample_market(*, seed: int = 7, days: int = 30, timeframe: Timeframe | None = None) -> Market:
    """The generated BTCUSDT sample market (not real prices), without touching the store."""
    if days < 1:
        raise InputError(f"--sample-days {days} must be at least 1")
    sample = generate_sample_market(seed=seed, minutes=days * 1_440)
    target = timeframe or SAMPLE_TIMEFRAME
    bars = resample(sample.candles, SAMPLE_TIMEFRAME, target)
    return Market.from_candles(
        {bybit_linear(SAMPLE_SYMBOL): bars},
        target,
        funding={SAMPLE_SYMBOL: sample.funding},
        label=f"BTCUSDT {target}: {sample.label}",
    )
