"""A running stage's record from its fills and bars, by hand: its position as the exchange
books it, its round trips, its equity at each close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from tradeplay.domain.fill import Fill
from tradeplay.domain.values import (
    ClientOrderId,
    Liquidity,
    OrderId,
    Side,
    Symbol,
    TradeId,
)
from tradeplay.graduation import Stage
from tradeplay.graduation.records import record_of_stage

T0 = datetime(2025, 5, 8, 12, 0, tzinfo=UTC)
MINUTE = 60_000


def fill(n: int, side: Side, qty: str, price: str, fee: str, *, minute: int) -> Fill:
    return Fill(
        trade_id=TradeId(f"t{n}"),
        order_id=OrderId(f"o{n}"),
        client_order_id=ClientOrderId(f"p-{n}"),
        symbol=Symbol("BTCUSDT"),
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal(fee),
        fee_currency="USDT",
        liquidity=Liquidity.TAKER,
        time=T0 + timedelta(minutes=minute),
    )


def bars_of(closes: list[float]) -> np.ndarray:
    start_ms = int(T0.timestamp() * 1000)
    return np.asarray(
        [[start_ms + i * MINUTE, c, c, c, c, 1.0] for i, c in enumerate(closes)], np.float64
    )


def test_round_trips_at_average_cost_and_a_reversal() -> None:
    fills = [
        fill(1, Side.BUY, "1", "100", "0.1", minute=0),
        fill(2, Side.BUY, "1", "110", "0.1", minute=1),  # entry 105
        # Sells 3 at 120: closes 2 (+30, fee 0.2 of its 0.3), opens 1 short (fee 0.1).
        fill(3, Side.SELL, "3", "120", "0.3", minute=2),
        fill(4, Side.BUY, "1", "125", "0.1", minute=3),  # the short loses 5
    ]
    record = record_of_stage(
        "p",
        Stage.DEMO,
        symbol=Symbol("BTCUSDT"),
        bars=bars_of([100.0, 110.0, 120.0, 125.0]),
        bar_ms=MINUTE,
        fills=fills,
        capital=Decimal(1000),
        entered_ms=int(T0.timestamp() * 1000),
    )
    assert record.trade_pnls == (Decimal("29.6"), Decimal("-5.2"))  # 30 - 0.4; -5 - 0.2
    assert record.equity[-1] == 1024.4  # flat: the capital and both trades


def test_equity_is_marked_at_each_close_from_the_capital() -> None:
    start_ms = int(T0.timestamp() * 1000)
    bars = bars_of([100.0, 104.0, 98.0])
    fills = [fill(1, Side.BUY, "2", "100", "0.2", minute=0)]  # during the first bar
    record = record_of_stage(
        "p",
        Stage.DEMO,
        symbol=Symbol("BTCUSDT"),
        bars=bars,
        bar_ms=MINUTE,
        fills=fills,
        capital=Decimal(1000),
        entered_ms=start_ms,
    )
    assert record.equity.tolist() == [1000.0, 999.8, 1007.8, 995.8]
    assert record.equity_ms.tolist() == [start_ms + i * MINUTE for i in range(4)]
    assert record.trade_pnls == ()
    assert record.as_of_ms == start_ms + 3 * MINUTE
