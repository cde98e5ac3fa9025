"""Which stored data a backtest runs on: real before generated, the play's timeframe first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeplay.backtesting import choose_dataset
from tradeplay.data.resample import resample
from tradeplay.data.sample import generate_sample_market
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.domain.errors import DataNotFoundError
from tradeplay.domain.timeframe import Timeframe

M1, M15, H1, H4 = (Timeframe.parse(t) for t in ("1m", "15m", "1h", "4h"))


@pytest.fixture
def store(tmp_path: Path) -> CandleStore:
    store = CandleStore(tmp_path)
    minutes = generate_sample_market(seed=2, minutes=3 * 24 * 60).candles
    store.write_candles(DatasetKey("sample", "BTCUSDT", M1), minutes, source="gen", generated=True)
    store.write_candles(DatasetKey("bybit", "BTCUSDT", M15), resample(minutes, M1, M15), source="x")
    store.write_candles(DatasetKey("bybit", "BTCUSDT", H4), resample(minutes, M1, H4), source="x")
    return store


def test_real_data_wins_over_generated_and_a_dividing_timeframe_is_resampled(
    store: CandleStore,
) -> None:
    chosen = choose_dataset(store, "BTCUSDT", H1)
    assert (chosen.key.exchange, chosen.key.timeframe) == ("bybit", M15)


def test_the_plays_own_timeframe_wins_over_a_smaller_one(store: CandleStore) -> None:
    assert choose_dataset(store, "BTCUSDT", H4).key.timeframe == H4


def test_generated_data_is_used_only_when_nothing_real_fits(store: CandleStore) -> None:
    chosen = choose_dataset(store, "BTCUSDT", Timeframe.parse("5m"))
    assert (chosen.key.exchange, chosen.generated) == ("sample", True)


def test_no_usable_data_says_how_to_get_some(store: CandleStore) -> None:
    with pytest.raises(DataNotFoundError, match="tradeplay data download ETHUSDT"):
        choose_dataset(store, "ETHUSDT", H1)
