"""BybitHistory over a fake ccxt exchange: symbols, conversion, funding windows, errors, paging."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ccxt
import numpy as np
import pytest

from tradeplay.data.download import download_candles, download_funding
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.domain.errors import InputError, VenueRejectedError, VenueUnavailableError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.venues.bybit.history import BybitHistory, ccxt_symbol

MIN = 60_000
HOUR = 3_600_000
START = 1_704_067_200_000  # 2024-01-01T00:00Z
M1 = Timeframe.parse("1m")
BTC = "BTC/USDT:USDT"


def ohlcv_rows(count: int, start: int = START) -> list[list[Any]]:
    """ccxt's OHLCV rows: ``[ts, open, high, low, close, volume]``, ascending."""
    rows = []
    for i in range(count):
        price = 42_000.0 + i
        rows.append([start + i * MIN, price, price + 5.0, price - 5.0, price + 1.0, 1.5 + i])
    return rows


def funding_rows(stamps: list[int]) -> list[dict[str, Any]]:
    """ccxt's funding-rate-history entries."""
    return [
        {
            "info": {},
            "symbol": BTC,
            "fundingRate": (0.0001, 0.00015, -0.00002)[i % 3],
            "timestamp": ts,
        }
        for i, ts in enumerate(stamps)
    ]


