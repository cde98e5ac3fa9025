"""The account as its private streams report it: what the ``Exchange`` port's reads are served
from while it is known to be as fresh as a REST read would be.

Reading ``position/list`` and ``wallet-balance`` at every closed bar costs two round trips in
the engine's path. The ``position``, ``wallet``, ``order`` and ``execution`` topics carry the
same facts as they change (bybit_v5.md §7.2), so :class:`AccountView` keeps them and answers a
read itself — but only when nothing it knows of could have changed the account since:

* **synced** — every private topic is subscribed and was re-read over REST since its last
  (re)connection; a dropped or silent topic makes the view unsynced until its re-sync;
* **no order of ours is in flight** — an order sent and not yet reported final by the
  ``order`` topic *with* all its fills received from ``execution`` (Bybit may push the order's
  ``Filled`` before its executions);
* **nothing received is ahead of the view** — the position's ``seq`` (Bybit's cross sequence,
  shared by a fill and the position update it caused, §11) is at least that of the last fill
  of its symbol, and a ``wallet`` message arrived after the last execution;
* **the last closed bar could not have changed it** — no take-profit, stop-loss, liquidation
  level or resting order's price lies within the bar's range, no trailing stop is set, and no
  funding settlement fell in the bar while a position was open. Bybit triggers on the last
  price by default, which the bar's high and low bound; a bar that reached a level may have
  filled something whose messages are still on the way.

Otherwise the read goes to REST, and its answer — the venue's truth at least as new as
everything received before the request — refreshes the view and clears what it answered for
(unless something new arrived while it was on the way). The streams are the fast path, REST
the fallback: the view is never staler than REST would be about a fill already received.

State is changed on the event loop (stream handlers, re-syncs) and read from the engine's
thread, so every access holds one lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Final

from tradeplay.domain.values import ZERO, ClientOrderId, OrderId, OrderType, Price, Symbol
from tradeplay.ports import TradingStop
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport

__all__ = ["PRIVATE_TOPICS", "AccountView", "BarRange"]

PRIVATE_TOPICS: Final = frozenset({"order", "execution", "position", "wallet"})
_REMEMBERED_FINAL: Final = 10_000
# Bybit's funding settles on whole hours (intervals of 1, 2, 4 or 8 h, bybit_v5.md §10): when
# a symbol's interval is not known, every whole hour counts as a possible settlement.
_HOUR: Final = timedelta(hours=1)
# A liquidation level Bybit does not report ("" in liqPrice) is bounded conservatively: a
# position of leverage L is assumed at risk once the price moved half of 1/L against it
# (the real level is further: the whole initial margin less the maintenance margin).
_LIQUIDATION_SHARE: Final = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class BarRange:
    """A closed bar as far as the view cares: when it ran and how far the price went."""

    open_ms: int
    close_ms: int
    low: Price
    high: Price


@dataclass(slots=True)
class _Working:
    """An order of ours sent and not yet settled in the view."""

    symbol: Symbol
    resting: bool = False
    """Reported working in the book (a limit or conditional order): its fill may take long."""
    final: bool = False
    filled_qty: Decimal = ZERO
    """What the ``order`` topic says was filled; settled when the fills received reach it."""
    fills_received: Decimal = ZERO


@dataclass(slots=True)
class _Symbol:
    position: PositionReport | None = None
    fill_seq: int = -1
    """The highest ``seq`` of an execution of this symbol received."""
    touched: bool = False
    """The last closed bar may have changed the position: read it from REST."""
    levels: tuple[Price, ...] = ()
    """Protection levels we set and the ``position`` topic may not have reported yet."""
    funding_every: timedelta = _HOUR
    orders: dict[OrderId, OrderReport] = field(default_factory=dict)


class AccountView:
    """Positions, balance and open orders of one account, kept from its private streams."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        """Guards everything; notified whenever the streams change something a reader may be
        waiting for (:meth:`position` and :meth:`balance` with ``wait_s``)."""
        self._live: set[str] = set()
        self._symbols: dict[Symbol, _Symbol] = {}
        self._balance: BalanceReport | None = None
        self._wallet_behind = False
        self._wallet_touched = False
        self._working: dict[ClientOrderId, _Working] = {}
        self._final: deque[OrderId] = deque(maxlen=_REMEMBERED_FINAL)
        self._generation = 0
        """Counts everything that makes a REST answer requested earlier possibly outdated."""

    # ------------------------------------------------------------------ stream side (loop)

    def synced(self, topic: str) -> None:
        """``topic`` is subscribed and was just re-read over REST."""
        with self._lock:
            self._live.add(topic)
            self._lock.notify_all()

    def lost(self, topic: str) -> None:
        """``topic``'s socket dropped or went silent: what it would say is unknown until it is
        re-synced."""
        with self._lock:
            self._live.discard(topic)
            self._generation += 1
            self._lock.notify_all()  # waiting for it is pointless now

    def on_order(self, report: OrderReport) -> None:
        with self._lock:
            self._order(report)
            self._lock.notify_all()

    def on_fill(
        self, symbol: Symbol, seq: int, link_id: ClientOrderId | None, qty: Decimal
    ) -> None:
        with self._lock:
            state = self._symbol(symbol)
            state.fill_seq = max(state.fill_seq, seq)
            self._wallet_behind = True
            self._generation += 1
            working = None if link_id is None else self._working.get(link_id)
            if working is not None and link_id is not None:
                working.fills_received += qty
                self._settle(link_id)
            self._lock.notify_all()

    def on_funding(self, symbol: Symbol, seq: int) -> None:
        with self._lock:
            state = self._symbol(symbol)
            state.fill_seq = max(state.fill_seq, seq)
            self._wallet_behind = True
            self._generation += 1

    def on_position(self, report: PositionReport) -> None:
        with self._lock:
            self._position(report)
            self._lock.notify_all()

    def on_balance(self, report: BalanceReport) -> None:
        with self._lock:
            self._balance = report
            self._wallet_behind = False
            self._lock.notify_all()

    def bar_closed(self, symbol: Symbol, bar: BarRange) -> None:
        """A bar of ``symbol`` closed: did anything we hold meet its range?"""
        with self._lock:
            state = self._symbol(symbol)
            if _may_have_changed(state, bar, set(self._working)):
                state.touched = True
                self._wallet_touched = True
                self._generation += 1
                self._lock.notify_all()  # a reader waiting to catch up must ask REST now

    # ------------------------------------------------------------------ our own instructions

    def expect(self, link_id: ClientOrderId, symbol: Symbol) -> None:
        """An order of ours is about to be sent: reads wait for its outcome."""
        with self._lock:
            self._working[link_id] = _Working(symbol)

    def refused(self, link_id: ClientOrderId) -> None:
        """The order was refused before it reached the book: nothing will come of it."""
        with self._lock:
            self._working.pop(link_id, None)

    def protecting(self, stop: TradingStop) -> None:
        """A trading stop was set: watch its levels before the ``position`` topic says so."""
        levels = (stop.take_profit, stop.stop_loss)
        with self._lock:
            self._symbol(stop.symbol).levels = tuple(p for p in levels if p is not None)
            if stop.trailing_distance is not None:
                self._symbol(stop.symbol).touched = True  # its level moves with the price

    def funding_interval(self, symbol: Symbol, interval: timedelta) -> None:
        with self._lock:
            self._symbol(symbol).funding_every = interval

    # ------------------------------------------------------------------ reads (any thread)

    def position(self, symbol: Symbol, wait_s: float = 0.0) -> PositionReport | None:
        """The position if the view is as fresh as REST; ``None``: ask REST. When the view is
        only catching up with messages on their way (a fill's position update, a market order's
        outcome), wait up to ``wait_s`` for them first."""
        with self._lock:
            self._lock.wait_for(lambda: not self._position_catching_up(symbol), wait_s)
            state = self._symbols.get(symbol)
            if state is None or state.position is None or not self._quiet(symbol):
                return None
            if state.touched or state.position.seq < state.fill_seq:
                return None
            return state.position

    def balance(self, wait_s: float = 0.0) -> BalanceReport | None:
        """The balance if the view is as fresh as REST (see :meth:`position`)."""
        with self._lock:
            self._lock.wait_for(lambda: not self._balance_catching_up(), wait_s)
            if not self._quiet(None) or self._wallet_behind or self._wallet_touched:
                return None
            return self._balance

    def open_orders(self, symbol: Symbol | None) -> list[OrderReport] | None:
        with self._lock:
            if not self._quiet(None):
                return None
            states = self._symbols.values() if symbol is None else [self._symbol(symbol)]
            return [order for state in states for order in state.orders.values()]

    def in_flight(
        self, exclude: Iterable[ClientOrderId | None]
    ) -> list[tuple[ClientOrderId, Symbol]]:
        """Our orders the view waits for, but those in ``exclude`` (after a reconnect: not
        listed as open, so to be looked up — they may have ended while the socket was down)."""
        skip = set(exclude)
        with self._lock:
            return [(cid, w.symbol) for cid, w in self._working.items() if cid not in skip]

    def generation(self) -> int:
        """Taken before a REST read; given back with its answer (see :meth:`refreshed_position`)."""
        with self._lock:
            return self._generation

    def refreshed_position(self, report: PositionReport, generation: int) -> None:
        """A REST answer requested at ``generation``: it covers the last bar and every fill
        received before it, unless something new arrived meanwhile."""
        with self._lock:
            self._position(report)
            if generation == self._generation:
                state = self._symbol(report.symbol)
                state.touched = False
                state.fill_seq = min(state.fill_seq, report.seq)
            self._lock.notify_all()

    def refreshed_balance(self, report: BalanceReport, generation: int) -> None:
        with self._lock:
            self._balance = report
            if generation == self._generation:
                self._wallet_behind = False
                self._wallet_touched = False
            self._lock.notify_all()

    def open_order_ids(self) -> set[OrderId]:
        with self._lock:
            return {oid for state in self._symbols.values() for oid in state.orders}

    def resynced_orders(self, reports: Iterable[OrderReport], known: set[OrderId]) -> None:
        """Every open order as REST listed it after a reconnect: of the orders ``known`` as
        open before the request, those not listed have ended while the socket was down."""
        listed = list(reports)
        ids = {report.order_id for report in listed}
        with self._lock:
            for state in self._symbols.values():
                for order_id in known - ids:
                    state.orders.pop(order_id, None)
            for report in listed:
                self._order(report)
            self._lock.notify_all()

    def refreshed_orders(self, reports: Iterable[OrderReport]) -> None:
        """Orders as REST reported them (after a cancel, a lookup …)."""
        with self._lock:
            for report in reports:
                self._order(report)
            self._lock.notify_all()

    # ------------------------------------------------------------------ inside the lock

    def _symbol(self, symbol: Symbol) -> _Symbol:
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _Symbol()
        return state

    def _quiet(self, symbol: Symbol | None) -> bool:
        """Synced, and no order of ours (of ``symbol``; ``None``: any) is in flight."""
        if self._live != PRIVATE_TOPICS:
            return False
        return not any(symbol is None or w.symbol == symbol for w in self._working.values())

    def _position_catching_up(self, symbol: Symbol) -> bool:
        """Stale only until messages surely on their way arrive (nothing a bar may have set
        off, no resting order whose fill may take long)."""
        state = self._symbols.get(symbol)
        if state is None or state.position is None or state.touched:
            return False
        if self._live != PRIVATE_TOPICS or not self._arriving(symbol):
            return False
        mine = [w for w in self._working.values() if w.symbol == symbol]
        return bool(mine) or state.position.seq < state.fill_seq

    def _balance_catching_up(self) -> bool:
        if self._live != PRIVATE_TOPICS or self._wallet_touched or not self._arriving(None):
            return False
        return self._wallet_behind or bool(self._working)

    def _arriving(self, symbol: Symbol | None) -> bool:
        """Whether every order of ours in flight (of ``symbol``) will settle by itself soon:
        not reported yet, a market order, or finished and waiting for its fills."""
        return not any(
            w.resting and not w.final
            for w in self._working.values()
            if symbol is None or w.symbol == symbol
        )

    def _position(self, report: PositionReport) -> None:
        state = self._symbol(report.symbol)
        if state.position is not None and report.seq < state.position.seq:
            return  # an older update overtaken by a REST answer
        state.position = report
        if report.size == 0:
            state.levels = ()

    def _order(self, report: OrderReport) -> None:
        if report.order_id in self._final:
            return  # final is final: a late or repeated message does not reopen it
        orders = self._symbol(report.symbol).orders
        if report.is_open:
            orders[report.order_id] = report
        else:
            orders.pop(report.order_id, None)
            self._final.append(report.order_id)
        link_id = report.client_order_id
        working = None if link_id is None else self._working.get(link_id)
        if working is not None and link_id is not None:
            working.final = not report.is_open
            working.resting = report.is_open and report.order_type is not OrderType.MARKET
            working.filled_qty = report.filled_qty
            self._settle(link_id)

    def _settle(self, link_id: ClientOrderId) -> None:
        working = self._working[link_id]
        if working.final and working.fills_received >= working.filled_qty:
            del self._working[link_id]


def _may_have_changed(state: _Symbol, bar: BarRange, ours: set[ClientOrderId]) -> bool:
    """Whether anything of ``state`` could have filled, triggered or settled in ``bar``
    (``ours``: orders in flight, whose outcome the view waits for anyway)."""
    position = state.position
    levels = list(state.levels)
    for order in state.orders.values():
        if order.trigger_price is None and order.price is None:
            if order.client_order_id in ours:
                continue
            return True  # someone else's market order: it fills at any price
        levels += [p for p in (order.trigger_price, order.price) if p is not None]
    held = position is not None and position.size != 0
    if held and position is not None:
        if position.trailing_stop:
            return True
        levels += [p for p in (position.take_profit, position.stop_loss) if p]
        levels += [_liquidation_bound(position)]
        if _settles_funding(bar, state.funding_every):
            return True
    return any(bar.low <= level <= bar.high for level in levels)


def _liquidation_bound(position: PositionReport) -> Price:
    """Bybit's liquidation price, or a conservative level short of it when not given."""
    if position.liquidation_price:
        return position.liquidation_price
    entry = position.entry_price or ZERO
    leverage = position.leverage or Decimal(1)
    move = entry * _LIQUIDATION_SHARE / leverage
    return entry - move if position.size > 0 else entry + move


def _settles_funding(bar: BarRange, interval: timedelta) -> bool:
    """Whether a settlement time (a multiple of ``interval`` since the epoch) is in the bar."""
    every = int(interval.total_seconds() * 1000)
    next_settlement = -(-bar.open_ms // every) * every
    return next_settlement <= bar.close_ms
