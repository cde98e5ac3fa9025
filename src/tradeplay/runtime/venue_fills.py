"""A venue account's reports, sorted for the pairs trading it.

The account's private streams (:class:`~tradeplay.venues.bybit.account_streams.AccountStreams`)
tell a :class:`FillRouter` every order, fill, position and balance; at each closed bar a pair's
:class:`~tradeplay.runtime.venue_session.VenueMarket` collects the fills of its symbol and the
orders of ours the venue ended without filling them. One router serves a session's account,
whether one play trades it (``tradeplay run``) or several (``tradeplay up``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

import structlog

from tradeplay.domain.events import (
    FundingApplied,
    OrderCancelled,
    OrderDeactivated,
    OrderEvent,
    OrderExpired,
    OrderRejected,
)
from tradeplay.domain.fill import Fill
from tradeplay.domain.memory import remember
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.values import OrderId, Symbol
from tradeplay.sim.book import Origin
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport

__all__ = ["FillRouter", "ended_event"]

log = structlog.get_logger(__name__)


class FillRouter:
    """The account's reports from its private streams: each fill, and each of our orders the
    venue ended without filling it, kept for the pair trading its symbol until that pair's
    next bar collects them.

    A fill without our ``orderLinkId`` is the venue's own order: a position's take-profit or
    stop-loss (or a liquidation, a manual order). Bybit's execution row says which in its
    ``stopOrderType``, but the parsed :class:`Fill` does not carry it; the ``order`` topic
    does, so the router remembers the ``stopOrderType`` of each such order it reports.
    """

    def __init__(self, environment: str, forward: Callable[[Fill], None]) -> None:
        self._environment = environment
        self._forward = forward
        self._lock = threading.Lock()
        self._fills: dict[Symbol, list[Fill]] = {}
        self._ended: dict[Symbol, list[OrderReport]] = {}
        self._stop_types: dict[OrderId, str] = {}

    def on_order(self, report: OrderReport) -> None:
        log.debug("venue_order", environment=self._environment, status=report.status)
        with self._lock:
            if report.client_order_id is None:
                if report.stop_order_type:
                    stop_type = report.stop_order_type
                    remember(self._stop_types, report.order_id, stop_type, _STOP_TYPES_KEPT)
            elif report.status in _ENDED_UNFILLED:
                self._ended.setdefault(report.symbol, []).append(report)

    def on_fill(self, fill: Fill) -> None:
        with self._lock:
            self._fills.setdefault(fill.symbol, []).append(fill)
        self._forward(fill)  # the session's own inbox: it places an entry's protection

    def on_funding(self, funding: FundingApplied) -> None:
        log.info("funding_settled", environment=self._environment, symbol=funding.symbol)

    def on_position(self, report: PositionReport) -> None:
        log.debug("venue_position", environment=self._environment, symbol=report.symbol)

    def on_balance(self, report: BalanceReport) -> None:
        log.debug("venue_balance", environment=self._environment)

    def drain(self, symbol: Symbol) -> tuple[list[Fill], list[OrderReport]]:
        """The fills of ``symbol`` and the orders ended unfilled since the last drain."""
        with self._lock:
            return self._fills.pop(symbol, []), self._ended.pop(symbol, [])

    def origin(self, fill: Fill) -> Origin | None:
        """Who placed the order ``fill`` executes; ``None`` when not known (yet)."""
        if fill.client_order_id is not None:
            return Origin.USER
        with self._lock:
            stop_type = self._stop_types.get(fill.order_id, "")
        return _ORIGINS.get(stop_type)


def ended_event(report: OrderReport) -> OrderEvent:
    """The event that ends our order as the venue reports it ended (not filled)."""
    link, time, reason = report.to_order().client_order_id, report.updated_at, report.reason
    if report.status is OrderStatus.REJECTED:
        return OrderRejected(client_order_id=link, time=time, reason=reason or "rejected by Bybit")
    if report.status is OrderStatus.EXPIRED:
        return OrderExpired(client_order_id=link, time=time, reason=reason)
    if report.status is OrderStatus.DEACTIVATED:
        return OrderDeactivated(client_order_id=link, time=time, reason=reason)
    return OrderCancelled(client_order_id=link, time=time, reason=reason)


_ENDED_UNFILLED: Final = frozenset(
    {OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.DEACTIVATED, OrderStatus.REJECTED}
)
_STOP_TYPES_KEPT: Final = 1000
"""Venue orders whose ``stopOrderType`` the router remembers (their fills come within a bar)."""
_ORIGINS: Final = {
    "TakeProfit": Origin.TAKE_PROFIT,
    "PartialTakeProfit": Origin.TAKE_PROFIT,
    "StopLoss": Origin.STOP_LOSS,
    "PartialStopLoss": Origin.STOP_LOSS,
    "TrailingStop": Origin.TRAILING_STOP,
}
PROTECTIVE_STOP_TYPES: Final = frozenset(_ORIGINS)
"""Bybit's ``stopOrderType`` of a position's own take-profit, stop-loss or trailing stop."""
