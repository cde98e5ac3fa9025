"""Orders, fills and positions of an environment: written idempotently, read as domain values.

* An order is keyed by (environment, ``client_order_id``) — our Bybit ``orderLinkId``, known
  before the venue answers — so the record exists from the moment we send it, and a saved
  version never moves back in time: a save older than the stored one (a replay after a crash,
  or a late stream update) is ignored.
* A fill is keyed by (environment, ``trade_id``) — Bybit's ``execId`` — and written once: the
  same execution seen from the stream, from a REST query and from a replay is one row.
* A position is the current one per (environment, symbol); the last save wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, select

from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.position import Position
from tradeplay.domain.values import (
    ClientOrderId,
    Liquidity,
    OrderId,
    OrderType,
    PositionMode,
    Side,
    Symbol,
    TimeInForce,
    TradeId,
    require_utc,
)
from tradeplay.store._transaction import Begin
from tradeplay.store._upsert import insert_once, upsert
from tradeplay.store.schema import fills, orders, positions

_OPEN = [status.value for status in OrderStatus if not status.is_final]


class OrderRecords:
    """Every order an environment sent, in its latest known version."""

    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def save(self, environment: str, order: Order) -> bool:
        """Store ``order``; ``False`` if the stored version is newer (nothing written)."""
        row = _order_row(environment, order)
        with self._begin() as connection:
            return upsert(
                connection,
                orders,
                row,
                ("environment", "client_order_id"),
                only_if=_not_newer_than,
            )

    def get(self, environment: str, client_order_id: ClientOrderId) -> Order | None:
        query = select(orders).where(
            orders.c.environment == environment, orders.c.client_order_id == client_order_id
        )
        with self._begin() as connection:
            row = connection.execute(query).first()
        return None if row is None else _order(row)

    def by_venue_id(self, environment: str, order_id: OrderId) -> Order | None:
        """The order the venue calls ``order_id``, if we know it."""
        query = select(orders).where(
            orders.c.environment == environment, orders.c.order_id == order_id
        )
        with self._begin() as connection:
            row = connection.execute(query).first()
        return None if row is None else _order(row)

    def open(self, environment: str) -> list[Order]:
        """Orders not yet in a final status, oldest first (including ones never acknowledged)."""
        query = (
            select(orders)
            .where(orders.c.environment == environment, orders.c.status.in_(_OPEN))
            .order_by(orders.c.created_at, orders.c.client_order_id)
        )
        with self._begin() as connection:
            return [_order(row) for row in connection.execute(query)]

    def all(self, environment: str) -> list[Order]:
        """Every order of the environment, oldest first (a reconciliation's full view)."""
        query = (
            select(orders)
            .where(orders.c.environment == environment)
            .order_by(orders.c.created_at, orders.c.client_order_id)
        )
        with self._begin() as connection:
            return [_order(row) for row in connection.execute(query)]

    def changed_since(self, environment: str, since: datetime) -> list[Order]:
        """Orders updated at or after ``since``, in the order they changed."""
        require_utc(since, "since")
        query = (
            select(orders)
            .where(orders.c.environment == environment, orders.c.updated_at >= since)
            .order_by(orders.c.updated_at, orders.c.client_order_id)
        )
        with self._begin() as connection:
            return [_order(row) for row in connection.execute(query)]


class FillRecords:
    """Every execution of an environment, each stored once."""

    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def record(self, environment: str, fill: Fill) -> bool:
        """Store ``fill``; ``False`` if it was already stored (a replay)."""
        with self._begin() as connection:
            return insert_once(
                connection, fills, _fill_row(environment, fill), ("environment", "trade_id")
            )

    def since(self, environment: str, since: datetime) -> list[Fill]:
        """Fills at or after ``since`` (inclusive: several fills share a millisecond)."""
        require_utc(since, "since")
        query = (
            select(fills)
            .where(fills.c.environment == environment, fills.c.time >= since)
            .order_by(fills.c.time, fills.c.trade_id)
        )
        with self._begin() as connection:
            return [_fill(row) for row in connection.execute(query)]

    def of_order(self, environment: str, client_order_id: ClientOrderId) -> list[Fill]:
        query = (
            select(fills)
            .where(fills.c.environment == environment, fills.c.client_order_id == client_order_id)
            .order_by(fills.c.time, fills.c.trade_id)
        )
        with self._begin() as connection:
            return [_fill(row) for row in connection.execute(query)]

    def last_time(self, environment: str) -> datetime | None:
        """Time of the newest recorded fill: where to resume the venue's execution history."""
        query = (
            select(fills.c.time)
            .where(fills.c.environment == environment)
            .order_by(fills.c.time.desc())
            .limit(1)
        )
        with self._begin() as connection:
            return connection.execute(query).scalar_one_or_none()


class PositionRecords:
    """The current position of an environment in each symbol it traded."""

    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def save(self, environment: str, position: Position) -> None:
        row = _position_row(environment, position)
        with self._begin() as connection:
            upsert(connection, positions, row, ("environment", "symbol"))

    def get(self, environment: str, symbol: Symbol) -> Position | None:
        query = select(positions).where(
            positions.c.environment == environment, positions.c.symbol == symbol
        )
        with self._begin() as connection:
            row = connection.execute(query).first()
        return None if row is None else _position(row)

    def all(self, environment: str) -> list[Position]:
        """Every stored position, flat ones included, by symbol."""
        query = (
            select(positions)
            .where(positions.c.environment == environment)
            .order_by(positions.c.symbol)
        )
        with self._begin() as connection:
            return [_position(row) for row in connection.execute(query)]


# ---------------------------------------------------------------- rows ↔ values


def _order_row(environment: str, order: Order) -> dict[str, Any]:
    return {
        "environment": environment,
        "client_order_id": order.client_order_id,
        "order_id": order.order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "qty": order.qty,
        "price": order.price,
        "trigger_price": order.trigger_price,
        "time_in_force": order.time_in_force.value,
        "reduce_only": order.reduce_only,
        "status": order.status.value,
        "filled_qty": order.filled_qty,
        "filled_value": order.filled_value,
        "fees": order.fees,
        "reason": order.reason,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def _order(row: Row[Any]) -> Order:
    values = row._mapping
    return Order(
        client_order_id=ClientOrderId(values["client_order_id"]),
        symbol=values["symbol"],
        side=Side(values["side"]),
        order_type=OrderType(values["order_type"]),
        qty=values["qty"],
        price=values["price"],
        trigger_price=values["trigger_price"],
        time_in_force=TimeInForce(values["time_in_force"]),
        reduce_only=bool(values["reduce_only"]),
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        status=OrderStatus(values["status"]),
        order_id=None if values["order_id"] is None else OrderId(values["order_id"]),
        filled_qty=values["filled_qty"],
        filled_value=values["filled_value"],
        fees=values["fees"],
        reason=values["reason"],
    )


def _fill_row(environment: str, fill: Fill) -> dict[str, Any]:
    return {
        "environment": environment,
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "fee": fill.fee,
        "fee_currency": fill.fee_currency,
        "liquidity": fill.liquidity.value,
        "time": fill.time,
    }


def _fill(row: Row[Any]) -> Fill:
    values = row._mapping
    client_order_id = values["client_order_id"]
    return Fill(
        trade_id=TradeId(values["trade_id"]),
        order_id=OrderId(values["order_id"]),
        client_order_id=None if client_order_id is None else ClientOrderId(client_order_id),
        symbol=values["symbol"],
        side=Side(values["side"]),
        qty=values["qty"],
        price=values["price"],
        fee=values["fee"],
        fee_currency=values["fee_currency"],
        liquidity=Liquidity(values["liquidity"]),
        time=values["time"],
    )


def _position_row(environment: str, position: Position) -> dict[str, Any]:
    return {
        "environment": environment,
        "symbol": position.symbol,
        "mode": position.mode.value,
        "size": position.size,
        "entry_price": position.entry_price,
        "cost_basis": position.cost_basis,
        "realized_pnl": position.realized_pnl,
        "fees_paid": position.fees_paid,
        "funding_paid": position.funding_paid,
        "updated_at": position.updated_at,
    }


def _position(row: Row[Any]) -> Position:
    values = row._mapping
    return Position(
        symbol=values["symbol"],
        mode=PositionMode(values["mode"]),
        size=values["size"],
        entry_price=values["entry_price"],
        cost_basis=values["cost_basis"],
        realized_pnl=values["realized_pnl"],
        fees_paid=values["fees_paid"],
        funding_paid=values["funding_paid"],
        updated_at=values["updated_at"],
    )


def _not_newer_than(incoming: Any) -> ColumnElement[bool]:
    """An order row is overwritten only by a version at least as recent (see ``save``)."""
    newer: ColumnElement[bool] = orders.c.updated_at <= incoming.updated_at
    return newer
