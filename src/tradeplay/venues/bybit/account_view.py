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
  ``Filled`` before its executions). Only orders that could change what is read count: of the
  symbol read for a position or its open orders; for the balance, which every fill of the
  account changes, of the symbol the reader trades when it names one (``trading``). Another
  pair's order on the account is concurrent with the reader: a REST read could equally have
  been answered before it was sent;
* **nothing received is ahead of the view** — the position's ``seq`` (Bybit's cross sequence,
  shared by a fill and the position update it caused, §11) is at least that of the last fill
  of its symbol, and a ``wallet`` message arrived after the last execution;
* **the last closed bar could not have changed it** — no take-profit, stop-loss, liquidation
  level or resting order's price lies within the bar's range, no trailing stop is set, and no
  funding settlement fell in the bar while a position was open. Bybit triggers on the last
  price by default, which the bar's high and low bound; a bar that reached a level may have
  filled something whose messages are still on the way.

Otherwise the read goes to REST, and its answer — the venue's truth at least as new as
everything received before the request — refreshes the view and clears what it answered for:
what arrived before the request, of the symbol read (a position) or of the account (the
wallet); a later fill or bar keeps its mark. The streams are the fast path, REST the fallback:
the view is never staler than REST would be about a fill already received.

State is changed on the event loop (stream handlers, re-syncs) and read from the engine's
thread, so every access holds one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Final

from tradeplay.domain.memory import remember
from tradeplay.domain.values import ZERO, ClientOrderId, OrderId, OrderType, Symbol
from tradeplay.ports import TradingStop
from tradeplay.venues.bybit._symbol_state import BarRange, SymbolState, may_have_changed
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport

__all__ = ["PRIVATE_TOPICS", "AccountView", "BarRange"]


PRIVATE_TOPICS: Final = frozenset({"order", "execution", "position", "wallet"})
_REMEMBERED_FINAL: Final = 10_000
_REMEMBERED_REPORTS: Final = 1_000
"""Final reports of our own orders kept for :meth:`AccountView.order_of` (an entry's
protection is placed within moments of its fill; an older one is looked up over REST)."""


@dataclass(slots=True)
class _Working:
    """An order of ours sent and not yet settled in the view."""

    symbol: Symbol
    fills_received: Decimal = ZERO
    report: OrderReport | None = None
    """The ``order`` topic's last word on it (``None``: no word yet)."""

    @property
    def resting(self) -> bool:
        """Reported working in the book (a limit or conditional order): its fill may take long."""
        report = self.report
        return report is not None and report.is_open and report.order_type is not OrderType.MARKET

    @property
    def final(self) -> bool:
        return self.report is not None and not self.report.is_open

    @property
    def settled(self) -> bool:
        """Final, with every fill the ``order`` topic reported received."""
        return self.final and self.fills_received >= (self.report.filled_qty if self.report else 0)


