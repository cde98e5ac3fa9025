"""Events on the wire: JSON that decodes to an equal event, or a clear refusal."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from datetime import timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.notify.samples import T0, every_event
from tradeplay.domain.errors import InputError
from tradeplay.domain.values import ClientOrderId, Side, TradeId
from tradeplay.notify import EventDecodeError, OrderFilled, decode, encode
from tradeplay.notify.events import DeploymentStarted, Event


@pytest.mark.parametrize("event", every_event(), ids=lambda event: type(event).__name__)
def test_every_event_round_trips_exactly(event: Event) -> None:
    decoded = decode(encode(event))
    assert decoded == event
    assert encode(decoded) == encode(event)  # the scale of each Decimal survives too


@given(
    qty=st.decimals(allow_nan=False, allow_infinity=False, places=18, min_value=Decimal("1e-18")),
    price=st.decimals(allow_nan=False, allow_infinity=False, min_value=1, max_value=10**30),
    micros=st.integers(min_value=0, max_value=10**15),
)
def test_any_exact_amount_and_time_round_trip(qty: Decimal, price: Decimal, micros: int) -> None:
    event = OrderFilled(
        environment="demo",
        time=T0 + timedelta(microseconds=micros),
        deployment="d",
        client_order_id=ClientOrderId("tp-1"),
        trade_id=TradeId("e"),
        symbol="BTCUSDT",
        side=Side.BUY,
        qty=qty,
        price=price,
        fee=-qty,
    )
    decoded = decode(encode(event))
    assert decoded == event
    assert isinstance(decoded, OrderFilled)
    assert str(decoded.qty) == str(qty)


def test_events_are_immutable_and_in_utc() -> None:
    event = DeploymentStarted(environment="demo", time=T0, deployment="d")
    with pytest.raises(FrozenInstanceError):
        event.deployment = "other"  # type: ignore[misc]
    with pytest.raises(InputError, match="has no timezone"):
        DeploymentStarted(environment="demo", time=T0.replace(tzinfo=None), deployment="d")


_GOOD = json.loads(encode(DeploymentStarted(environment="demo", time=T0, deployment="d")))


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "not JSON"),
        (json.dumps({"type": "Nope"}), "no known 'type'"),
        (json.dumps({**_GOOD, "extra": 1}), r"unknown fields \['extra'\]"),
        (json.dumps({k: v for k, v in _GOOD.items() if k != "deployment"}), "deployment"),
        (json.dumps({**_GOOD, "deployment": 5}), "expected str, got 5"),
        (json.dumps({**_GOOD, "time": "yesterday"}), "not an ISO 8601 time"),
        (
            json.dumps({**_GOOD, "time": T0.astimezone(timezone(timedelta(hours=1))).isoformat()}),
            "not in UTC",
        ),
    ],
)
def test_a_message_that_is_not_an_event_is_refused_saying_why(message: str, reason: str) -> None:
    with pytest.raises(EventDecodeError, match=reason):
        decode(message)


def test_bad_amounts_are_refused() -> None:
    filled = json.loads(encode(every_event()[5]))
    for bad in (1.5, "NaN", "lots"):
        with pytest.raises(EventDecodeError, match=r"OrderFilled\.qty"):
            decode(json.dumps({**filled, "qty": bad}))
