"""Bybit order reports → domain order events, and waiting (bounded) for an entry to fill."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

from tradeplay.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCreated,
    OrderDeactivated,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.values import ClientOrderId, OrderId
from tradeplay.venues.bybit.reports import OrderReport

if TYPE_CHECKING:  # the venue imports this module; only its type is needed here
    from tradeplay.venues.bybit.venue import BybitVenue

#: How often an order is asked for while waiting for its fill. Bybit fills a market order within
#: milliseconds; the order stream usually answers first, this is the fallback.
POLL_S: Final = 0.1

_S = OrderStatus


def acknowledged(link_id: ClientOrderId, order_id: OrderId, time: datetime) -> list[OrderEvent]:
    """The create answer: Bybit has the order. Nothing more is known from it (§6.6)."""
    return [OrderAccepted(client_order_id=link_id, order_id=order_id, time=time)]


def order_events(report: OrderReport, time: datetime, fills: Sequence[Fill]) -> list[OrderEvent]:
    """The events that take a pending order to ``report``'s status, with its ``fills``.

    Fills come from executions only; a fill already counted elsewhere is the caller's to drop.
    """
    cid = report.client_order_id or ClientOrderId(report.order_id)
    if report.status is _S.REJECTED:
        reason = report.reason or "rejected by Bybit"
        return [OrderRejected(client_order_id=cid, time=time, reason=reason)]
    if report.status is _S.CREATED:
        return [OrderCreated(client_order_id=cid, order_id=report.order_id, time=time)]
    events: list[OrderEvent] = [
        OrderAccepted(client_order_id=cid, order_id=report.order_id, time=time)
    ]
    events += [OrderFilled(client_order_id=cid, time=fill.time, fill=fill) for fill in fills]
    reason = report.reason
    if report.status is _S.CANCELLED:
        events.append(OrderCancelled(client_order_id=cid, time=time, reason=reason))
    elif report.status is _S.EXPIRED:
        events.append(OrderExpired(client_order_id=cid, time=time, reason=reason))
    elif report.status is _S.DEACTIVATED:
        events.append(OrderDeactivated(client_order_id=cid, time=time, reason=reason))
    return events


async def wait_for_fill(
    venue: BybitVenue,
    order: OrderSubmitted,
    timeout_s: float,
    sleep: Callable[[float], Awaitable[None]],
) -> OrderReport | None:
    """The order once it is filled or finished, asking Bybit every :data:`POLL_S`; ``None``
    if it is still working after ``timeout_s`` (a resting limit entry, say)."""
    waited = 0.0
    while True:
        report = await venue.find_order(order.symbol, order.client_order_id)
        if report is not None and (report.status is _S.FILLED or not report.is_open):
            return report
        if waited >= timeout_s:
            return None
        await sleep(POLL_S)
        waited += POLL_S
