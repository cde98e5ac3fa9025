"""Bybit order reports → domain order events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tradeplay.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCreated,
    OrderDeactivated,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.values import ClientOrderId, OrderId
from tradeplay.venues.bybit.reports import OrderReport

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
