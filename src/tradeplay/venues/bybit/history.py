"""Bybit's public market history (klines and funding) through ccxt, as a ``HistorySource``.

Only public endpoints are used, so no keys are needed. ccxt's synchronous client is enough here:
a download is one request after another, throttled by ccxt's own rate limiter.

Two Bybit behaviours shape the paging (V5 ``/v5/market/kline`` and ``/v5/market/funding/history``):

* **klines** with ``start`` and no ``end`` come back from ``start`` forwards (ccxt relies on it,
  ccxt issue #26736; the recorded answer ``kline_linear_1h.json`` in the shared fixtures begins
  at its ``start`` although it was fetched two days later), so a page is simply "the first
  ``limit`` bars at or after ``since``", and a ``since`` before the listing jumps straight to
  the first bar;
* **funding history** needs an ``endTime`` with a ``startTime`` and answers with the *newest*
  ``limit`` settlements of the window. So every request covers a window that holds fewer than a
  page of settlements (``limit - 1`` funding intervals); a full page means the interval shrank
  (Bybit changes some symbols from 8 h to 4 h or 1 h), and the window is halved and asked again.
  Empty windows (before the listing) are skipped forwards until ``until``.

ccxt needs the market list for both calls; it loads it once per client, restricted here to the
linear category (two ``instruments-info`` requests instead of about ten for every category).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

import ccxt
import numpy as np

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.venues.bybit.errors import call_with_retry
from tradeplay.venues.bybit.market import bybit_interval

__all__ = [
    "CANDLES_PER_REQUEST",
    "FUNDING_PER_REQUEST",
    "BybitHistory",
    "HistoryClient",
    "ccxt_symbol",
    "make_bybit_client",
]

#: Bybit's maximum ``limit`` of one kline request.
CANDLES_PER_REQUEST: Final = 1000
#: Bybit's maximum ``limit`` of one funding-history request.
FUNDING_PER_REQUEST: Final = 200
_DEFAULT_FUNDING_MINUTES: Final = 480  # 8 h, when the instrument does not say
_MINUTE_MS: Final = 60_000
_QUOTE: Final = "USDT"


class HistoryClient(Protocol):
    """The part of a ccxt exchange object this module calls; tests pass a fake with these."""

    def load_markets(self) -> Any: ...

    def market(self, symbol: str, /) -> Any: ...

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int, /) -> Any: ...

    def fetch_funding_rate_history(
        self, symbol: str, since: int, limit: int, params: dict[str, Any], /
    ) -> Any: ...


def make_bybit_client(base_url: str | None = None) -> Any:
    """ccxt's synchronous Bybit client for USDT perpetuals, rate-limited, no keys.

    ``base_url`` (e.g. ``http://127.0.0.1:8080``) replaces every Bybit host, public and private,
    so the local emulator can stand in for Bybit. No request is made here.
    """
    client = ccxt.bybit(
        {
            "enableRateLimit": True,
            "options": {"defaultType": "swap", "fetchMarkets": {"types": ["linear"]}},
        }
    )
    if base_url is not None:
        root = base_url.rstrip("/")
        client.urls["api"] = dict.fromkeys(client.urls["api"], root)
    return client


def ccxt_symbol(symbol: str) -> str:
    """Bybit's ``BTCUSDT`` as ccxt's unified USDT-perpetual symbol ``BTC/USDT:USDT``."""
    name = symbol.strip().upper()
    if not name.isalnum() or not name.endswith(_QUOTE) or len(name) == len(_QUOTE):
        raise InputError(
            f"symbol {symbol!r} is not a Bybit USDT perpetual: expected a name like BTCUSDT"
        )
    return f"{name[: -len(_QUOTE)]}/{_QUOTE}:{_QUOTE}"


def _bybit_timeframe(timeframe: Timeframe) -> str:
    """ccxt's name of a timeframe Bybit serves (ccxt translates it to Bybit's interval)."""
    bybit_interval(timeframe)  # refuses the timeframes Bybit has no klines of
    return timeframe.name


def _candles_from_rows(rows: Sequence[Sequence[Any]]) -> Candles:
    """ccxt OHLCV rows ``[ts, open, high, low, close, volume]`` as Candles, oldest first.

    A missing value (``None``) becomes NaN, which validation then reports with its row.
    """
    if not rows:
        return Candles.empty()
    ts = np.array([row[0] for row in rows], dtype=np.int64)
    values = np.array([row[1:6] for row in rows], dtype=np.float64)
    order = np.argsort(ts, kind="stable")
    o, h, lo, c, v = values[order].T
    return Candles(ts=ts[order], open=o, high=h, low=lo, close=c, volume=v)


def _funding_from_rows(rows: Sequence[dict[str, Any]]) -> FundingRates:
    """ccxt funding-rate-history entries as FundingRates, oldest first."""
    ts = np.array([row["timestamp"] for row in rows], dtype=np.int64)
    rate = np.array([row["fundingRate"] for row in rows], dtype=np.float64)
    order = np.argsort(ts, kind="stable")
    return FundingRates(ts=ts[order], rate=rate[order])


class BybitHistory:
    """Candles and funding rates of Bybit USDT perpetuals, page by page (a ``HistorySource``).

    ``exchange`` is any object with ccxt's methods (a fake in tests); by default a real ccxt
    client for ``base_url`` (Bybit itself when ``None``). ``sleep`` waits between retries.
    """

    name: str = "bybit"
    max_candles_per_page: int = CANDLES_PER_REQUEST
    max_funding_per_page: int = FUNDING_PER_REQUEST

    def __init__(
        self,
        *,
        exchange: HistoryClient | None = None,
        base_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if exchange is not None and base_url is not None:
            raise ValueError("give either an exchange object or a base_url, not both")
        client = exchange if exchange is not None else make_bybit_client(base_url)
        self._client: HistoryClient = client
        self._sleep = sleep

    def _call(self, symbol: str, call: Callable[[], Any]) -> Any:
        return call_with_retry(call, venue=self.name, symbol=symbol, sleep=self._sleep)

    def fetch_candles(
        self, symbol: str, timeframe: Timeframe, since_ms: int, until_ms: int, limit: int
    ) -> Candles:
        """Up to ``limit`` bars opening in ``[since_ms, until_ms)``, oldest first (one request)."""
        market, interval = ccxt_symbol(symbol), _bybit_timeframe(timeframe)
        size = max(1, min(limit, CANDLES_PER_REQUEST))
        rows = self._call(
            symbol, lambda: self._client.fetch_ohlcv(market, interval, since_ms, size)
        )
        # Bybit also returns the still-open bar and may return one bar before a mid-bar start;
        # the window cut drops both kinds of strays (the downloader drops open bars itself).
        return _candles_from_rows(rows).between(since_ms, until_ms)[:limit]

    def fetch_funding(self, symbol: str, since_ms: int, until_ms: int, limit: int) -> FundingRates:
        """The first settlements (at most ``limit``) in ``[since_ms, until_ms)``, oldest first."""
        market = ccxt_symbol(symbol)
        size = max(2, min(limit, FUNDING_PER_REQUEST))
        # A window of size - 1 intervals holds at most size - 1 settlements while the interval
        # holds, so a full page is the signal that the window hid some.
        span = (size - 1) * self._funding_interval_ms(symbol, market)
        start = since_ms
        while start < until_ms:
            end = min(until_ms, start + span)
            rows = self._funding_window(symbol, market, start, end, size)
            if len(rows) >= size and span > _MINUTE_MS:
                span //= 2
                continue
            rates = _funding_from_rows(rows).between(start, end)
            if len(rates):
                return rates[:limit]
            start = end  # nothing settled in this window (e.g. before the listing): move on
        return FundingRates.empty()

    def _funding_window(
        self, symbol: str, market: str, start: int, end: int, size: int
    ) -> list[dict[str, Any]]:
        params = {"until": end - 1}  # Bybit's endTime is inclusive
        rows = self._call(
            symbol,
            lambda: self._client.fetch_funding_rate_history(market, start, size, params),
        )
        return list(rows)

    def _funding_interval_ms(self, symbol: str, market: str) -> int:
        """The instrument's funding interval (``fundingInterval``, minutes) from the market list."""
        self._call(symbol, self._client.load_markets)
        info = self._call(symbol, lambda: self._client.market(market)).get("info") or {}
        minutes = int(info.get("fundingInterval") or _DEFAULT_FUNDING_MINUTES)
        return minutes * _MINUTE_MS
