"""The simulated exchange's working orders: what each one waits for, and its running totals.

A working order is a mutable record, kept only while the order is open. Its status moves through
the one transition table of :mod:`tradeplay.domain.order` (every change is checked against it);
:meth:`WorkingOrder.to_order` gives the immutable domain :class:`Order` on request. Keeping a
record instead of re-applying events to an immutable ``Order`` on every fill keeps the
simulator's hot path cheap without a second set of rules.

Stages: how the order meets the market
    ``waiting``   a stop order before its trigger price is reached (Bybit ``Untriggered``);
    ``arriving``  a limit order that meets the market at the next bar's open: it was marketable
                  when sent (it may take liquidity there), or it is IOC / FOK (it must fill there
                  or not at all);
    ``resting``   a limit order in the book: it fills as a maker when the price comes to it;
    ``market``    fills at the current price as a taker as soon as volume allows (market orders,
                  triggered stop-markets, triggered take-profit / stop-loss).

Levels are in ticks (integers held in floats), the unit the scan and the walk compare in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Final, TypeAlias

from tradeplay.domain.events import (
    OrderCancelled,
    OrderDeactivated,
    OrderEvent,
    OrderExpired,
    OrderRejected,
)
from tradeplay.domain.fill import Fill
from tradeplay.domain.memory import remember
from tradeplay.domain.order import TRANSITIONS, Order, OrderStatus, check_transition
from tradeplay.domain.protection import Protection
from tradeplay.domain.slots import trusted_builder
from tradeplay.domain.values import (
    ZERO,
    ClientOrderId,
    Money,
    OrderId,
    OrderType,
    Price,
    Quantity,
    Side,
    Symbol,
    TimeInForce,
    TradeId,
)

__all__ = ["Ids", "OrderBook", "Origin", "Stage", "WorkingOrder", "end_order"]

_INF: Final = float("inf")


class Stage(StrEnum):
    WAITING = "waiting"
    ARRIVING = "arriving"
    RESTING = "resting"
    MARKET = "market"


class Origin(StrEnum):
    """Who placed the order: the trader, or the exchange itself (the position's protection, a
    liquidation, the close at the end of the data). The exchange's own orders carry ids
    ``<origin>-<n>`` (``sl-3``), so a fill tells where it came from."""

    USER = "user"
    TAKE_PROFIT = "tp"
    STOP_LOSS = "sl"
    TRAILING_STOP = "ts"
    LIQUIDATION = "liq"
    END_OF_DATA = "eod"

    @classmethod
    def of(cls, client_order_id: ClientOrderId | None) -> Origin:
        """The origin of an order id; a liquidation fill has none (Bybit sends no link id)."""
        if client_order_id is None:
            return cls.LIQUIDATION
        found = _OWN_ID.fullmatch(client_order_id)  # an id space (``BTCUSDT_sl-2``) aside
        return cls(found[1]) if found else cls.USER


_SPACE: Final = r"[A-Z0-9]+(?:-[0-9a-f]+)?"
"""An id space: a symbol, and the run that numbers its ids (``BTCUSDT-3f2a1b``)."""
_ID_SPACE: Final = re.compile(f"(?:{_SPACE})?")
_OWN_ID: Final = re.compile(
    rf"(?:{_SPACE}_)?({'|'.join(o.value for o in Origin if o is not Origin.USER)})-\d+"
)


class Ids:
    """The exchange's own ids, numbered in order so that a rerun gives the same ids."""

    __slots__ = ("_orders", "_space", "_system", "_trades")

    def __init__(self, space: str = "") -> None:
        """``space``: put before every id, with a ``_`` (see :attr:`SimConfig.id_space`): a
        symbol, or a symbol and a run token (``BTCUSDT-3f2a1b``), in Bybit's id characters."""
        if not _ID_SPACE.fullmatch(space):
            raise ValueError(f"id space {space!r}: expected a symbol, or a symbol-run token")
        self._space = f"{space}_" if space else ""
        self._orders = 0
        self._trades = 0
        self._system = 0

    def order(self) -> OrderId:
        self._orders += 1
        return OrderId(f"{self._space}sim-o{self._orders}")

    def trade(self) -> TradeId:
        self._trades += 1
        return TradeId(f"{self._space}sim-t{self._trades}")

    def system(self, origin: Origin) -> ClientOrderId:
        """An id for an order the exchange places itself (``tp-1``, ``sl-2``, ``liq-3`` …)."""
        self._system += 1
        return ClientOrderId(f"{self._space}{origin.value}-{self._system}")


_MEETS_THE_OPEN: Final = frozenset({Stage.MARKET, Stage.ARRIVING})

