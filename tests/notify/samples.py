"""One example of every event, with values that are easy to get wrong on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tradeplay.domain.values import ClientOrderId, OrderType, PositionSide, Side, TradeId
from tradeplay.notify import events as ev

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def every_event(environment: str = "demo") -> list[ev.Event]:
    common = {"environment": environment, "time": T0}
    cid = ClientOrderId("tp-1")
    events: list[ev.Event] = [
        ev.DeploymentStarted(**common, deployment="trend-btc"),
        ev.DeploymentPaused(**common, deployment="trend-btc", reason="operator"),
        ev.DeploymentResumed(**common, deployment="trend-btc"),
        ev.DeploymentStopped(**common, deployment="trend-btc"),
        ev.OrderPlaced(
            **common,
            deployment="trend-btc",
            client_order_id=cid,
            symbol="BTCUSDT",
            side=Side.BUY,
            order_type=OrderType.STOP_LIMIT,
            qty=Decimal("0.010"),
            price=Decimal("42000.50"),
            trigger_price=Decimal("0.123456789012345678"),
            reduce_only=True,
        ),
        ev.OrderFilled(
            **common,
            deployment="trend-btc",
            client_order_id=None,
            trade_id=TradeId("exec-1"),
            symbol="BTCUSDT",
            side=Side.SELL,
            qty=Decimal("123456789012345678901234.5"),
            price=Decimal("1E+3"),
            fee=Decimal("-0.0000105"),
        ),
        ev.OrderRejected(
            **common, deployment="trend-btc", client_order_id=cid, symbol="BTCUSDT", reason="min"
        ),
        ev.StopLossHit(
            **common,
            deployment="trend-btc",
            symbol="BTCUSDT",
            side=PositionSide.LONG,
            price=Decimal("41000"),
            qty=Decimal("0.01"),
        ),
        ev.TakeProfitHit(
            **common,
            deployment="trend-btc",
            symbol="BTCUSDT",
            side=PositionSide.SHORT,
            price=Decimal("40000"),
            qty=Decimal("0.01"),
        ),
        ev.RiskBreached(
            **common,
            rule="max_drawdown",
            action="emergency",
            value=Decimal("-0.2500"),
            threshold=Decimal("-0.20"),
            detail="25% below peak",
        ),
        ev.EmergencyDeclared(**common, reason="drawdown", deployment=None),
        ev.HealthChanged(
            **common, component="trend-btc", health=ev.Health.RESTARTING, detail="x", restarts=3
        ),
        ev.Reconciled(**common, action="order_adopted", symbol="BTCUSDT", ref="tp-1", detail="x"),
    ]
    assert {type(event) for event in events} == set(ev.EVENT_TYPES)
    return events
