"""The simulated exchange: Bybit USDT-linear perpetual semantics behind the ``Exchange`` port.

One symbol, one-way position mode (Bybit ``positionIdx`` 0), isolated or cross margin. The
same object serves backtests (``advance`` over long spans) and paper trading (``advance`` one
bar at a time): it is the same code, so both give the same fills, events and equity.

Timing model: the clock is the bars
    The exchange's time is the close of the last bar it processed. An order submitted then —
    after bar *t* closed, where a strategy evaluates — is queued: it first meets the market at
    the **open of bar t + 1**. A market order fills at that open (± slippage); limit and stop
    orders work from that bar on (see :mod:`tradeplay.sim.matching` for the path inside a bar,
    the gap rules and the order in which orders meet it). Fills are stamped with the open time
    of the bar (or minute) they happen in. Answers to ``submit`` / ``cancel`` are immediate
    (accepted, rejected, cancelled) and stamped with the order's own time / the exchange time.

Mark price: the bar's close, for unrealized PnL, margin, available balance and the equity
curve. Liquidation is checked along the bar's path (the worst price first for the position),
see :mod:`tradeplay.sim.clearing`. Funding: a settlement at *T* is paid by the position held at
the start of the bar containing *T*, before that bar's fills, at the bar's open
(:mod:`tradeplay.sim.funding`); a settlement inside a data gap is paid at the next bar.

The fast path (``advance``)
    Between events nothing is done in Python per bar: a compiled scan (:mod:`._scan`) finds
    the first bar that reaches any working order's trigger or limit, the take-profit,
    stop-loss or trailing stop, the liquidation price, or holds a funding settlement; the bars
    before it are one :data:`Segment` of the account (the position is constant there:
    ``equity = wallet − cost basis + size × close``, expanded per bar only when asked for), and
    that bar is walked in detail.
    ``advance`` returns at the first bar where an order event happened (a fill, trigger,
    expiry, cancellation, liquidation) unless asked to run through events to its stop (a
    backtest whose engine would not act on them); funding is booked without stopping.

Seams: hedge mode would key positions by (symbol, side) in :class:`Clearing` and pick the
position an order acts on in :mod:`.matching`; several symbols would share one ``Ledger``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.account import Account
from tradeplay.domain.errors import InputError, OrderRejectedError
from tradeplay.domain.events import (
    FundingApplied,
    OrderAccepted,
    OrderEvent,
    OrderRejected,
    OrderSubmitted,
)
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.position import Position
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import ClientOrderId, Liquidity, Price, Side, Symbol, utc_from_ms
from tradeplay.ports import TradingStop
from tradeplay.sim._scan import CANDIDATE, QUIET, scan
from tradeplay.sim._schedule import NextSettlement
from tradeplay.sim.book import Ids, OrderBook, Origin, WorkingOrder, end_order
from tradeplay.sim.clearing import Clearing
from tradeplay.sim.config import SimConfig
from tradeplay.sim.funding import FundingSource
from tradeplay.sim.ledger import Ledger
from tradeplay.sim.matching import Matcher
from tradeplay.sim.protection import PositionGuard
from tradeplay.sim.slippage import slipped_price
from tradeplay.sim.submission import place, refusal

__all__ = ["AdvanceResult", "Segment", "SimulatedExchange", "equity_of", "expand_segments"]

Segment: TypeAlias = tuple[int, float, float, float]
"""``(end, a, s, basis)``: up to bar ``end`` (exclusive, from the previous segment's end) the
account is the line equity = ``a + s × close``, with ``s`` the position size and ``basis`` its
cost basis, as floats (``a`` = wallet − cost basis, computed exactly before the conversion)."""


@quick_init
@dataclass(frozen=True, slots=True)
class AdvanceResult:
    """What one :meth:`SimulatedExchange.advance` call processed and what happened."""

    start: int
    """The first bar processed."""
    end: int
    """One past the last bar processed: the bar to pass as ``start`` next time."""
    events: tuple[OrderEvent, ...]
    """Order events of the bars processed (empty when the span was quiet)."""
    funding: tuple[FundingApplied, ...]
    """Funding settlements booked in the bars processed."""
    segments: tuple[Segment, ...]
    """The account over the bars processed, piece by piece (see :data:`Segment`): a span of
    bars between two events is one piece, however long, so nothing per bar is kept."""
    bars: NDArray[np.float64]
    """The bars given to ``advance`` (their closes value the account)."""

    @property
    def bar(self) -> int:
        """The last bar processed: where the events happened, if any."""
        return self.end - 1

    @property
    def equity(self) -> NDArray[np.float64]:
        """Equity at each processed bar's close (wallet + unrealized PnL at the close)."""
        return equity_of(self.bars[self.start : self.end, 4], self.start, self.segments)


def equity_of(
    closes: NDArray[np.float64], start: int, segments: Sequence[Segment]
) -> NDArray[np.float64]:
    """Equity per bar from ``segments`` beginning at bar ``start`` and the bars' ``closes``."""
    if not segments:
        return np.empty(0, dtype=np.float64)
    a, s, _ = expand_segments(segments, start)
    equity: NDArray[np.float64] = a + s * closes
    return equity


def expand_segments(segments: Sequence[Segment], start: int) -> NDArray[np.float64]:
    """The rows ``(a, s, basis)`` of ``segments`` beginning at bar ``start``, one column per bar."""
    table = np.array(segments, dtype=np.float64).reshape(-1, 4)
    ends: NDArray[np.intp] = table[:, 0].astype(np.intp)
    lengths: NDArray[np.intp] = np.diff(ends, prepend=start)
    spread: NDArray[np.float64] = np.repeat(table[:, 1:].T, lengths, axis=1)
    return spread


class SimulatedExchange:
    """A Bybit-like exchange for one linear perpetual, driven by bars."""

    def __init__(self, instrument: Instrument, config: SimConfig | None = None) -> None:
        config = config or SimConfig()
        # The account's fee tier replaces the instrument's base rates, so margin (fees to
        # close, liquidation fee) is computed at the rates this account pays.
        fees = config.fees
        instrument = replace(instrument, maker_fee_rate=fees.maker, taker_fee_rate=fees.taker)
        instrument.validate_leverage(config.leverage)
        self._instrument = instrument
        self._config = config
        self._ids = Ids(config.id_space)
        self._book = OrderBook(record=config.record)
        self._protection = PositionGuard(instrument)
        self._clearing = Clearing(
            instrument,
            fees,
            self._ids,
            leverage=config.leverage,
            mode=config.margin_mode,
            record=config.record,
        )
        self._clearing.ledger.deposit(config.starting_cash, config.funded_at, "starting cash")
        self._events: list[OrderEvent] = []
        self._matcher = Matcher(
            instrument,
            self._book,
            self._protection,
            self._clearing,
            self._ids,
            self._events,
            slippage=config.slippage,
            max_volume_share=config.max_volume_share,
        )
        funding = config.funding or FundingSource.for_instrument(instrument, None)
        self._settlements = NextSettlement(funding)
        self._tick = float(instrument.tick_size)
        self._bar_ms = config.timeframe.ms
        self._now_ms: int | None = None
        """End of the last bar processed (its close time)."""
        self._last: float | None = None
        """Close of the last bar processed, in ticks."""
        self._last_price: Price | None = None
        self._settled_ms = 0
        """Settlements before this time are booked."""
        self._checked: NDArray[np.float64] | None = None
        """The last bar matrix whose layout was checked (a run passes the same one each time)."""

    # ---------------------------------------------------------------- the Exchange port

    def instrument(self, symbol: Symbol) -> Instrument:
        self._require(symbol)
        return self._instrument

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        """Accept (queue for the next bar) or reject ``order``; never raises for a refusal."""
        reason = self._refusal(order)
        if reason is not None:
            return (
                OrderRejected(
                    client_order_id=order.client_order_id, time=order.time, reason=reason
                ),
            )
        working = WorkingOrder(
            order.client_order_id,
            self._ids.order(),
            order.symbol,
            order.side,
            order.order_type,
            order.qty,
            order.time,
            price=order.price,
            trigger_price=order.trigger_price,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            protection=order.protection,
        )
        assert self._last_price is not None  # refused before the first bar
        place(working, self._book, self._last_price, self._instrument.tick_size)
        return (
            OrderAccepted(
                client_order_id=order.client_order_id, time=order.time, order_id=working.order_id
            ),
        )

    def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Sequence[OrderEvent]:
        """Cancel an open order; nothing (an empty answer) if it is unknown or already done."""
        self._require(symbol)
        order = self._book.get(client_order_id)
        if order is None:
            return ()
        event = end_order(order, OrderStatus.CANCELLED, "CancelByUser", self.now)
        self._book.discard(order)
        return (event,)

    def set_trading_stop(self, stop: TradingStop) -> None:
        """Attach / replace / remove (``None``) the position's TP, SL and trailing stop.

        Raises :class:`~tradeplay.domain.errors.RejectedError` with Bybit's reason when refused.
        """
        self._require(stop.symbol)
        last = self.last_price
        if last is None:
            raise OrderRejectedError(
                "no market price yet: the simulated exchange has not seen a bar"
            )
        self._protection.replace(stop, self._instrument, self._clearing.position.size, last)

    def open_orders(self, symbol: Symbol | None = None) -> Sequence[Order]:
        if symbol is not None and symbol != self._instrument.symbol:
            return ()
        return tuple(o.to_order() for o in self._book)

    def position(self, symbol: Symbol) -> Position:
        self._require(symbol)
        return self._clearing.position

    def account(self) -> Account:
        return self._clearing.ledger.account()

    # ---------------------------------------------------------------- simulator views

    def orders(self) -> Sequence[Order]:
        """Every order the exchange has seen, finished ones first (in the order they finished),
        then the working ones: the run's order record (only the working ones when the account
        keeps no record, :attr:`SimConfig.record`)."""
        return (*self._book.finished(), *(o.to_order() for o in self._book))

    def fills(self) -> Sequence[Fill]:
        """Every execution so far, in order: the run's fill record (fingerprinted by reports;
        empty when the account keeps no record, :attr:`SimConfig.record`)."""
        return tuple(self._clearing.fills)

    def close_at_last_price(self) -> Fill | None:
        """Close the whole position at the last close as a taker (± slippage); ``None`` if flat.

        For the end of a backtest, whose last bar has no next open to fill a market order at:
        the position is valued where the data ends, and its closing fee is paid.
        """
        position = self._clearing.position
        last = self.last_price
        if position.is_flat or last is None:
            return None
        side = Side.SELL if position.size > 0 else Side.BUY
        # No bar volume after the data ends: volume-share impact is not applied, a fixed one is.
        fraction = self._config.slippage.fraction(position.qty, math.inf)
        price = slipped_price(self._instrument, last, side, fraction)
        fill = self._clearing.book_fill(
            self._ids.order(),
            self._ids.system(Origin.END_OF_DATA),
            side,
            position.qty,
            price,
            Liquidity.TAKER,
            self.now,
        )
        self._protection.clear()
        return fill

    def ledger(self) -> Ledger:
        """The cash journal: every fill, fee, funding payment and liquidation (to read: the
        exchange books on it, nothing else should)."""
        return self._clearing.ledger

    def trading_stop(self, symbol: Symbol) -> TradingStop:
        """The protection attached to the position now (prices ``None`` when not set)."""
        self._require(symbol)
        return self._protection.as_trading_stop(symbol)

    @property
    def last_price(self) -> Price | None:
        """The close of the last bar processed (the mark), on the tick grid."""
        return self._last_price

    @property
    def now(self) -> datetime:
        """The exchange time: the close of the last bar processed."""
        if self._now_ms is None:
            return self._config.funded_at
        return utc_from_ms(self._now_ms)

    # ---------------------------------------------------------------- advancing the clock

    def advance(
        self,
        bars: NDArray[np.float64],
        start: int,
        stop: int,
        *,
        minutes: NDArray[np.float64] | None = None,
        through_events: bool = False,
    ) -> AdvanceResult:
        """Process bars ``start .. stop-1`` of ``bars`` (rows ``ts, open, high, low, close,
        volume``), returning early after the first bar where an order event happened.

        ``minutes``: 1-minute rows (sorted by time) covering these bars; a bar with minutes
        inside it is walked minute by minute (its exact path) instead of by the pessimistic
        rule. Calling this once for a span or once per bar gives the same events, fills and
        equity. ``through_events``: go on to ``stop`` after a bar with events (for a caller
        that would not act on them before then) instead of returning there.
        """
        self._check_span(bars, start, stop)
        self._events.clear()
        funding: list[FundingApplied] = []
        segments: list[Segment] = []
        i = start
        clearing = self._clearing
        while i < stop:
            if clearing.position.size:  # nothing to settle while flat: skip the call
                self._settle(bars, i, funding)
            j, reason = (i, CANDIDATE) if self._book.needs_walk() else self._scan(bars, i, stop)
            if j > i:
                self._pass_quietly(bars, j)
                segments.append((j, *self._clearing.line()))
            if reason != CANDIDATE:
                i = j
                if reason == QUIET:
                    break
                continue  # bar j holds a funding settlement: book it, then look again
            events = len(self._events)
            self._walk(bars, j, minutes)
            segments.append((j + 1, *self._clearing.line()))
            i = j + 1
            if len(self._events) > events and not through_events:
                break
        return AdvanceResult(start, i, tuple(self._events), tuple(funding), tuple(segments), bars)

    def _settle(self, bars: NDArray[np.float64], i: int, booked: list[FundingApplied]) -> None:
        """Book the settlements due by the end of bar ``i`` for the position held at its start
        (called only while one is held).

        Due: at or after the end of the last bar processed (earlier ones were settled, or fell
        while flat) and before the end of bar ``i`` — inside it, or in a gap just before it.
        """
        if self._now_ms is None:
            return
        end = int(bars[i, 0]) + self._bar_ms
        due = self._next_settlement()
        if due is None or due[0] >= end:
            return
        mark = Decimal(round(float(bars[i, 1]) / self._tick)) * self._instrument.tick_size
        while due is not None and due[0] < end:
            event = self._clearing.settle_funding(utc_from_ms(due[0]), due[1], mark)
            if event is not None:
                booked.append(event)
            self._settled_ms = due[0] + 1
            due = self._next_settlement()

    def _next_settlement(self) -> tuple[int, Decimal] | None:
        """The first settlement not yet booked and not passed (bars passed while flat)."""
        return self._settlements.at_or_after(max(self._now_ms or 0, self._settled_ms))

    def _scan(self, bars: NDArray[np.float64], i: int, stop: int) -> tuple[int, int]:
        up, down = self._book.levels()
        settle_ms = math.inf
        size = self._clearing.position.size
        if size:
            if not self._protection.is_empty:
                tp_sl_up, tp_sl_down = self._protection.levels(size)
                up, down = min(up, tp_sl_up), max(down, tp_sl_down)
            level = self._clearing.liquidation_level
            if level is not None and self._clearing.liquidation_rising:
                up = min(up, level)
            elif level is not None:
                down = max(down, level)
            due = self._next_settlement()
            settle_ms = math.inf if due is None else float(due[0])
        trail = self._protection.trail
        j, reason = scan(bars, i, stop, self._tick, up, down, settle_ms, float(self._bar_ms), trail)
        return int(j), int(reason)

    def _pass_quietly(self, bars: NDArray[np.float64], j: int) -> None:
        """Bars up to ``j - 1`` where nothing happens: move the clock and the last price."""
        self._now_ms = int(bars[j - 1, 0]) + self._bar_ms
        self._close_at(float(bars[j - 1, 4]))

    def _close_at(self, close: float) -> None:
        ticks = float(round(close / self._tick))
        if ticks != self._last:
            self._last = ticks
            self._last_price = Decimal(int(ticks)) * self._instrument.tick_size

    def _walk(self, bars: NDArray[np.float64], j: int, minutes: NDArray[np.float64] | None) -> None:
        row = bars[j]
        units: NDArray[np.float64] | None = None
        if minutes is not None:
            ts = minutes[:, 0]
            begin = int(np.searchsorted(ts, row[0], side="left"))
            end = int(np.searchsorted(ts, row[0] + self._bar_ms, side="left"))
            if end > begin:
                units = minutes[begin:end]
        if units is None:  # no minutes for this bar: the pessimistic path of the bar itself
            self._matcher.walk(row, self._last)
        else:  # the exact path: each minute in turn
            last = self._last
            for unit in units:
                last = self._matcher.walk(unit, last)
        self._now_ms = int(row[0]) + self._bar_ms
        self._close_at(float(row[4]))

    def _check_span(self, bars: NDArray[np.float64], start: int, stop: int) -> None:
        if bars is not self._checked:
            if bars.ndim != 2 or bars.shape[1] != 6 or bars.dtype.type is not np.float64:
                raise InputError(
                    f"bars must be a float64 matrix of rows (ts, open, high, low, close, volume)"
                    f"; got shape {bars.shape} of {bars.dtype}"
                )
            self._checked = bars
        if not 0 <= start < stop <= len(bars):
            raise InputError(f"bars {start}..{stop} are not a span of the {len(bars)} bars given")
        if self._now_ms is not None and bars[start, 0] < self._now_ms:
            raise InputError(
                f"bar {start} opens at {utc_from_ms(int(bars[start, 0])):%Y-%m-%d %H:%M} UTC, "
                "before the end of the last bar processed: the exchange clock cannot go back"
            )

    # ---------------------------------------------------------------- orders

    def _refusal(self, order: OrderSubmitted) -> str | None:
        if self._book.is_used(order.client_order_id):
            used = order.client_order_id
            return f"client order id {used} is already used (110072 OrderLinkedID is duplicate)"
        last = self.last_price
        position = self._clearing.position
        reason = refusal(order, self._instrument, last, position.size)
        if (
            reason is not None
            or last is None
            or order.reduce_only
            or order.trigger_price is not None
        ):
            return reason  # stop orders hold no margin until they trigger
        price = order.price or last
        holders = self._book.margin_holders()
        return self._clearing.refusal(order.side, order.qty, price, last, holders)

    def _require(self, symbol: Symbol) -> None:
        if symbol != self._instrument.symbol:
            raise InputError(
                f"{symbol} is not traded here: this simulated exchange trades "
                f"{self._instrument.symbol}"
            )
