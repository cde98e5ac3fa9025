"""Events are immutable, slotted facts stamped with a UTC time."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

import pytest

from tests.domain.builders import at, fill
from tradeplay.domain import events
from tradeplay.domain.errors import InputError
from tradeplay.domain.values import ClientOrderId

EVENT_CLASSES = [
    cls
    for cls in vars(events).values()
    if isinstance(cls, type)
    and dataclasses.is_dataclass(cls)
    and not cls.__name__.startswith("_")
    and cls.__module__ == events.__name__
]


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
def test_every_event_is_frozen_and_slotted(cls: type) -> None:
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert "__slots__" in vars(cls)
    assert "time" in {field.name for field in dataclasses.fields(cls)}


def test_an_event_with_a_naive_time_is_refused() -> None:
    naive = datetime(2025, 1, 1)  # noqa: DTZ001 - the naive time is the point
    with pytest.raises(InputError, match="OrderCancelled time 2025-01-01T00:00:00 has no timezone"):
        events.OrderCancelled(client_order_id=ClientOrderId("ord-1"), time=naive)


def test_a_fill_is_reported_only_for_its_own_order() -> None:
    with pytest.raises(InputError, match="OrderFilled for order ord-2 carries fill trade-"):
        events.OrderFilled(
            client_order_id=ClientOrderId("ord-2"), time=at(0), fill=fill("buy", "1", "1")
        )


def test_a_fill_needs_positive_quantity_and_price() -> None:
    with pytest.raises(InputError, match="quantity 0 must be positive"):
        fill("buy", "0", "100")
    with pytest.raises(InputError, match="price -1 must be positive"):
        fill("buy", "1", "-1")


def test_a_fill_knows_its_signed_quantity_and_value() -> None:
    sell = fill("sell", "0.002", "65000.5")
    assert (sell.signed_qty, sell.value) == (Decimal("-0.002"), Decimal("130.0010"))


def test_funding_settlement_follows_the_fee_sign_convention() -> None:
    settled = events.FundingApplied.settle(
        symbol="LTCUSDT", time=at(0), rate=Decimal("-0.000881"), mark_price=Decimal("80.38"),
        size=Decimal("0.1"),
    )  # fmt: skip
    assert settled.payment == Decimal("-0.007081478")  # negative: the long received funding
