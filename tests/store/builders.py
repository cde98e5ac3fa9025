"""Domain values for the persistence tests, with exact numbers that are easy to lose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.values import (
    ClientOrderId,
    Liquidity,
    OrderId,
    OrderType,
    Side,
    TimeInForce,
    TradeId,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
EIGHTEEN_DECIMALS = Decimal("0.123456789012345678")
LARGE = Decimal("123456789012345678901234.5")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def order(
    client_order_id: str = "tp-1",
    *,
    status: OrderStatus = OrderStatus.PENDING,
    updated: float = 0,
    filled_qty: Decimal = Decimal(0),
) -> Order:
    return Order(
        client_order_id=ClientOrderId(client_order_id),
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.STOP_LIMIT,
        qty=Decimal("0.010"),
        price=Decimal("42000.50"),
        trigger_price=Decimal("41999.9"),
        time_in_force=TimeInForce.GTC,
        reduce_only=False,
        created_at=T0,
        updated_at=at(updated),
        status=status,
        order_id=None if status is OrderStatus.PENDING else OrderId(f"venue-{client_order_id}"),
        filled_qty=filled_qty,
        filled_value=filled_qty * Decimal("42000.50"),
        fees=Decimal("0.000231"),
        reason="",
    )


def fill(trade_id: str = "exec-1", *, seconds: float = 1, client_order_id: str = "tp-1") -> Fill:
    return Fill(
        trade_id=TradeId(trade_id),
        order_id=OrderId(f"venue-{client_order_id}"),
        client_order_id=ClientOrderId(client_order_id),
        symbol="BTCUSDT",
        side=Side.BUY,
        qty=Decimal("0.005"),
        price=Decimal("42000.50"),
        fee=Decimal("-0.0000105"),  # a maker rebate: negative, as Bybit reports it
        fee_currency="USDT",
        liquidity=Liquidity.MAKER,
        time=at(seconds),
    )
