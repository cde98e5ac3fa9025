"""The order records the book rebuilds from its rows equal the checked constructor's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.values import ClientOrderId, OrderId, OrderType, Side, Symbol, TimeInForce
from tradeplay.sim.book import OrderBook, WorkingOrder

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 1, 1, 0, 1, tzinfo=UTC)


def test_a_finished_orders_record_is_the_one_its_constructor_builds() -> None:
    order = WorkingOrder(
        ClientOrderId("bt-1"),
        OrderId("sim-o1"),
        Symbol("BTCUSDT"),
        Side.SELL,
        OrderType.LIMIT,
        Decimal("0.5"),
        T0,
        price=Decimal("42000.5"),
        time_in_force=TimeInForce.POST_ONLY,
        reduce_only=True,
    )
    order.move(OrderStatus.NEW, T0)
    # Partly filled, each running total its own figure: a field read from the wrong place of
    # the row shows.
    order.filled_qty, order.filled_value, order.fees = (
        Decimal("0.2"),
        Decimal("8400.1"),
        Decimal("-0.84001"),
    )
    order.move(OrderStatus.PARTIALLY_FILLED, T0)
    order.move(OrderStatus.CANCELLED, T1, "CancelByUser")
    book = OrderBook()
    book.add(order)
    book.discard(order)

    (record,) = book.finished()

    checked = Order(
        client_order_id=ClientOrderId("bt-1"),
        symbol=Symbol("BTCUSDT"),
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.5"),
        price=Decimal("42000.5"),
        trigger_price=None,
        time_in_force=TimeInForce.POST_ONLY,
        reduce_only=True,
        created_at=T0,
        updated_at=T1,
        status=OrderStatus.CANCELLED,
        order_id=OrderId("sim-o1"),
        filled_qty=Decimal("0.2"),
        filled_value=Decimal("8400.1"),
        fees=Decimal("-0.84001"),
        reason="CancelByUser",
    )
    assert record == checked
    assert dataclasses.astuple(record) == dataclasses.astuple(checked)
    assert type(record.side) is Side
    assert type(record.status) is OrderStatus
