"""The replayed market: stored bars of each symbol, revealed one bar at a time.

Only **closed** bars are visible. The replay clock is the close of the last bar revealed; REST
(kline, tickers, funding history) and the public streams never show anything later, so a
client sees the past exactly as it would have seen it live, without lookahead.

Within a bar there are no ticks: the replay moves in whole bars of the base timeframe (the
bars' own length). A larger kline interval is built from the base bars closed so far: its
newest row is still in progress (as on Bybit, where the first kline row may be unfinished)
and becomes final — ``confirm: true`` on the stream — with the base bar that closes it.

Assumptions written down where made:

* mark and index price = the last close (the simulated exchange values positions there too);
* turnover = volume × the bar's mean of open, high, low and close (candles carry no turnover);
* bid / ask = last close ∓ one tick, with a nominal size (there is no order book in candles);
* a public trade per bar at its close, of the bar's volume, the taker side from the bar's
  direction (a synthetic stand-in: candles carry no trades);
* funding: the symbol's stored funding history, else Bybit's baseline constant rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import InputError
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Symbol, format_decimal
from tradeplay.emulator.errors import BybitError
from tradeplay.features.compute import bar_matrix
from tradeplay.sim.funding import FundingSource

__all__ = ["INTERVALS", "Market", "SymbolMarket", "interval_ms"]

_MINUTE: Final = 60_000
_DAY: Final = 1_440 * _MINUTE
# Bybit's kline intervals (minutes, D, W); M (calendar months) is not offered by the emulator.
INTERVALS: Final[Mapping[str, int]] = {
    **{str(m): m * _MINUTE for m in (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)},
    "D": _DAY,
    "W": 7 * _DAY,
}
# Bybit's weeks start on Monday 00:00 UTC; the Unix epoch was a Thursday.
_WEEK_OFFSET: Final = 4 * _DAY
_DAY_BARS_WINDOW: Final = _DAY


def interval_ms(code: str) -> int:
    try:
        return INTERVALS[code]
    except KeyError:
        raise BybitError.params(f"interval invalid: {code!r}") from None


def _bin_start(ts: int, width: int) -> int:
    offset = _WEEK_OFFSET if width == 7 * _DAY else 0
    return (ts - offset) // width * width + offset


@dataclass(slots=True)
class SymbolMarket:
    """One symbol's bars and how far the replay has revealed them."""

    instrument: Instrument
    bars: NDArray[np.float64]
    """Rows ``ts, open, high, low, close, volume`` of the base timeframe, oldest first."""
    timeframe: Timeframe
    funding: FundingSource
    cursor: int = 0
    """Bars before this index are closed and visible."""
    _tick_places: int = field(init=False)

    def __post_init__(self) -> None:
        exponent = self.instrument.tick_size.normalize().as_tuple().exponent
        self._tick_places = max(0, -exponent) if isinstance(exponent, int) else 0

    @property
    def symbol(self) -> Symbol:
        return self.instrument.symbol

    @property
    def has_next(self) -> bool:
        return self.cursor < len(self.bars)

    @property
    def next_open_ms(self) -> int | None:
        return int(self.bars[self.cursor, 0]) if self.has_next else None

    @property
    def last(self) -> NDArray[np.float64] | None:
        """The last closed bar, if any."""
        return self.bars[self.cursor - 1] if self.cursor else None

    def price_text(self, value: float) -> str:
        """A price on the tick grid, with the tick's decimals (Bybit's ``51444.40`` style)."""
        ticks = round(value / float(self.instrument.tick_size))
        return f"{(Decimal(ticks) * self.instrument.tick_size):.{self._tick_places}f}"

    def last_price(self) -> Decimal | None:
        last = self.last
        if last is None:
            return None
        return Decimal(round(float(last[4]) / float(self.instrument.tick_size))) * (
            self.instrument.tick_size
        )

    # ---------------------------------------------------------------- klines

    def kline_rows(
        self, code: str, start_ms: int | None, end_ms: int | None, limit: int
    ) -> list[list[str]]:
        """Bybit's kline list (7 strings per row), newest first, from the visible bars."""
        width = interval_ms(code)
        self._require_interval(code, width)
        visible = self.bars[: self.cursor]
        rows = visible if width == self.timeframe.ms else _aggregate(visible, width)
        ts = rows[:, 0]
        lo = 0 if start_ms is None else int(np.searchsorted(ts, start_ms, side="left"))
        hi = len(rows) if end_ms is None else int(np.searchsorted(ts, end_ms, side="right"))
        chosen = rows[max(lo, hi - limit) : hi][::-1]
        return [self._row_texts(row) for row in chosen]

    def current_kline(self, code: str) -> tuple[NDArray[np.float64], bool] | None:
        """The candle of ``code`` that the last revealed bar belongs to, and whether that bar
        closed it (``confirm``)."""
        last = self.last
        if last is None:
            return None
        width = INTERVALS[code]
        start = _bin_start(int(last[0]), width)
        first = int(np.searchsorted(self.bars[: self.cursor, 0], start, side="left"))
        candle = _aggregate(self.bars[first : self.cursor], width)[-1]
        closed = int(last[0]) + self.timeframe.ms >= start + width
        return candle, closed

    def kline_message(self, code: str) -> dict[str, object] | None:
        current = self.current_kline(code)
        if current is None:
            return None
        row, confirm = current
        width = INTERVALS[code]
        start = int(row[0])
        last = self.last
        assert last is not None
        return {
            "start": start,
            "end": start + width - 1,
            "interval": code,
            "open": self.price_text(row[1]),
            "close": self.price_text(row[4]),
            "high": self.price_text(row[2]),
            "low": self.price_text(row[3]),
            "volume": _number(row[5]),
            "turnover": _number(_turnover(row)),
            "confirm": confirm,
            # The time of the last match: the close of the last base bar, less one millisecond.
            "timestamp": int(last[0]) + self.timeframe.ms - 1,
        }

    def supports(self, code: str) -> bool:
        width = INTERVALS.get(code)
        return width is not None and width % self.timeframe.ms == 0

    def _require_interval(self, code: str, width: int) -> None:
        if width % self.timeframe.ms:
            raise BybitError.params(
                f"interval {code} is shorter than or not a multiple of the replayed bars "
                f"({self.timeframe})"
            )

    def _row_texts(self, row: NDArray[np.float64]) -> list[str]:
        return [
            str(int(row[0])),
            self.price_text(row[1]),
            self.price_text(row[2]),
            self.price_text(row[3]),
            self.price_text(row[4]),
            _number(row[5]),
            _number(_turnover(row)),
        ]

    # ---------------------------------------------------------------- tickers and funding

    def ticker(self, now_ms: int) -> dict[str, object]:
        """Bybit's linear ticker fields, from the visible bars (see the module docstring)."""
        last = self.last
        if last is None:
            raise BybitError.params(f"{self.symbol} has no closed bar yet")
        close_ms = int(last[0]) + self.timeframe.ms
        visible = self.bars[: self.cursor]
        ts = visible[:, 0]
        day = visible[int(np.searchsorted(ts, close_ms - _DAY_BARS_WINDOW, side="left")) :]
        hour = visible[int(np.searchsorted(ts, close_ms - 3_600_000, side="left")) :]
        prev_24h, prev_1h = float(day[0, 1]), float(hour[0, 1])
        close = float(last[4])
        tick = float(self.instrument.tick_size)
        rate, next_ms = self.next_funding(close_ms)
        hours = int(self.instrument.funding_interval.total_seconds() // 3600)
        return {
            "symbol": self.symbol,
            "lastPrice": self.price_text(close),
            "indexPrice": self.price_text(close),
            "markPrice": self.price_text(close),
            "prevPrice24h": self.price_text(prev_24h),
            "price24hPcnt": f"{(close / prev_24h - 1):.6f}",
            "highPrice24h": self.price_text(float(day[:, 2].max())),
            "lowPrice24h": self.price_text(float(day[:, 3].min())),
            "prevPrice1h": self.price_text(prev_1h),
            "openInterest": "0",
            "openInterestValue": "0",
            "turnover24h": _number(float((day[:, 5] * day[:, 1:5].mean(axis=1)).sum())),
            "volume24h": _number(float(day[:, 5].sum())),
            "fundingRate": format_decimal(rate),
            "nextFundingTime": str(next_ms),
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "ask1Size": "1",
            "bid1Price": self.price_text(close - tick),
            "ask1Price": self.price_text(close + tick),
            "bid1Size": "1",
            "basis": "",
            "fundingIntervalHour": str(hours),
            "fundingCap": "0.005",
            "preOpenPrice": "",
            "preQty": "",
            "curPreListingPhase": "",
        }

    def next_funding(self, after_ms: int) -> tuple[Decimal, int]:
        """The rate and time of the first settlement at or after ``after_ms``."""
        step = int(self.instrument.funding_interval.total_seconds() * 1000)
        schedule = self.funding.settlements(after_ms, after_ms + step + 1)
        if len(schedule):
            return schedule.rate_at(0), int(schedule.ts[0])
        return Decimal(0), -(-after_ms // step) * step

    def funding_rows(
        self, start_ms: int | None, end_ms: int | None, limit: int, now_ms: int
    ) -> list[dict[str, str]]:
        """Settlements up to the replay clock, newest first (Bybit's funding history)."""
        end = now_ms if end_ms is None else min(end_ms, now_ms)
        begin = int(self.bars[0, 0]) if start_ms is None else start_ms
        schedule = self.funding.settlements(begin, end + 1)
        picked = range(len(schedule) - 1, max(-1, len(schedule) - 1 - limit), -1)
        return [
            {
                "symbol": self.symbol,
                "fundingRate": format_decimal(schedule.rate_at(i)),
                "fundingRateTimestamp": str(int(schedule.ts[i])),
            }
            for i in picked
        ]


def _aggregate(rows: NDArray[np.float64], width: int) -> NDArray[np.float64]:
    """Bars grouped into ``width``-long candles (the last one may be in progress)."""
    if not len(rows):
        return rows
    offset = _WEEK_OFFSET if width == 7 * _DAY else 0
    bins = (rows[:, 0].astype(np.int64) - offset) // width * width + offset
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    ends = np.r_[starts[1:], len(rows)] - 1
    out = np.empty((len(starts), 6))
    out[:, 0] = bins[starts]
    out[:, 1] = rows[starts, 1]
    out[:, 2] = np.maximum.reduceat(rows[:, 2], starts)
    out[:, 3] = np.minimum.reduceat(rows[:, 3], starts)
    out[:, 4] = rows[ends, 4]
    out[:, 5] = np.add.reduceat(rows[:, 5], starts)
    return out


def _turnover(row: NDArray[np.float64]) -> float:
    return float(row[5]) * float(row[1] + row[2] + row[3] + row[4]) / 4


def _number(value: float) -> str:
    """A volume or turnover as Bybit writes it: plain decimals, at most 8 of them."""
    text = f"{value:.8f}".rstrip("0").rstrip(".")
    return text or "0"


class Market:
    """Every replayed symbol, moving together on one clock of base bars."""

    def __init__(self, symbols: Sequence[SymbolMarket], *, label: str = "") -> None:
        if not symbols:
            raise InputError("the emulator needs at least one symbol to replay")
        timeframes = {s.timeframe for s in symbols}
        if len(timeframes) != 1:
            raise InputError(
                "every replayed symbol must have bars of one timeframe, got "
                + ", ".join(sorted(str(t) for t in timeframes))
            )
        self.symbols: dict[Symbol, SymbolMarket] = {s.symbol: s for s in symbols}
        self.timeframe = symbols[0].timeframe
        self.label = label
        """Where the bars come from (generated sample, stored dataset …), for logs."""

    @classmethod
    def from_candles(
        cls,
        candles: Mapping[Instrument, Candles],
        timeframe: Timeframe,
        *,
        funding: Mapping[Symbol, FundingRates] | None = None,
        label: str = "",
    ) -> Market:
        parts = []
        for instrument, bars in candles.items():
            if len(bars) == 0:
                raise InputError(f"{instrument.symbol}: no bars to replay")
            stored = (funding or {}).get(instrument.symbol)
            source = FundingSource.for_instrument(instrument, stored)
            parts.append(SymbolMarket(instrument, bar_matrix(bars), timeframe, source))
        return cls(parts, label=label)

    def get(self, symbol: str) -> SymbolMarket:
        market = self.symbols.get(symbol)
        if market is None:
            raise BybitError.params(f"symbol invalid: {symbol} is not replayed here")
        return market

    @property
    def now_ms(self) -> int:
        """The replay clock: the close of the latest bar revealed (the first open before any)."""
        closes = [
            int(s.bars[s.cursor - 1, 0]) + self.timeframe.ms
            for s in self.symbols.values()
            if s.cursor
        ]
        if closes:
            return max(closes)
        return min(int(s.bars[0, 0]) for s in self.symbols.values())

    def start_at(self, ms: int) -> None:
        """Reveal every bar that closes at or before ``ms`` (history before the replay)."""
        for s in self.symbols.values():
            s.cursor = int(np.searchsorted(s.bars[:, 0], ms - self.timeframe.ms, side="right"))

    def next_step(self) -> list[SymbolMarket]:
        """The symbols whose next bar is the earliest one not yet revealed (none at the end)."""
        pending = [s for s in self.symbols.values() if s.has_next]
        if not pending:
            return []
        first = min(int(s.bars[s.cursor, 0]) for s in pending)
        return [s for s in pending if int(s.bars[s.cursor, 0]) == first]

    @property
    def finished(self) -> bool:
        return not any(s.has_next for s in self.symbols.values())