@dataclass
class FakeExchange:
    """Stands in for ``ccxt.bybit``: answers like ccxt does over Bybit's endpoints, no network.

    Klines come from ``start`` forwards (Bybit's behaviour with ``start`` and no ``end``); funding
    answers with the newest ``limit`` settlements of ``[since, until]`` (Bybit's behaviour), sorted
    ascending as ccxt returns them. ``errors`` are raised, in turn, before any answer.
    """

    candles: list[list[Any]] = field(default_factory=list)
    funding: list[dict[str, Any]] = field(default_factory=list)
    funding_minutes: Any = 480
    errors: list[Exception] = field(default_factory=list)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def _answer(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.errors:
            raise self.errors.pop(0)

    def load_markets(self) -> dict[str, Any]:
        self._answer("load_markets")
        return {}

    def market(self, symbol: str) -> dict[str, Any]:
        self._answer("market", symbol)
        if symbol != BTC:
            raise ccxt.BadSymbol(f"bybit does not have market symbol {symbol}")
        return {
            "symbol": BTC,
            "info": {"symbol": "BTCUSDT", "fundingInterval": self.funding_minutes},
        }

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[list[Any]]:
        self._answer("fetch_ohlcv", symbol, timeframe, since, limit)
        self.market(symbol)
        return [row for row in self.candles if row[0] >= since][:limit]

    def fetch_funding_rate_history(
        self, symbol: str, since: int, limit: int, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        self._answer("fetch_funding_rate_history", symbol, since, limit, dict(params))
        self.market(symbol)
        window = [r for r in self.funding if since <= r["timestamp"] <= params["until"]]
        return window[-limit:]

    def requests(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]


def history(fake: FakeExchange, waits: list[float] | None = None) -> BybitHistory:
    return BybitHistory(exchange=fake, sleep=(waits if waits is not None else []).append)


# --- symbols and timeframes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "unified"),
    [
        ("BTCUSDT", "BTC/USDT:USDT"),
        ("ethusdt", "ETH/USDT:USDT"),
        ("1000PEPEUSDT", "1000PEPE/USDT:USDT"),
    ],
)
def test_bybit_symbols_map_to_ccxt_usdt_perpetuals(symbol: str, unified: str) -> None:
    assert ccxt_symbol(symbol) == unified


@pytest.mark.parametrize("symbol", ["BTCUSD", "USDT", "BTC/USDT", "BTC-USDT", ""])
def test_names_that_are_not_usdt_perpetuals_are_refused_with_an_example(symbol: str) -> None:
    with pytest.raises(InputError, match="BTCUSDT"):
        ccxt_symbol(symbol)


def test_a_timeframe_bybit_does_not_serve_is_refused_with_the_list() -> None:
    with pytest.raises(InputError, match=r"no 7m candles: expected one of 1m, 3m, 5m"):
        history(FakeExchange()).fetch_candles("BTCUSDT", Timeframe.parse("7m"), START, START, 10)


def test_60m_is_requested_as_ccxts_1h() -> None:
    fake = FakeExchange(candles=ohlcv_rows(1))
    history(fake).fetch_candles("BTCUSDT", Timeframe.parse("60m"), START, START + HOUR, 10)
    assert fake.requests("fetch_ohlcv")[0][1] == "1h"


# --- candles ---------------------------------------------------------------------------------


def test_ccxt_rows_become_candles_with_the_right_columns_and_dtypes() -> None:
    fake = FakeExchange(candles=ohlcv_rows(3))
    candles = history(fake).fetch_candles("BTCUSDT", M1, START, START + 10 * MIN, 1000)
    assert candles.ts.dtype == np.int64
    assert candles.ts.tolist() == [START, START + MIN, START + 2 * MIN]
    assert candles.open.tolist() == [42_000.0, 42_001.0, 42_002.0]
    assert candles.high.tolist() == [42_005.0, 42_006.0, 42_007.0]
    assert candles.low.tolist() == [41_995.0, 41_996.0, 41_997.0]
    assert candles.close.tolist() == [42_001.0, 42_002.0, 42_003.0]
    assert candles.volume.tolist() == [1.5, 2.5, 3.5]
    assert fake.requests("fetch_ohlcv") == [(BTC, "1m", START, 1000)]


def test_rows_out_of_order_come_back_oldest_first() -> None:
    fake = FakeExchange(candles=list(reversed(ohlcv_rows(3))))
    fake.fetch_ohlcv = lambda *args: fake.candles  # type: ignore[method-assign]
    candles = history(fake).fetch_candles("BTCUSDT", M1, START, START + 10 * MIN, 1000)
    assert candles.ts.tolist() == [START, START + MIN, START + 2 * MIN]


def test_a_request_asks_for_at_most_bybits_1000_bars() -> None:
    fake = FakeExchange(candles=ohlcv_rows(1_500))
    candles = history(fake).fetch_candles("BTCUSDT", M1, START, START + 2_000 * MIN, 5_000)
    assert fake.requests("fetch_ohlcv")[0][3] == 1000
    assert len(candles) == 1000


def test_bars_outside_since_until_are_cut_off() -> None:
    # Bybit may answer a mid-bar start with the bar that contains it, and always includes the
    # still-open bar at the end.
    fake = FakeExchange(candles=ohlcv_rows(10))
    fake.fetch_ohlcv = lambda *args: fake.candles  # type: ignore[method-assign]
    candles = history(fake).fetch_candles("BTCUSDT", M1, START + 2 * MIN, START + 5 * MIN, 1000)
    assert candles.ts.tolist() == [START + 2 * MIN, START + 3 * MIN, START + 4 * MIN]


def test_a_missing_value_becomes_nan_for_validation_to_report() -> None:
    rows = ohlcv_rows(2)
    rows[1][5] = None
    candles = history(FakeExchange(candles=rows)).fetch_candles(
        "BTCUSDT", M1, START, START + HOUR, 9
    )
    assert np.isnan(candles.volume[1])


def test_no_rows_is_an_empty_page() -> None:
    candles = history(FakeExchange()).fetch_candles("BTCUSDT", M1, START, START + HOUR, 1000)
    assert len(candles) == 0


# --- funding ---------------------------------------------------------------------------------


def test_funding_asks_for_a_window_that_holds_less_than_a_page() -> None:
    stamps = [START + i * 8 * HOUR for i in range(10)]
    fake = FakeExchange(funding=funding_rows(stamps))
    rates = history(fake).fetch_funding("BTCUSDT", START, START + 400 * 8 * HOUR, 200)
    assert rates.ts.tolist() == stamps
    assert rates.rate.tolist()[:3] == [0.0001, 0.00015, -0.00002]
    # 199 intervals of 8 h; Bybit's endTime is inclusive, so one ms less.
    assert fake.requests("fetch_funding_rate_history") == [
        (BTC, START, 200, {"until": START + 199 * 8 * HOUR - 1})
    ]


def test_the_window_follows_the_instruments_funding_interval() -> None:
    fake = FakeExchange(funding=funding_rows([START]), funding_minutes="60")
    history(fake).fetch_funding("BTCUSDT", START, START + 1000 * HOUR, 200)
    assert fake.requests("fetch_funding_rate_history")[0][3] == {"until": START + 199 * HOUR - 1}


def test_the_window_stops_at_until() -> None:
    fake = FakeExchange(funding=funding_rows([START]))
    history(fake).fetch_funding("BTCUSDT", START, START + 3 * 8 * HOUR, 200)
    assert fake.requests("fetch_funding_rate_history")[0][3] == {"until": START + 3 * 8 * HOUR - 1}


def test_empty_windows_before_the_listing_are_skipped_forwards() -> None:
    listing = START + 500 * 8 * HOUR
    fake = FakeExchange(funding=funding_rows([listing, listing + 8 * HOUR]))
    rates = history(fake).fetch_funding("BTCUSDT", START, listing + 100 * 8 * HOUR, 200)
    assert rates.ts.tolist() == [listing, listing + 8 * HOUR]
    starts = [args[1] for args in fake.requests("fetch_funding_rate_history")]
    assert starts == [START + k * 199 * 8 * HOUR for k in range(3)]


def test_nothing_up_to_until_gives_an_empty_page() -> None:
    fake = FakeExchange()
    rates = history(fake).fetch_funding("BTCUSDT", START, START + 10 * 8 * HOUR, 200)
    assert len(rates) == 0
    assert len(fake.requests("fetch_funding_rate_history")) == 1


def test_a_full_page_means_the_interval_shrank_and_the_window_is_narrowed() -> None:
    # The instrument says 8 h, but the symbol settles hourly: a 199 x 8 h window holds far more
    # than a page, and Bybit would answer with its newest 200 only, hiding the first ones.
    stamps = [START + i * HOUR for i in range(2_000)]
    fake = FakeExchange(funding=funding_rows(stamps))
    rates = history(fake).fetch_funding("BTCUSDT", START, START + 3_000 * HOUR, 200)
    assert rates.ts.tolist()[:3] == stamps[:3]  # the first settlements, not the newest
    assert rates.ts.tolist() == sorted(rates.ts.tolist())
    assert 0 < len(rates) < 200


def test_an_unknown_symbol_is_an_input_error_naming_it() -> None:
    with pytest.raises(InputError, match="'DOGEUSDT'"):
        history(FakeExchange()).fetch_funding("DOGEUSDT", START, START + HOUR, 200)


# --- errors ----------------------------------------------------------------------------------


def test_a_timeout_is_retried_and_then_succeeds() -> None:
    waits: list[float] = []
    fake = FakeExchange(candles=ohlcv_rows(2), errors=[ccxt.RequestTimeout("bybit GET timeout")])
    candles = history(fake, waits).fetch_candles("BTCUSDT", M1, START, START + HOUR, 1000)
    assert len(candles) == 2
    assert waits == [1.0]


def test_an_exchange_that_stays_down_raises_venue_unavailable_after_three_attempts() -> None:
    waits: list[float] = []
    down = [ccxt.ExchangeNotAvailable("bybit 503") for _ in range(3)]
    fake = FakeExchange(candles=ohlcv_rows(2), errors=down)
    with pytest.raises(VenueUnavailableError, match="503"):
        history(fake, waits).fetch_candles("BTCUSDT", M1, START, START + HOUR, 1000)
    assert len(fake.requests("fetch_ohlcv")) == 3
    assert waits == [1.0, 2.0]


def test_a_refusal_carries_bybits_message() -> None:
    fake = FakeExchange(errors=[ccxt.BadRequest('bybit {"retCode":10001,"retMsg":"params error"}')])
    with pytest.raises(VenueRejectedError, match="params error"):
        history(fake).fetch_candles("BTCUSDT", M1, START, START + HOUR, 1000)


def test_exchange_and_base_url_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        BybitHistory(exchange=FakeExchange(), base_url="http://127.0.0.1:9")


# --- with the downloader ---------------------------------------------------------------------


def test_a_paged_download_through_bybit_history_stores_every_closed_bar(tmp_path: Path) -> None:
    fake = FakeExchange(candles=ohlcv_rows(2_345))
    store = CandleStore(tmp_path)
    now = START + 2_344 * MIN + 30_000  # the last bar is still open
    report = download_candles(history(fake), store, "BTCUSDT", M1, START, now, now_ms=now)
    assert report.added == 2_344
    assert report.pages == 3
    stored = store.load_candles(DatasetKey("bybit", "BTCUSDT", M1))
    assert stored.ts.tolist() == [row[0] for row in fake.candles[:2_344]]
    assert store.info(DatasetKey("bybit", "BTCUSDT", M1)).source == "download: bybit"


def test_a_funding_download_through_bybit_history_pages_over_the_windows(tmp_path: Path) -> None:
    stamps = [START + i * 8 * HOUR + 3 for i in range(450)]  # 3 ms of venue jitter
    fake = FakeExchange(funding=funding_rows(stamps))
    store = CandleStore(tmp_path)
    until = START + 500 * 8 * HOUR
    report = download_funding(history(fake), store, "BTCUSDT", START, until, now_ms=until)
    assert report.added == 450
    assert store.load_funding("bybit", "BTCUSDT").ts.tolist() == stamps
