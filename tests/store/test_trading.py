"""Orders, fills and positions: stored per environment, exactly, and never doubled."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Table, func, select

from tests.store.builders import EIGHTEEN_DECIMALS, LARGE, T0, at, fill, order
from tradeplay.domain.errors import InputError
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.position import Position
from tradeplay.domain.values import ClientOrderId, OrderId
from tradeplay.store import Database
from tradeplay.store.schema import fills, orders


def _count(database: Database, table: Table) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_an_order_comes_back_equal_in_every_field(database: Database) -> None:
    stored = order(status=OrderStatus.PARTIALLY_FILLED, filled_qty=Decimal("0.005"))
    database.orders.save("demo", stored)
    assert database.orders.get("demo", ClientOrderId("tp-1")) == stored


def test_saving_the_same_order_twice_keeps_one_row(database: Database) -> None:
    database.orders.save("demo", order())
    database.orders.save("demo", order())
    assert _count(database, orders) == 1


def test_a_newer_version_replaces_the_stored_order(database: Database) -> None:
    database.orders.save("demo", order())
    newer = order(status=OrderStatus.NEW, updated=1)
    assert database.orders.save("demo", newer)
    assert database.orders.get("demo", ClientOrderId("tp-1")) == newer


def test_an_older_version_never_overwrites_a_newer_one(database: Database) -> None:
    """A replay after a crash, or a late stream update, must not move an order back in time."""
    filled = order(status=OrderStatus.FILLED, updated=5, filled_qty=Decimal("0.010"))
    database.orders.save("demo", filled)
    assert not database.orders.save("demo", order(status=OrderStatus.NEW, updated=1))
    assert database.orders.get("demo", ClientOrderId("tp-1")) == filled


def test_open_orders_are_those_not_final_including_unacknowledged_ones(
    database: Database,
) -> None:
    database.orders.save("demo", order("tp-pending"))
    database.orders.save("demo", order("tp-new", status=OrderStatus.NEW))
    database.orders.save("demo", order("tp-done", status=OrderStatus.CANCELLED))
    assert [o.client_order_id for o in database.orders.open("demo")] == ["tp-new", "tp-pending"]


def test_an_order_is_found_by_the_venue_id(database: Database) -> None:
    database.orders.save("demo", order(status=OrderStatus.NEW))
    found = database.orders.by_venue_id("demo", OrderId("venue-tp-1"))
    assert found is not None
    assert found.client_order_id == "tp-1"
    assert database.orders.by_venue_id("live", OrderId("venue-tp-1")) is None


def test_orders_changed_since_a_time(database: Database) -> None:
    database.orders.save("demo", order("tp-a", updated=1))
    database.orders.save("demo", order("tp-b", updated=3))
    assert [o.client_order_id for o in database.orders.changed_since("demo", at(3))] == ["tp-b"]


def test_environments_never_share_an_order(database: Database) -> None:
    database.orders.save("demo", order(status=OrderStatus.NEW))
    database.orders.save("live", order(status=OrderStatus.CANCELLED, updated=1))
    assert [o.status for o in database.orders.open("demo")] == [OrderStatus.NEW]
    assert database.orders.open("live") == []


def test_a_fill_is_stored_once_however_often_it_is_recorded(database: Database) -> None:
    assert database.fills.record("demo", fill())
    assert not database.fills.record("demo", fill())
    assert database.fills.record("live", fill())  # the same execId in another environment
    assert _count(database, fills) == 2
    assert database.fills.since("demo", T0) == [fill()]


def test_fills_since_a_time_include_that_time(database: Database) -> None:
    for number, seconds in enumerate((1, 2, 2, 3)):
        database.fills.record("demo", fill(f"exec-{number}", seconds=seconds))
    assert [f.trade_id for f in database.fills.since("demo", at(2))] == [
        "exec-1",
        "exec-2",
        "exec-3",
    ]
    assert database.fills.last_time("demo") == at(3)
    assert database.fills.last_time("live") is None


def test_fills_of_an_order(database: Database) -> None:
    database.fills.record("demo", fill("exec-1", client_order_id="tp-1"))
    database.fills.record("demo", fill("exec-2", client_order_id="tp-2"))
    assert [f.trade_id for f in database.fills.of_order("demo", ClientOrderId("tp-2"))] == [
        "exec-2"
    ]


def test_a_position_is_the_last_one_saved(database: Database) -> None:
    flat = Position(symbol="BTCUSDT")
    long = flat.apply_fill(fill())
    database.positions.save("demo", flat)
    database.positions.save("demo", long)
    assert database.positions.all("demo") == [long]
    assert database.positions.get("demo", "BTCUSDT") == long
    assert database.positions.get("live", "BTCUSDT") is None


def test_eighteen_decimals_and_large_values_round_trip_exactly(database: Database) -> None:
    stored = replace(
        order(status=OrderStatus.NEW),
        qty=LARGE,
        price=EIGHTEEN_DECIMALS,
        filled_value=Decimal("4.990"),  # the scale is kept too: 4.990, not 4.99
    )
    database.orders.save("demo", stored)
    loaded = database.orders.get("demo", ClientOrderId("tp-1"))
    assert loaded is not None
    assert (loaded.qty, loaded.price) == (LARGE, EIGHTEEN_DECIMALS)
    assert str(loaded.filled_value) == "4.990"
    assert str(loaded.price) == "0.123456789012345678"


def test_times_come_back_in_utc_to_the_microsecond(database: Database) -> None:
    moment = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    database.orders.save("demo", replace(order(), created_at=moment, updated_at=moment))
    loaded = database.orders.get("demo", ClientOrderId("tp-1"))
    assert loaded is not None
    assert loaded.updated_at == moment
    assert loaded.updated_at.tzinfo is UTC


def test_a_time_not_in_utc_is_refused(database: Database) -> None:
    with pytest.raises(InputError, match="not in UTC"):
        database.equity.curve("demo", since=T0.astimezone(timezone(timedelta(hours=2))))