class AccountView:
    """Positions, balance and open orders of one account, kept from its private streams."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        """Guards everything; notified whenever the streams change something a reader may be
        waiting for (:meth:`position` and :meth:`balance` with ``wait_s``)."""
        self._live: set[str] = set()
        self._symbols: dict[Symbol, SymbolState] = {}
        self._balance: BalanceReport | None = None
        self._wallet_behind = False
        self._wallet_touched = False
        self._working: dict[ClientOrderId, _Working] = {}
        self._final: dict[OrderId, None] = {}
        """Orders seen final, oldest first (a dict: looked up at every order message)."""
        self._final_reports: dict[ClientOrderId, OrderReport] = {}
        self._generation = 0
        """Counts everything that may outdate a REST answer requested earlier: fills, funding,
        bars that touched something, lost topics; each marks what it outdates with it."""
        self._filled_at = 0
        self._touched_at = 0
        self._lost_at = 0

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
            self._lost_at = self._generation
            self._lock.notify_all()  # waiting for it is pointless now

    def on_order(self, report: OrderReport) -> None:
        with self._lock:
            self._order(report)
            self._lock.notify_all()

    def on_fill(
        self, symbol: Symbol, seq: int, link_id: ClientOrderId | None, qty: Decimal
    ) -> None:
        with self._lock:
            self._filled(symbol, seq)
            working = None if link_id is None else self._working.get(link_id)
            if working is not None and link_id is not None:
                working.fills_received += qty
                self._settle(link_id)
            self._lock.notify_all()

    def on_funding(self, symbol: Symbol, seq: int) -> None:
        with self._lock:
            self._filled(symbol, seq)

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
            if may_have_changed(state, bar, self._working):
                state.touched = True
                self._wallet_touched = True
                self._generation += 1
                state.touched_at = self._touched_at = self._generation
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
            self._lock.wait_for(lambda: not self._catching_up(symbol, positions=True), wait_s)
            state = self._symbols.get(symbol)
            if state is None or state.position is None or not self._quiet(symbol):
                return None
            if state.touched or state.position.seq < state.fill_seq:
                return None
            return state.position

    def balance(
        self, wait_s: float = 0.0, *, trading: Symbol | None = None
    ) -> BalanceReport | None:
        """The balance if the view is as fresh as REST (see :meth:`position`) for a reader
        trading ``trading`` (``None``: any symbol of the account)."""
        with self._lock:
            self._lock.wait_for(lambda: not self._balance_catching_up(trading), wait_s)
            if not self._quiet(trading) or self._wallet_behind or self._wallet_touched:
                return None
            return self._balance

    def open_orders(self, symbol: Symbol | None, wait_s: float = 0.0) -> list[OrderReport] | None:
        """The open orders of ``symbol`` (``None``: of every symbol) if the view is as fresh
        as REST (see :meth:`position`)."""
        with self._lock:
            if symbol is not None:
                self._lock.wait_for(lambda: not self._catching_up(symbol), wait_s)
            if not self._quiet(symbol):
                return None
            states = self._symbols.values() if symbol is None else [self._symbol(symbol)]
            return [order for state in states for order in state.orders.values()]

    def settle(self, symbol: Symbol, wait_s: float) -> None:
        """Wait up to ``wait_s`` for the outcome of our orders of ``symbol`` surely on their way
        (a market order sent at the last close meets the bar just closed): a bar's fills are
        then taken with that bar."""
        with self._lock:
            self._lock.wait_for(lambda: not self._catching_up(symbol), wait_s)

    def in_flight(
        self, exclude: Iterable[ClientOrderId | None]
    ) -> list[tuple[ClientOrderId, Symbol]]:
        """Our orders the view waits for, but those in ``exclude`` (after a reconnect: not
        listed as open, so to be looked up — they may have ended while the socket was down)."""
        skip = set(exclude)
        with self._lock:
            return [(cid, w.symbol) for cid, w in self._working.items() if cid not in skip]

    def order_of(self, link_id: ClientOrderId) -> tuple[bool, OrderReport | None]:
        """What the ``order`` topic reported of our order ``link_id``: ``(True, report)`` when
        the view can vouch for it — a final report (final is final), or the last report of an
        order the synced view still waits for (``None`` if none yet: Bybit has not told of it)
        — else ``(False, None)``: ask REST."""
        with self._lock:
            final = self._final_reports.get(link_id)
            if final is not None:
                return True, final
            working = self._working.get(link_id)
            if working is None or self._live != PRIVATE_TOPICS:
                return False, None
            return True, working.report

    def generation(self) -> int:
        """Taken before a REST read; given back with its answer (see :meth:`refreshed_position`)."""
        with self._lock:
            return self._generation

    def refreshed_position(self, report: PositionReport, generation: int) -> None:
        """A REST answer requested at ``generation``: it covers the symbol's last bar and every
        fill of it received before it (not what arrived meanwhile)."""
        with self._lock:
            self._position(report)
            state = self._symbol(report.symbol)
            if max(self._lost_at, state.touched_at) <= generation:
                state.touched = False
            if max(self._lost_at, state.filled_at) <= generation:
                state.fill_seq = min(state.fill_seq, report.seq)
            self._lock.notify_all()

    def refreshed_balance(self, report: BalanceReport, generation: int) -> None:
        """As :meth:`refreshed_position`, for the wallet: every fill and bar of the account."""
        with self._lock:
            self._balance = report
            if max(self._lost_at, self._filled_at) <= generation:
                self._wallet_behind = False
            if max(self._lost_at, self._touched_at) <= generation:
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

    def _symbol(self, symbol: Symbol) -> SymbolState:
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = SymbolState()
        return state

    def _quiet(self, symbol: Symbol | None) -> bool:
        """Synced, and no order of ours (of ``symbol``; ``None``: any) is in flight."""
        if self._live != PRIVATE_TOPICS:
            return False
        return not any(symbol is None or w.symbol == symbol for w in self._working.values())

    def _filled(self, symbol: Symbol, seq: int) -> None:
        state = self._symbol(symbol)
        state.fill_seq = max(state.fill_seq, seq)
        self._wallet_behind = True
        self._generation += 1
        state.filled_at = self._filled_at = self._generation

    def _catching_up(self, symbol: Symbol, *, positions: bool = False) -> bool:
        """Stale only until messages surely on their way arrive (nothing a bar may have set
        off, no resting order whose fill may take long): our orders of ``symbol`` in flight
        and, for ``positions``, the position update of a fill received."""
        state = self._symbols.get(symbol)
        if state is None or state.position is None or state.touched:
            return False
        if self._live != PRIVATE_TOPICS or not self._arriving(symbol):
            return False
        mine = any(w.symbol == symbol for w in self._working.values())
        return mine or (positions and state.position.seq < state.fill_seq)

    def _balance_catching_up(self, trading: Symbol | None) -> bool:
        if self._live != PRIVATE_TOPICS or self._wallet_touched or not self._arriving(trading):
            return False
        mine = any(trading in (None, w.symbol) for w in self._working.values())
        return self._wallet_behind or mine

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
        link_id = report.client_order_id
        if report.is_open:
            orders[report.order_id] = report
        else:
            orders.pop(report.order_id, None)
            remember(self._final, report.order_id, None, _REMEMBERED_FINAL)
            if link_id is not None:
                remember(self._final_reports, link_id, report, _REMEMBERED_REPORTS)
        working = None if link_id is None else self._working.get(link_id)
        if working is not None and link_id is not None:
            working.report = report
            self._settle(link_id)

    def _settle(self, link_id: ClientOrderId) -> None:
        if self._working[link_id].settled:
            del self._working[link_id]