IDS_KEPT: Final = 10_000
"""How many of the latest order ids an account that keeps no record remembers, to refuse one
used again (our ids are numbered: a reuse is a bug the simulator catches at once, not months
later)."""

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_PENDING, _FILLED = OrderStatus.PENDING, OrderStatus.FILLED
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_BUY, _MARKET = Side.BUY, Stage.MARKET


OrderRow: TypeAlias = tuple[
    ClientOrderId, Symbol, str, str, Quantity, Price | None, Price | None, str, bool,
    datetime, datetime, str, OrderId, Quantity, Money, Money, str,
]  # fmt: skip
"""An :class:`Order`'s fields in their order, each enum member as its text: a tuple of plain
values, which the garbage collector stops tracking (an enum member would keep it tracked)."""

_TEXT: Final = {m: m.value for kind in (Side, OrderType, TimeInForce, OrderStatus) for m in kind}
"""Each member's text, looked up per order (``member.value`` is a descriptor call on an enum)."""
_SIDES: Final = {side.value: side for side in Side}
_TYPES: Final = {kind.value: kind for kind in OrderType}
_TIMES_IN_FORCE: Final = {tif.value: tif for tif in TimeInForce}
_STATUSES: Final = {status.value: status for status in OrderStatus}


_TRUSTED_ORDER: Final = trusted_builder(Order)


def _record(row: OrderRow) -> Order:
    """The domain record of an order kept as a row.

    Built without the record's checks: every value in the row was checked when the order was
    sent (the exchange refuses an order of the wrong shape before it makes a working order),
    and its status only moved through the transition table. A run rebuilds tens of thousands.
    """
    return _TRUSTED_ORDER(
        row[0], row[1], _SIDES[row[2]], _TYPES[row[3]], row[4], row[5], row[6],
        _TIMES_IN_FORCE[row[7]], row[8], row[9], row[10], _STATUSES[row[11]], row[12],
        row[13], row[14], row[15], row[16],
    )  # fmt: skip


class WorkingOrder:
    """One open order and how it waits for the market."""

    __slots__ = (
        "client_order_id",
        "created_at",
        "fees",
        "filled_qty",
        "filled_value",
        "level",
        "order_id",
        "order_type",
        "origin",
        "price",
        "protection",
        "qty",
        "reason",
        "reduce_only",
        "rising",
        "seq",
        "side",
        "stage",
        "status",
        "symbol",
        "time_in_force",
        "trigger_price",
        "updated_at",
    )

    def __init__(  # noqa: PLR0917
        self,
        client_order_id: ClientOrderId,
        order_id: OrderId,
        symbol: Symbol,
        side: Side,
        order_type: OrderType,
        qty: Quantity,
        time: datetime,
        *,
        price: Price | None = None,
        trigger_price: Price | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        origin: Origin = Origin.USER,
        seq: int = 0,
        protection: Protection | None = None,
    ) -> None:
        self.client_order_id = client_order_id
        self.order_id = order_id
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.qty = qty
        self.price = price
        self.trigger_price = trigger_price
        self.time_in_force = time_in_force
        self.reduce_only = reduce_only
        self.origin = origin
        self.protection = protection
        """Stop-loss / take-profit to attach to the position when this entry fills."""
        self.seq = seq
        self.created_at = time
        self.updated_at = time
        self.status = _PENDING
        self.filled_qty: Quantity = ZERO
        self.filled_value: Money = ZERO
        self.fees: Money = ZERO
        self.reason = ""
        self.stage = _MARKET
        self.level = _INF
        self.rising = True

    # ---------------------------------------------------------------- views

    @property
    def ref(self) -> str:
        return f"{self.client_order_id} (venue id {self.order_id})"

    @property
    def remaining(self) -> Quantity:
        return self.qty - self.filled_qty

    @property
    def is_buy(self) -> bool:
        return self.side is _BUY

    def limit_allows(self, price: Price) -> bool:
        """Whether a fill at ``price`` respects the limit (always true without one)."""
        if self.price is None:
            return True
        return price <= self.price if self.is_buy else price >= self.price

    def to_order(self) -> Order:
        """The immutable domain view of this order as it is now."""
        return _record(self.to_row())

    def to_row(self) -> OrderRow:
        """The order as it is now in plain values (see :data:`OrderRow`)."""
        return (
            self.client_order_id,
            self.symbol,
            _TEXT[self.side],
            _TEXT[self.order_type],
            self.qty,
            self.price,
            self.trigger_price,
            _TEXT[self.time_in_force],
            self.reduce_only,
            self.created_at,
            self.updated_at,
            _TEXT[self.status],
            self.order_id,
            self.filled_qty,
            self.filled_value,
            self.fees,
            self.reason,
        )

    # ---------------------------------------------------------------- changes

    def wait_for(self, stage: Stage, level: float, rising: bool) -> None:
        """Wait in ``stage`` until the price rises (``rising``) or falls to ``level`` ticks."""
        self.stage, self.level, self.rising = stage, level, rising

    def move(self, status: OrderStatus, time: datetime, reason: str | None = None) -> None:
        """Change status through the domain's transition table (its error when not allowed)."""
        if status not in TRANSITIONS[self.status]:
            check_transition(self.ref, self.status, status)  # raises, naming the order
        self.status = status
        self.updated_at = time
        if reason is not None:
            self.reason = reason

    def record_fill(self, fill: Fill) -> None:
        """Add one execution; the status becomes partially filled or filled."""
        self.filled_qty += fill.qty
        self.filled_value += fill.value
        self.fees += fill.fee
        done = self.filled_qty == self.qty
        self.move(_FILLED if done else _PARTIALLY_FILLED, fill.time)


