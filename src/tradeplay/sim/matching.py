"""Walking one bar: the price path inside it, and the order in which orders meet that path.

A bar only says where the price opened, how high and low it went and where it closed. The walk
turns it into a path of four points and lets orders meet the price along it.

The path rule (pessimistic; decided after the open has been dealt with)
    * long position:  open → **low** → high → close — the adverse extreme first, so a
      stop-loss (or the liquidation price) is reached before a take-profit in the same bar:
      **stop before target**;
    * short position: open → **high** → low → close, for the same reason;
    * flat: open → the extreme nearer the open → the other → close (a tie goes low first).
    With 1-minute candles the exchange walks each minute in turn with this same rule, which
    pins the real order of the bar's extremes to the minute.

At the open (the first price an order sent after the previous close can meet)
    1. market orders (and triggered orders waiting for volume) fill at the open, in the order
       they were sent, as takers with slippage;
    2. limit orders that were marketable when sent, and IOC / FOK limits, meet the open: if the
       open is at or better than the limit they take liquidity there (a buy limit at 100 when
       the bar opens at 95 fills at 95 — the book offered 95), otherwise a GTC one rests and an
       IOC / FOK one expires;
    3. everything the gap from the previous close to the open went through fires, in the
       order a continuous move would have crossed it: a stop (stop order, stop-loss, trailing
       stop) gapped through fills at the **open**, the worse price (gap-through-stop); a limit
       that was already resting fills at its own **limit** as a maker (it was in the book
       while the price moved through it; taking the better open would be optimistic).

Along each leg of the path
    Levels are met in the order the price reaches them, each at its own price: a resting limit
    at its limit (maker, no slippage), a stop or take-profit / stop-loss as a market order at
    its trigger price (taker, slippage against the trader; Bybit's default ``tpOrderType`` /
    ``slOrderType`` is ``Market``). At one price the liquidation goes first, then stops, then
    limits and take-profits (stop before target again), then time priority. Touching a limit is
    enough to fill it (queue position is not modelled; ``max_volume_share`` is the brake).

Volume (``max_volume_share``): at most that share of the bar's (minute's) volume fills in it,
shared by all fills in path order; what is left of a GTC order keeps working (a market order's
rest fills from the next open on), of an IOC order expires, and a FOK order fills whole or
expires. A liquidation ignores the cap: the exchange takes the position over.

Reduce-only orders never grow the position: a fill is clipped to the position's size, and an
order with nothing left to reduce is cancelled (Bybit ``CancelByReduceOnly``). When the
position closes or flips, its protection is cancelled, and so are the reduce-only orders left
with nothing to reduce (all of them when flat; after a flip, those that would grow it).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.events import OrderEvent, OrderFilled, OrderTriggered
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.values import (
    Liquidity,
    OrderId,
    OrderType,
    Price,
    Quantity,
    Side,
    TimeInForce,
    utc_from_ms,
)
from tradeplay.ports import TradingStop
from tradeplay.sim.book import Ids, OrderBook, Origin, Stage, WorkingOrder, end_order
from tradeplay.sim.clearing import Clearing
from tradeplay.sim.protection import PositionGuard
from tradeplay.sim.slippage import SlippageModel, slipped_price
from tradeplay.sim.triggers import Target, Trigger, collect, first_at, nearest

__all__ = ["Matcher"]

_IMMEDIATE: Final = (TimeInForce.IOC, TimeInForce.FOK)

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_FILLED, _MARKET = OrderStatus.FILLED, Stage.MARKET
_FOK, _TAKER = TimeInForce.FOK, Liquidity.TAKER
_ONE: Final = Decimal(1)


class Matcher:
    """Walks bars for one symbol, meeting its orders, protection and liquidation level."""

    __slots__ = (
        "_book",
        "_budget",
        "_cache",
        "_clearing",
        "_events",
        "_ids",
        "_instrument",
        "_price",
        "_protection",
        "_share",
        "_slippage",
        "_tick",
        "_time",
        "_time_ms",
        "_volume",
    )

    def __init__(  # noqa: PLR0917
        self,
        instrument: Instrument,
        book: OrderBook,
        protection: PositionGuard,
        clearing: Clearing,
        ids: Ids,
        events: list[OrderEvent],
        *,
        slippage: SlippageModel,
        max_volume_share: Decimal | None,
    ) -> None:
        self._instrument = instrument
        self._book = book
        self._protection = protection
        self._clearing = clearing
        self._ids = ids
        self._events = events
        self._slippage = slippage
        self._share = max_volume_share
        self._tick = float(instrument.tick_size)
        self._price = 0.0
        self._time_ms = 0
        self._time: datetime | None = None
        self._volume = 0.0
        self._budget: Quantity | None = None
        self._cache: list[Trigger] | None = None
        """What can fire, until something changes (a fill, a trigger, a trailing step)."""

    # ---------------------------------------------------------------- the walk

    def walk(self, row: NDArray[np.float64], origin: float | None) -> float:
        """Walk one bar (or minute) ``row``; ``origin``: the previous close in ticks.

        Returns the close in ticks.
        """
        tick = self._tick
        ts, open_, high, low, close, self._volume = row.tolist()
        self._time_ms, self._time, self._cache = int(ts), None, None
        if self._share is not None:
            self._budget = self._instrument.round_qty(Decimal(repr(self._volume)) * self._share)
        open_, high = float(round(open_ / tick)), float(round(high / tick))
        low, close = float(round(low / tick)), float(round(close / tick))
        self._open(open_, open_ if origin is None else origin)
        if not self._triggers() and not self._protection.trailing:
            return close  # nothing left that the rest of the bar could fire
        # The path's order is chosen now, with the position as it is after the open.
        size = self._clearing.position.size
        low_first = size > 0 or (size == 0 and open_ - low <= high - open_)
        for point in (low, high, close) if low_first else (high, low, close):
            self._leg(point)
        return close

    def _open(self, open_: float, origin: float) -> None:
        self._price = open_
        for order in self._book:
            if order.status.is_final:
                continue  # cancelled by an earlier fill in this loop
            if order.stage is _MARKET:
                self._cache = None
                self._take(order)
            elif order.stage is Stage.ARRIVING:
                self._cache = None
                self._arrive(order)
        self._fire_at(open_, origin)
        self._reach(open_)

    def _leg(self, point: float) -> None:
        while (trigger := self._nearest(point)) is not None:
            origin, self._price = self._price, trigger.level
            self._fire_at(trigger.level, origin)
        self._price = point
        self._reach(point)

    def _reach(self, point: float) -> None:
        if self._protection.reach(point):
            self._cache = None  # the trailing stop moved

    # ---------------------------------------------------------------- what can fire

    def _triggers(self) -> list[Trigger]:
        if self._cache is None:
            clearing = self._clearing
            level = clearing.liquidation_level
            liquidation = None if level is None else (level, clearing.liquidation_rising)
            self._cache = collect(self._book, self._protection, clearing.position.size, liquidation)
        return self._cache

    def _nearest(self, point: float) -> Trigger | None:
        return nearest(self._triggers(), self._price, point)

    def _fire_at(self, price: float, origin: float) -> None:
        """Fire everything satisfied at ``price``, in the order a move from ``origin`` meets it."""
        if not self._triggers():
            return  # nothing can fire (the usual open of a bar with only a market order)
        handled: set[Target] = set()
        while (trigger := first_at(self._triggers(), price, origin, handled)) is not None:
            handled.add(trigger.target)
            self._fire(trigger)

    def _fire(self, trigger: Trigger) -> None:
        self._cache = None
        target = trigger.target
        if target is None:
            self._liquidate()
        elif isinstance(target, Origin):
            self._protect(target, trigger)
        elif target.stage is Stage.WAITING:
            self._trigger(target)
        else:
            self._fill_resting(target)

    # ---------------------------------------------------------------- what firing does

    def _trigger(self, order: WorkingOrder) -> None:
        """A stop order's trigger price was reached: it becomes a market or a limit order."""
        order.move(OrderStatus.TRIGGERED, self.time)
        self._events.append(OrderTriggered(client_order_id=order.client_order_id, time=self.time))
        if not order.reduce_only:
            # Bybit reserves a stop order's margin only now; without it the order is refused.
            mark = self.price
            reference = order.price or mark
            others = [o for o in self._book.margin_holders() if o is not order]
            reason = self._clearing.refusal(order.side, order.remaining, reference, mark, others)
            if reason is not None:
                self._finish(order, OrderStatus.REJECTED, reason)
                return
        if order.price is None:
            order.stage = Stage.MARKET
            self._take(order)
        elif order.time_in_force is TimeInForce.POST_ONLY and order.limit_allows(self.price):
            reason = "EC_PostOnlyWillTakeLiquidity: the limit is marketable where it triggered"
            self._finish(order, OrderStatus.CANCELLED, reason)
        else:
            self._arrive(order)  # a stop-limit meets the market where it triggered

    def _protect(self, origin: Origin, trigger: Trigger) -> None:
        """A take-profit / stop-loss / trailing stop fired: close the whole position at market."""
        size = self._clearing.position.size
        order = WorkingOrder(
            self._ids.system(origin),
            self._ids.order(),
            self._instrument.symbol,
            Side.SELL if size > 0 else Side.BUY,
            OrderType.STOP_MARKET,
            abs(size),
            self.time,
            trigger_price=Decimal(int(trigger.level)) * self._instrument.tick_size,
            reduce_only=True,
            origin=origin,
        )
        self._protection.remove(origin)
        self._book.add(order)
        order.move(OrderStatus.TRIGGERED, self.time)
        self._events.append(OrderTriggered(client_order_id=order.client_order_id, time=self.time))
        self._take(order)

    def _liquidate(self) -> None:
        trigger = self._clearing.breach(self.price)
        if trigger is None:
            return
        # Bybit cancels the symbol's orders before it takes the position over.
        for order in self._book:
            self._cancel(order, "CancelAllBeforeLiq: the position is being liquidated")
        client_order_id = self._ids.system(Origin.LIQUIDATION)
        order_id = OrderId(f"sim-{client_order_id}")
        fill = self._clearing.take_over(trigger, order_id, self.time)
        self._events.append(OrderFilled(client_order_id=client_order_id, time=self.time, fill=fill))
        self._protection.clear()

    def _arrive(self, order: WorkingOrder) -> None:
        """A limit order meets the open: take liquidity if marketable there, else rest or go."""
        if order.limit_allows(self.price):
            self._take(order)
        elif order.time_in_force in _IMMEDIATE:
            reason = "EC_NoImmediateQtyToFill: the limit was not marketable at the open"
            self._finish(order, OrderStatus.EXPIRED, reason)
        else:
            self._rest(order)

    def _take(self, order: WorkingOrder) -> None:
        """Fill as a taker at the current price, as far as volume and reduce-only allow."""
        qty = self._fillable(order)
        if qty is None:
            return
        if order.time_in_force is _FOK and qty < order.remaining:
            reason = "EC_CancelForNoFullFill: the whole quantity could not fill at once"
            self._finish(order, OrderStatus.EXPIRED, reason)
            return
        if qty > 0:
            fraction = self._slippage.fraction(qty, self._volume)
            price = slipped_price(self._instrument, self.price, order.side, fraction)
            if order.price is not None and not order.limit_allows(price):
                price = order.price  # a limit never fills beyond its limit
            self._fill(order, qty, price, _TAKER)
        if order.status.is_final:
            return
        if order.time_in_force in _IMMEDIATE:
            reason = "EC_NoImmediateQtyToFill: the rest found no volume"
            self._finish(order, OrderStatus.EXPIRED, reason)
        elif order.price is not None:
            self._rest(order)
        else:
            order.stage = Stage.MARKET  # the rest fills from the next open on

    def _rest(self, order: WorkingOrder) -> None:
        """A limit order goes into the book at its price (a maker from now on)."""
        assert order.price is not None  # only limit orders rest
        order.wait_for(
            Stage.RESTING, float(order.price / self._instrument.tick_size), not order.is_buy
        )
        if order.status is OrderStatus.TRIGGERED:
            order.move(OrderStatus.NEW, self.time)

    def _fill_resting(self, order: WorkingOrder) -> None:
        """The price came to a resting limit: it fills at its limit as a maker."""
        qty = self._fillable(order)
        if qty and order.price is not None:
            self._fill(order, qty, order.price, Liquidity.MAKER)

    def _fillable(self, order: WorkingOrder) -> Quantity | None:
        """What may fill now; ``None`` when the order was cancelled for having nothing to reduce."""
        qty = order.remaining
        if order.reduce_only:
            size = self._clearing.position.size
            if size == 0 or (size > 0) == order.is_buy:
                self._cancel(order, "CancelByReduceOnly: no position left to reduce")
                return None
            qty = min(qty, abs(size))
        if self._budget is not None:
            qty = min(qty, self._budget)
        return qty

    def _fill(self, order: WorkingOrder, qty: Quantity, price: Price, liquidity: Liquidity) -> None:
        before = self._clearing.position.size
        fill = self._clearing.book_fill(
            order.order_id, order.client_order_id, order.side, qty, price, liquidity, self.time
        )
        order.record_fill(fill)
        self._events.append(
            OrderFilled(client_order_id=order.client_order_id, time=self.time, fill=fill)
        )
        if self._budget is not None:
            self._budget -= qty
        if order.status is _FILLED:
            self._book.discard(order)
        after = self._clearing.position.size
        if before and (not after or (after > 0) != (before > 0)):
            self._position_closed(after)
        if order.protection is not None and after and (after > 0) == order.is_buy:
            self._attach(order)

    def _attach(self, order: WorkingOrder) -> None:
        """An entry with attached protection filled: place its stop and target at once.

        Levels resolve from the order's average fill price so far; they apply to the rest of
        this bar's path too (pessimistic: the stop can be hit in the bar the entry filled in).
        Rounded to the tick toward the entry — never a wider loss, never a farther target.
        """
        assert order.protection is not None
        entry = order.filled_value / order.filled_qty
        stop, target = order.protection.resolve(order.side, entry)
        tick = self._instrument.tick_size
        long = order.is_buy
        self._protection.replace(
            TradingStop(
                order.symbol,
                take_profit=None if target is None else _to_tick(target, tick, up=not long),
                stop_loss=None if stop is None else _to_tick(stop, tick, up=long),
            ),
            self._instrument,
            self._clearing.position.size,
            self.price,
        )

    def _position_closed(self, after: Quantity) -> None:
        """The position closed or flipped: its protection goes, and so do the reduce-only
        orders that have nothing left to reduce (all of them when flat; after a flip, those
        on the new position's side)."""
        self._protection.clear()
        for order in self._book:
            if order.reduce_only and (not after or (after > 0) == order.is_buy):
                self._cancel(order, "CancelByReduceOnly: the position is closed")

    # ---------------------------------------------------------------- endings

    def _cancel(self, order: WorkingOrder, reason: str) -> None:
        self._finish(order, OrderStatus.CANCELLED, reason)

    def _finish(self, order: WorkingOrder, status: OrderStatus, reason: str) -> None:
        self._events.append(end_order(order, status, reason, self.time))
        self._book.discard(order)

    # ---------------------------------------------------------------- now

    @property
    def time(self) -> datetime:
        """Events in a bar are stamped with the bar's (minute's) open time."""
        if self._time is None:
            self._time = utc_from_ms(self._time_ms)
        return self._time

    @property
    def price(self) -> Price:
        """The current price of the walk as an exact price on the tick grid."""
        return Decimal(int(self._price)) * self._instrument.tick_size


def _to_tick(price: Price, tick: Decimal, *, up: bool) -> Price:
    ticks = (price / tick).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
    return max(ticks, _ONE) * tick
