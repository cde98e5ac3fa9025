"""Bybit V5 market data → exact values: klines (REST and WebSocket), tickers, instruments.

Pure functions, no I/O. Two kline quirks matter for "no bar missed or doubled":

* REST ``/v5/market/kline`` answers **newest first**, and its first row may be the bar still in
  progress (bybit_v5.md §6.2; ``kline_linear_1h.json``); :func:`klines_from_rest` sorts oldest
  first and marks a bar closed only when its end is at or before the server time of the answer.
* the WebSocket ``kline`` topic repeats the open bar every 1 to 60 s and sends
  ``confirm: true`` once, on the bar's final message (bybit_v5.md §7.1; ``ws_kline.json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.errors import InputError
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.instruments_bybit import instrument_from_bybit
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Price, Symbol, to_decimal
from tradeplay.venues.bybit._fields import Json, flag, integer, number, price_or_none, text

__all__ = [
    "Kline",
    "Ticker",
    "bybit_interval",
    "instrument_from_answer",
    "klines_from_rest",
    "klines_from_ws",
    "ticker_from_rest",
]

# Bybit's interval codes (bybit_v5.md §6.2): minutes as digits, days as "D".
_INTERVALS: Final = {
    **{minutes: str(minutes) for minutes in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)},
    1440: "D",
}
_MINUTE_MS: Final = 60_000


def bybit_interval(timeframe: Timeframe) -> str:
    """The ``interval`` code of a timeframe (``1h`` → ``"60"``, ``1d`` → ``"D"``)."""
    minutes, rest = divmod(timeframe.ms, _MINUTE_MS)
    code = _INTERVALS.get(minutes) if rest == 0 else None
    if code is None:
        served = ", ".join(Timeframe(m * _MINUTE_MS).name for m in _INTERVALS)
        raise InputError(f"Bybit has no {timeframe} candles: expected one of {served}")
    return code


@dataclass(frozen=True, slots=True)
class Kline:
    """One bar, exactly as Bybit sent it; ``closed`` says whether it can change any more."""

    start_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    closed: bool

    def row(self) -> NDArray[np.float64]:
        """The ``(ts, open, high, low, close, volume)`` float row the feature kernels read."""
        values = (self.open, self.high, self.low, self.close, self.volume)
        return np.array([float(self.start_ms), *map(float, values)], dtype=np.float64)


def klines_from_rest(result: Json, interval_ms: int, server_ms: int) -> list[Kline]:
    """``result`` of ``/v5/market/kline`` oldest first. Rows are ``[start, open, high, low,
    close, volume, turnover]``, all strings; a bar is closed when ``start + interval <= now``
    (the envelope's ``time``), which drops the in-progress first row from "closed" bars."""
    rows: Sequence[Sequence[Any]] = result.get("list") or []
    bars = []
    for row in rows:
        start = int(str(row[0]))
        o, h, lo, c, v = (to_decimal(str(cell), "kline value") for cell in row[1:6])
        bars.append(Kline(start, o, h, lo, c, v, closed=start + interval_ms <= server_ms))
    bars.sort(key=lambda bar: bar.start_ms)
    return bars


def klines_from_ws(message: Json) -> tuple[str, list[Kline]]:
    """``(topic, bars)`` of one ``kline.{interval}.{symbol}`` message; ``data`` is a list whose
    ``start`` is a JSON number and prices are strings; ``confirm`` marks the closing update."""
    topic = text(message, "topic")
    bars = [
        Kline(
            integer(item, "start"),
            number(item, "open"),
            number(item, "high"),
            number(item, "low"),
            number(item, "close"),
            number(item, "volume"),
            closed=flag(item, "confirm"),
        )
        for item in message.get("data") or []
    ]
    return topic, bars


@dataclass(frozen=True, slots=True)
class Ticker:
    """The prices of one symbol the adapter needs (trigger direction, minimum notional)."""

    symbol: Symbol
    last_price: Price
    mark_price: Price | None
    index_price: Price | None
    funding_rate: Decimal | None
    next_funding_ms: int | None


def ticker_from_rest(result: Json, symbol: Symbol) -> Ticker:
    """``symbol``'s item of a ``/v5/market/tickers`` answer (``tickers_linear_btcusdt.json``)."""
    items: Sequence[Mapping[str, Any]] = result.get("list") or []
    item = next((i for i in items if text(i, "symbol") == symbol), None)
    if item is None:
        raise InputError(f"Bybit sent no ticker for {symbol}")
    rate = item.get("fundingRate")
    next_funding = integer(item, "nextFundingTime")
    return Ticker(
        symbol=symbol,
        last_price=number(item, "lastPrice"),
        mark_price=price_or_none(item, "markPrice"),
        index_price=price_or_none(item, "indexPrice"),
        funding_rate=None if rate in (None, "") else number(item, "fundingRate"),
        next_funding_ms=next_funding or None,
    )


def instrument_from_answer(result: Json, symbol: Symbol) -> Instrument:
    """``symbol`` from an ``instruments-info`` answer, through the domain's Bybit parser."""
    items: Sequence[Mapping[str, Any]] = result.get("list") or []
    item = next((i for i in items if text(i, "symbol") == symbol), None)
    if item is None:
        raise InputError(f"Bybit does not list {symbol} as a linear contract")
    return instrument_from_bybit(item, snapshot="live: Bybit /v5/market/instruments-info")
