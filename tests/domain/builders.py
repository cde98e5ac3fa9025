"""Small builders for domain tests: one UTC clock start and fills with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from tradeplay.domain.fill import Fill
from tradeplay.domain.values import ClientOrderId, Liquidity, OrderId, Side, TradeId

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
_trade_numbers = count(1)


def at(seconds: int) -> datetime:
    """``T0`` plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def fill(
    side: Side | str,
    qty: str | Decimal,
    price: str | Decimal,
    *,
    fee: str | Decimal = "0",
    symbol: str = "BTCUSDT",
    order_id: str = "venue-1",
    client_order_id: str | None = "ord-1",
    seconds: int = 0,
) -> Fill:
    """A fill; quantities and prices as text so tests read like the venue's JSON."""
    number = next(_trade_numbers)
    return Fill(
        trade_id=TradeId(f"trade-{number}"),
        order_id=OrderId(order_id),
        client_order_id=None if client_order_id is None else ClientOrderId(client_order_id),
        symbol=symbol,
        side=Side(side),
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal(fee),
        fee_currency="USDT",
        liquidity=Liquidity.TAKER,
        time=at(seconds),
    )
