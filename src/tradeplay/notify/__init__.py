"""Events and the bus that carries them: in-process by default, Redis across processes.

The Redis bus lives in :mod:`tradeplay.notify.redis_bus` and is not imported here, so using
events and the local bus never needs the Redis client.
"""

from __future__ import annotations

from tradeplay.notify.bus import EventBus, EventQueue, Handler, LocalBus, Subscription
from tradeplay.notify.codec import EventDecodeError, decode, encode
from tradeplay.notify.events import (
    EVENT_TYPES,
    DeploymentPaused,
    DeploymentResumed,
    DeploymentStarted,
    DeploymentStopped,
    EmergencyDeclared,
    Event,
    Health,
    HealthChanged,
    OrderFilled,
    OrderPlaced,
    OrderRejected,
    RiskBreached,
    StopLossHit,
    TakeProfitHit,
)

__all__ = [
    "EVENT_TYPES",
    "DeploymentPaused",
    "DeploymentResumed",
    "DeploymentStarted",
    "DeploymentStopped",
    "EmergencyDeclared",
    "Event",
    "EventBus",
    "EventDecodeError",
    "EventQueue",
    "Handler",
    "Health",
    "HealthChanged",
    "LocalBus",
    "OrderFilled",
    "OrderPlaced",
    "OrderRejected",
    "RiskBreached",
    "StopLossHit",
    "Subscription",
    "TakeProfitHit",
    "decode",
    "encode",
]
