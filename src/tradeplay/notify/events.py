"""What happens in a running deployment, as immutable events for whoever listens.

Every event names its environment and carries a timezone-aware UTC time (from the runtime's
clock, never read here). Fields are domain values — ``Decimal`` money, ``StrEnum`` sides — so an
event serialises to JSON and back exactly (see :mod:`tradeplay.notify.codec`).

=====================  ==============================================================
event                  when
=====================  ==============================================================
DeploymentStarted      a deployment is running (after ``starting``)
DeploymentPaused       a deployment stopped taking new signals (operator or risk)
DeploymentResumed      a paused or halted deployment runs again
DeploymentStopped      a deployment has stopped
OrderPlaced            an order left for the venue
OrderFilled            an execution of one of our orders (partial or complete)
OrderRejected          the venue, the simulator or a risk check refused an order
StopLossHit            a position's stop-loss closed (part of) it
TakeProfitHit          a position's take-profit closed (part of) it
RiskBreached           a risk rule fired and what it did (block, reduce-only, flatten …)
EmergencyDeclared      the emergency protocol started: frozen, flattening, halted
HealthChanged          a component's health moved (ok, degraded, restarting, halted)
Reconciled             crash recovery settled a difference with the venue (venue wins)
=====================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tradeplay.domain.values import (
    ClientOrderId,
    Money,
    OrderType,
    PositionSide,
    Price,
    Quantity,
    Side,
    Symbol,
    TradeId,
    require_utc,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Fields every event has: which environment, and when."""

    environment: str
    time: datetime

    def __post_init__(self) -> None:
        require_utc(self.time, f"{type(self).__name__} time")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentStarted(Event):
    deployment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentPaused(Event):
    deployment: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentResumed(Event):
    deployment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentStopped(Event):
    deployment: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPlaced(Event):
    deployment: str
    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    order_type: OrderType
    qty: Quantity
    price: Price | None = None
    trigger_price: Price | None = None
    reduce_only: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(Event):
    deployment: str
    client_order_id: ClientOrderId | None
    trade_id: TradeId
    symbol: Symbol
    side: Side
    qty: Quantity
    price: Price
    fee: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(Event):
    deployment: str
    client_order_id: ClientOrderId
    symbol: Symbol
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionHit(Event):
    """A position's protective order filled (the two kinds below)."""

    deployment: str
    symbol: Symbol
    side: PositionSide
    """The side of the position that was closed."""
    price: Price
    """The fill's price (the trigger level itself is not in a fill)."""
    qty: Quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class StopLossHit(ProtectionHit):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeProfitHit(ProtectionHit):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskBreached(Event):
    rule: str
    """e.g. ``daily_loss``, ``max_drawdown``, ``max_leverage``, ``kill_switch``."""
    action: str
    """e.g. ``block``, ``reduce_only``, ``flatten``, ``emergency``."""
    deployment: str | None = None
    """``None`` for a limit of the whole environment (or of all environments)."""
    value: Money | None = None
    threshold: Money | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EmergencyDeclared(Event):
    reason: str
    deployment: str | None = None


class Health(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    RESTARTING = "restarting"
    HALTED = "halted"


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthChanged(Event):
    component: str
    """What is reported on: a deployment, a venue connection, a market stream."""
    health: Health
    detail: str = ""
    restarts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciled(Event):
    """Recovery found our records and the venue apart and settled it the venue's way:
    ``action`` names how (``order_adopted``, ``protection_restored`` … see
    :mod:`tradeplay.runtime.recovery`); ``ref`` the order, position or execution."""

    action: str
    symbol: Symbol
    ref: str
    detail: str = ""


EVENT_TYPES: tuple[type[Event], ...] = (
    DeploymentStarted,
    DeploymentPaused,
    DeploymentResumed,
    DeploymentStopped,
    OrderPlaced,
    OrderFilled,
    OrderRejected,
    StopLossHit,
    TakeProfitHit,
    RiskBreached,
    EmergencyDeclared,
    HealthChanged,
    Reconciled,
)
"""Every concrete event, in the order of the table above (the codec's registry)."""
