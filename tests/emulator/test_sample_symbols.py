"""The generated sample market of several symbols: each at its own level, on its own tick."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradeplay.data.resample import resample
from tradeplay.data.sample import ensure_sample_market, generate_sample_market
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.domain.errors import DataNotFoundError, UnknownInstrumentError
from tradeplay.domain.instruments_bybit import bybit_linear, bybit_linear_symbols
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Symbol
from tradeplay.emulator.sources import market_from_store, sample_market
from tradeplay.features.compute import bar_matrix
from tradeplay.sim.funding import FundingBasis

FIVE_MINUTES = Timeframe.parse("5m")
ONE_MINUTE = Timeframe.parse("1m")


def test_every_built_in_symbol_has_a_sample_on_its_tick_that_hangs_together() -> None:
    market = sample_market(symbols=bybit_linear_symbols(), days=1)
    assert sorted(market.symbols) == sorted(bybit_linear_symbols())
    closes = {}
    for symbol, replayed in market.symbols.items():
        bars = replayed.bars
        tick = bybit_linear(symbol).tick_size
        prices = bars[:, 1:5].ravel()
        assert all(Decimal(str(float(p))) % tick == 0 for p in prices[:500]), symbol
        assert np.all(bars[1:, 1] == bars[:-1, 4]), f"{symbol}: an open is not the last close"
        assert np.all(bars[:, 2] >= np.maximum(bars[:, 1], bars[:, 4])), symbol
        assert np.all(bars[:, 3] <= np.minimum(bars[:, 1], bars[:, 4])), symbol
        closes[symbol] = bars[:, 4]
    assert 0.05 < closes["DOGEUSDT"][0] < 0.15
    assert 1_500 < closes["ETHUSDT"][0] < 3_000
    # Each symbol its own path, not one path at other levels.
    moves = {s: np.sign(np.diff(c[:200])) for s, c in closes.items()}
    assert not np.array_equal(moves["ETHUSDT"], moves["BTCUSDT"])


def test_btcusdt_is_the_same_sample_alone_or_with_others() -> None:
    alone = sample_market(days=1).symbols["BTCUSDT"].bars
    together = sample_market(symbols=("ETHUSDT", "BTCUSDT"), days=1).symbols["BTCUSDT"].bars
    assert np.array_equal(alone, together)


def test_a_symbol_without_a_definition_is_refused_by_name() -> None:
    with pytest.raises(UnknownInstrumentError, match="no built-in Bybit linear instrument 'PEPE"):
        sample_market(symbols=("PEPEUSDT",), days=1)


def test_a_stored_market_is_replayed_as_the_backtester_reads_it(tmp_path: Path) -> None:
    """The store's sample, 1-minute candles with their funding, replayed as 5-minute bars:
    the bars a backtest of the same range gets, labelled as generated, with the stored rates."""
    store = CandleStore(tmp_path)
    ensure_sample_market(store)
    start = int(generate_sample_market(minutes=1).candles.ts[0])
    until = start + 86_400_000
    market = market_from_store(
        store, [Symbol("btcusdt")], FIVE_MINUTES, start_ms=start, until_ms=until
    )
    replayed = market.symbols["BTCUSDT"]
    minutes = store.load_candles(DatasetKey("sample", "BTCUSDT", ONE_MINUTE), start, until)
    assert np.array_equal(replayed.bars, bar_matrix(resample(minutes, ONE_MINUTE, FIVE_MINUTES)))
    assert len(replayed.bars) == 288
    first = replayed.bars[0]  # the first five minutes, by hand
    assert (first[1], first[4]) == (minutes.open[0], minutes.close[4])
    assert (first[2], first[3]) == (minutes.high[:5].max(), minutes.low[:5].min())
    assert market.label == (
        "BTCUSDT sample/1m (GENERATED: generated sample market (seed 7) — not real prices)"
    )
    assert replayed.funding.basis is FundingBasis.HISTORY
    assert replayed.funding.history == store.load_funding("sample", "BTCUSDT", start, until)


def test_a_symbol_missing_from_the_store_is_named_with_how_to_get_it(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    ensure_sample_market(store)
    with pytest.raises(DataNotFoundError, match="tradeplay data download ETHUSDT"):
        market_from_store(store, [Symbol("BTCUSDT"), Symbol("ETHUSDT")], FIVE_MINUTES)
