"""Closed trades from the fills: one record per round trip, flat to flat.

A trade opens with the fill that leaves flat and closes with the fill that returns to flat; a fill
that goes through zero (a reversal in one order) closes one trade and opens the next with the
rest, its fee shared in proportion to the quantities. A fill's realized PnL is the exchange's own
figure (its ledger), so trades add up to the account exactly; in a reversal it belongs to the
closing part. Excursions (MAE / MFE) are measured on the bars from the entry bar to the exit bar,
for all trades at once when they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.fill import Fill
from tradeplay.domain.values import ZERO, PositionSide, Symbol, to_decimal
from tradeplay.reports.model import TradeRecord

FundingBetween = Callable[[datetime, datetime], Decimal]
"""Funding paid (positive) by the position between two times: ``(entry, exit]``."""
RealizedOf = Callable[[Fill], Decimal]
"""The PnL a fill realized, as the exchange booked it (0 for a fill that only opens)."""

# Members read per fill and per trade, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_LONG, _SHORT = PositionSide.LONG, PositionSide.SHORT


@dataclass(slots=True)
class _Open:
    side: PositionSide
    entry_time: datetime
    entry_bar: int
    entry_qty: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    fees: Decimal = ZERO
    max_qty: Decimal = ZERO
    realized: Decimal = ZERO
    exit_reason: str = ""
    """Why its last exit fill happened: the trade's exit reason once it is flat."""


class _Closed(NamedTuple):
    """A round trip once flat, in plain values: a run keeps ten thousand of them until the
    trades are read, and a tuple of plain values is one the garbage collector stops tracking."""

    long: bool
    entry_time: datetime
    entry_bar: int
    entry_price: Decimal
    exit_price: Decimal
    qty: Decimal
    realized: Decimal
    fees: Decimal
    exit_reason: str
    exit_time: datetime
    exit_bar: int


class TradeBuilder:
    """Feed fills in execution order; read :attr:`trades` (closed round trips, by exit)."""

    def __init__(
        self,
        symbol: Symbol,
        *,
        bars: NDArray[np.float64],
        funding: FundingBetween,
        reason_of: Callable[[Fill], str],
        realized_of: RealizedOf,
    ) -> None:
        self._symbol = symbol
        # Contiguous, so finding a fill's bar is one binary search, not a walk of a strided view.
        self._opens = np.ascontiguousarray(bars[:, 0])
        self._highs = np.ascontiguousarray(bars[:, 2])  # excursions: one contiguous read each
        self._lows = np.ascontiguousarray(bars[:, 3])
        self._funding = funding
        self._reason_of = reason_of
        self._realized_of = realized_of
        self._size = ZERO
        """Signed position size after the fills seen so far."""
        self._open: _Open | None = None
        self._closed: list[_Closed] = []

    def add(self, fill: Fill, at: int) -> None:
        """Book ``fill``, which happened in bar ``at`` (see :meth:`bars_of`): the part that
        reduces the position first, then the part that opens. Each part carries the fill's fee
        in proportion to its quantity."""
        before, sign = self._size, fill.side.sign
        against = before != 0 and (before > 0) != (sign > 0)
        closing = min(fill.qty, abs(before)) if against else ZERO
        if closing:
            self._book_exit(fill, sign, closing, fill.fee * closing / fill.qty, at)
        opening = fill.qty - closing
        if opening:
            self._book_entry(fill, sign, opening, fill.fee * opening / fill.qty, at)

    def _book_entry(self, fill: Fill, sign: int, qty: Decimal, fee: Decimal, bar: int) -> None:
        """``sign``: the fill side's (+1 a buy, -1 a sell)."""
        self._size += qty * sign
        if self._open is None:
            self._open = _Open(_LONG if sign > 0 else _SHORT, fill.time, bar)
        trade = self._open
        trade.entry_qty += qty
        trade.entry_value += qty * fill.price
        trade.fees += fee
        trade.max_qty = max(trade.max_qty, abs(self._size))

    def _book_exit(self, fill: Fill, sign: int, qty: Decimal, fee: Decimal, bar: int) -> None:
        self._size += qty * sign
        trade = self._open
        assert trade is not None  # a reducing fill needs an open position
        trade.realized += self._realized_of(fill)
        trade.exit_qty += qty
        trade.exit_value += qty * fill.price
        trade.fees += fee
        trade.exit_reason = self._reason_of(fill)
        if self._size == 0:
            self._closed.append(
                _Closed(
                    trade.side is _LONG,
                    trade.entry_time,
                    trade.entry_bar,
                    trade.entry_value / trade.entry_qty,
                    trade.exit_value / trade.exit_qty,
                    trade.max_qty,
                    trade.realized,
                    trade.fees,
                    trade.exit_reason,
                    fill.time,
                    bar,
                )
            )
            self._open = None

    @property
    def trades(self) -> list[TradeRecord]:
        """The closed round trips, by exit."""
        closed = self._closed
        firsts = np.fromiter((each.entry_bar for each in closed), np.intp, len(closed))
        lasts = np.fromiter((each.exit_bar for each in closed), np.intp, len(closed))
        lows = _range_extremes(np.minimum, self._lows, firsts, lasts)
        highs = _range_extremes(np.maximum, self._highs, firsts, lasts)
        return [
            self._close(each, low, high)
            for each, low, high in zip(closed, lows.tolist(), highs.tolist(), strict=True)
        ]

    def _close(self, trade: _Closed, low: float, high: float) -> TradeRecord:
        """The record of ``trade``; ``low`` and ``high``: the extremes of its bars."""
        side = _LONG if trade.long else _SHORT
        entry_price = trade.entry_price
        mae, mfe = _excursions(side, entry_price, low, high)
        funding = self._funding(trade.entry_time, trade.exit_time)
        return TradeRecord(
            symbol=self._symbol,
            side=side,
            entry_time=trade.entry_time,
            exit_time=trade.exit_time,
            entry_price=entry_price,
            exit_price=trade.exit_price,
            qty=trade.qty,
            gross_pnl=trade.realized,
            fees=trade.fees,
            funding=funding,
            net_pnl=trade.realized - trade.fees - funding,
            mae_price=mae,
            mae_pct=float(mae / entry_price),
            mfe_price=mfe,
            mfe_pct=float(mfe / entry_price),
            bars_held=trade.exit_bar - trade.entry_bar,
            exit_reason=trade.exit_reason,
        )

    def bars_of(self, fills: Sequence[Fill]) -> list[int]:
        """The bar of each fill, in one vectorised search."""
        ms = np.fromiter((int(f.time.timestamp() * 1000) for f in fills), np.int64, len(fills))
        found = np.maximum(self._opens.searchsorted(ms, side="right") - 1, 0)
        return [int(bar) for bar in found.tolist()]