class OrderBook:
    """The open orders of one symbol in time priority (the order they were sent)."""

    __slots__ = ("_finished", "_orders", "_record", "_used")

    def __init__(self, *, record: bool = True) -> None:
        """``record=False``: keep no finished orders, and only the latest :data:`IDS_KEPT`
        ids for the duplicate check (an account that runs for months; see
        :attr:`SimConfig.record`)."""
        self._record = record
        self._orders: dict[ClientOrderId, WorkingOrder] = {}
        self._used: dict[ClientOrderId, None] = {}
        """Every id used (the latest :data:`IDS_KEPT` when not recording), oldest first."""
        self._finished: list[OrderRow] = []
        """Orders that left the book (filled, cancelled, expired …), in the order they left, as
        plain rows: nothing changes a final order, a long run keeps tens of thousands of them
        and reads them once (:meth:`finished`), and a row is lighter to keep than the working
        state or the record — and one the garbage collector stops tracking."""

    def finished(self) -> list[Order]:
        """The orders that left the book, in the order they left, as domain records."""
        return [_record(row) for row in self._finished]

    def __iter__(self) -> Iterator[WorkingOrder]:
        return iter(list(self._orders.values()))

    def __len__(self) -> int:
        return len(self._orders)

    def is_used(self, client_order_id: ClientOrderId) -> bool:
        """Whether the id was ever used on this exchange (Bybit refuses duplicates: 110072);
        without a record, whether it is working or among the latest :data:`IDS_KEPT`."""
        used = client_order_id in self._used
        return used or (not self._record and client_order_id in self._orders)

    def add(self, order: WorkingOrder) -> None:
        remember(self._used, order.client_order_id, None, None if self._record else IDS_KEPT)
        self._orders[order.client_order_id] = order

    def get(self, client_order_id: ClientOrderId) -> WorkingOrder | None:
        return self._orders.get(client_order_id)

    def discard(self, order: WorkingOrder) -> None:
        """Take an order that reached a final status out of the book (it stays in ``finished``)."""
        if self._orders.pop(order.client_order_id, None) is order and self._record:
            self._finished.append(order.to_row())

    def needs_walk(self) -> bool:
        """An order must meet the market at the next open (no scan can skip that bar)."""
        # A loop, not any(): asked before every span, where a generator costs more to start.
        for order in self._orders.values():  # noqa: SIM110
            if order.stage in _MEETS_THE_OPEN:
                return True
        return False

    def levels(self) -> tuple[float, float]:
        """``(up, down)``: the lowest level fired by a rise, the highest fired by a fall."""
        up, down = _INF, -_INF
        if not self._orders:
            return up, down
        for order in self._orders.values():
            if order.rising:
                up = min(up, order.level)
            else:
                down = max(down, order.level)
        return up, down

    def margin_holders(self) -> list[WorkingOrder]:
        """The trader's orders that hold order margin: sent, not conditional, not reduce-only.

        A stop order holds none until it triggers (Bybit reserves its cost only then).
        """
        return [
            o
            for o in self._orders.values()
            if o.stage is not Stage.WAITING and not o.reduce_only and o.origin is Origin.USER
        ]


def end_order(order: WorkingOrder, status: OrderStatus, reason: str, time: datetime) -> OrderEvent:
    """Move ``order`` to a final ``status`` and return the event that says so.

    A cancelled stop order that never triggered is *deactivated* (Bybit ``Deactivated``).
    """
    cid = order.client_order_id
    if status is OrderStatus.CANCELLED and order.status is OrderStatus.UNTRIGGERED:
        status = OrderStatus.DEACTIVATED
    order.move(status, time, reason)
    if status is OrderStatus.DEACTIVATED:
        return OrderDeactivated(client_order_id=cid, time=time, reason=reason)
    if status is OrderStatus.CANCELLED:
        return OrderCancelled(client_order_id=cid, time=time, reason=reason)
    if status is OrderStatus.EXPIRED:
        return OrderExpired(client_order_id=cid, time=time, reason=reason)
    return OrderRejected(client_order_id=cid, time=time, reason=reason)