def _excursions(
    side: PositionSide, entry: Decimal, low: float, high: float
) -> tuple[Decimal, Decimal]:
    """``(MAE, MFE)`` prices of a trade entered at ``entry`` whose bars reached ``low`` and
    ``high``."""
    lowest, highest = to_decimal(low, "low"), to_decimal(high, "high")
    if side is _LONG:
        return max(ZERO, entry - lowest), max(ZERO, highest - entry)
    return max(ZERO, highest - entry), max(ZERO, entry - lowest)


def _range_extremes(
    extreme: np.ufunc,
    values: NDArray[np.float64],
    firsts: NDArray[np.intp],
    lasts: NDArray[np.intp],
) -> NDArray[np.float64]:
    """``extreme`` (``np.minimum`` / ``np.maximum``) of ``values[first : last + 1]`` per range.

    One ``reduceat`` over the bounds ``first₀, last₀ + 1, first₁, last₁ + 1 …``: the even slots
    are the ranges (each holds at least its first bar). The odd slots, the gaps between trades,
    are dropped; a gap that is empty (the next trade opens on the bar the last one closed)
    yields a single value there, which is dropped too. A value is appended so that a range
    ending on the last bar still has a bound inside the array.
    """
    bounds = np.empty(2 * len(firsts), dtype=np.intp)
    bounds[0::2], bounds[1::2] = firsts, lasts + 1
    padded = np.append(values, values[-1:]) if len(values) else values
    found: NDArray[np.float64] = (
        extreme.reduceat(padded, bounds)[0::2] if len(bounds) else padded[:0]
    )
    return found


def build_trades(
    symbol: Symbol,
    fills: Sequence[Fill],
    *,
    bars: NDArray[np.float64],
    funding: FundingBetween,
    reason_of: Callable[[Fill], str],
    realized_of: RealizedOf,
) -> list[TradeRecord]:
    """Closed trades of ``fills`` (a position still open at the end has no record)."""
    builder = TradeBuilder(
        symbol, bars=bars, funding=funding, reason_of=reason_of, realized_of=realized_of
    )
    for fill, bar in zip(fills, builder.bars_of(fills), strict=True):
        builder.add(fill, bar)
    return builder.trades
