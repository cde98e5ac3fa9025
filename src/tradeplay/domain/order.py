"""An order and its life: one status transition table, changed only by applying events.

Statuses follow Bybit V5 ``orderStatus`` for linear contracts, plus our local ``pending`` (sent,
not yet acknowledged), and ``expired``: the time in force ran out (an IOC or FOK remainder that
could not fill at once). Bybit reports that case as ``Cancelled``; keeping it apart tells a trader
"the market was not there" rather than "someone cancelled". Bybit's spot-only
``PartiallyFilledCanceled`` is left out: a linear order that is cancelled after partial fills is
``Cancelled`` with a non-zero filled quantity.

The table allows a venue update to *skip* transient statuses, because streams coalesce: a market
order may be seen ``Filled`` without ever being seen ``New``, a stop may go from ``Untriggered``
straight to ``Filled``. What it never allows is going backwards, leaving a final status, or
returning to a status that precedes the venue's acknowledgement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final, assert_never

from tradeplay.domain.errors import InvalidTransitionError, OrderRejectedError, OverfillError
from tradeplay.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCreated,
    OrderDeactivated,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
)
from tradeplay.domain.slots import quick_init
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
    format_decimal,
    require_utc,
)


class OrderStatus(StrEnum):
    PENDING = "pending"
    """Sent by us, not yet acknowledged by the venue (local only)."""
    CREATED = "created"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNTRIGGERED = "untriggered"
    TRIGGERED = "triggered"
    DEACTIVATED = "deactivated"
    EXPIRED = "expired"
    """The time in force ran out before the order filled completely (IOC / FOK remainder)."""

    @property
    def is_final(self) -> bool:
        """No event can change an order in this status."""
        return self in _FINAL_STATUSES


_S = OrderStatus
_FINAL: Final[frozenset[OrderStatus]] = frozenset()

TRANSITIONS: Final[Mapping[OrderStatus, frozenset[OrderStatus]]] = MappingProxyType(
    {
        _S.PENDING: frozenset(
            {
                _S.CREATED,
                _S.NEW,
                _S.UNTRIGGERED,
                _S.TRIGGERED,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.CANCELLED,
                _S.REJECTED,
                _S.DEACTIVATED,
                _S.EXPIRED,
            }
        ),
        _S.CREATED: frozenset(
            {
                _S.NEW,
                _S.UNTRIGGERED,
                _S.TRIGGERED,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.CANCELLED,
                _S.REJECTED,
                _S.DEACTIVATED,
                _S.EXPIRED,
            }
        ),
        _S.NEW: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED}),
        _S.PARTIALLY_FILLED: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED}),
        _S.UNTRIGGERED: frozenset(
            {
                _S.TRIGGERED,
                _S.NEW,
                _S.PARTIALLY_FILLED,
                _S.FILLED,
                _S.CANCELLED,
                _S.REJECTED,
                _S.DEACTIVATED,
            }
        ),
        # Triggered is momentary: the order is then placed (New, fills) or fails to be.
        _S.TRIGGERED: frozenset(
            {_S.NEW, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.REJECTED, _S.EXPIRED}
        ),
        _S.FILLED: _FINAL,
        _S.CANCELLED: _FINAL,
        _S.REJECTED: _FINAL,
        _S.DEACTIVATED: _FINAL,
        _S.EXPIRED: _FINAL,
    }
)
"""The one order-status transition table: status → statuses it may move to next."""

_FINAL_STATUSES: Final = frozenset(status for status, after in TRANSITIONS.items() if not after)
"""The statuses the table lets nothing follow (asked per order and per fill, so kept as a set)."""


def check_transition(order_ref: str, current: OrderStatus, target: OrderStatus) -> None:
    """Raise :class:`InvalidTransitionError` naming the order, ``current`` and ``target``."""
    allowed = TRANSITIONS[current]
    if target in allowed:
        return
    hint = f"allowed next: {', '.join(sorted(allowed))}" if allowed else f"{current} is final"
    raise InvalidTransitionError(
        f"order {order_ref}: cannot go from {current} to {target} ({hint})"
    )


# Bybit's rule for orderLinkId: 1 to 36 characters of letters, digits, '_' and '-'.
_CLIENT_ORDER_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,36}$")

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_POST_ONLY = TimeInForce.POST_ONLY


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An order as we know it. Immutable: :meth:`apply` returns the next version.

    ``client_order_id`` is ours (Bybit ``orderLinkId``) and known from the start; ``order_id``
    is the venue's and known once the venue answers. ``filled_value`` is the exact sum of
    ``qty * price`` over the fills (Bybit ``cumExecValue``); :attr:`avg_fill_price` derives from it.
    """

    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    order_type: OrderType
    qty: Quantity
    price: Price | None
    trigger_price: Price | None
    time_in_force: TimeInForce
    reduce_only: bool
    created_at: datetime
    updated_at: datetime
    status: OrderStatus = OrderStatus.PENDING
    order_id: OrderId | None = None
    filled_qty: Quantity = ZERO
    filled_value: Money = ZERO
    fees: Money = ZERO
    reason: str = ""
    """Why the order was rejected, cancelled or deactivated, when known."""

    def __post_init__(self) -> None:
        # The messages are only written for a time that is not already UTC (the usual case).
        if self.created_at.tzinfo is not UTC:
            require_utc(self.created_at, f"order {self.client_order_id} created_at")
        if self.updated_at.tzinfo is not UTC:
            require_utc(self.updated_at, f"order {self.client_order_id} updated_at")
        problems = shape_problems(self)
        if problems:
            raise OrderRejectedError(
                f"order {self.client_order_id} for {self.symbol}: " + "; ".join(problems)
            )

    @classmethod
    def from_submitted(cls, event: OrderSubmitted) -> Order:
        """The order in status ``pending``, as we just sent it."""
        return cls(
            client_order_id=event.client_order_id,
            symbol=event.symbol,
            side=event.side,
            order_type=event.order_type,
            qty=event.qty,
            price=event.price,
            trigger_price=event.trigger_price,
            time_in_force=event.time_in_force,
            reduce_only=event.reduce_only,
            created_at=event.time,
            updated_at=event.time,
        )

    # ---------------------------------------------------------------- views

    @property
    def ref(self) -> str:
        """How messages name the order: our id, and the venue's when known."""
        if self.order_id is None:
            return str(self.client_order_id)
        return f"{self.client_order_id} (venue id {self.order_id})"

    @property
    def remaining_qty(self) -> Quantity:
        return self.qty - self.filled_qty

    @property
    def avg_fill_price(self) -> Price | None:
        """Volume-weighted price of the fills so far; ``None`` before the first fill."""
        if self.filled_qty == 0:
            return None
        return self.filled_value / self.filled_qty

    @property
    def is_open(self) -> bool:
        return not self.status.is_final

    @property
    def is_conditional(self) -> bool:
        return self.order_type.is_conditional

    # ---------------------------------------------------------------- events

    def apply(self, event: OrderEvent) -> Order:
        """The order after ``event``; raises :class:`InvalidTransitionError` if not allowed."""
        if event.client_order_id != self.client_order_id:
            raise InvalidTransitionError(
                f"order {self.ref}: received {type(event).__name__} for order "
                f"{event.client_order_id}"
            )
        if isinstance(event, OrderFilled):
            return self._filled(event)
        order_id: OrderId | None = None
        reason: str | None = None
        match event:
            case OrderSubmitted():
                target = OrderStatus.PENDING
            case OrderCreated():
                target, order_id = OrderStatus.CREATED, event.order_id
            case OrderAccepted():
                target, order_id = self._accepted_status(), event.order_id
            case OrderTriggered():
                self._require_conditional(event)
                target = OrderStatus.TRIGGERED
            case OrderCancelled():
                target, reason = OrderStatus.CANCELLED, event.reason
            case OrderRejected():
                target, reason = OrderStatus.REJECTED, event.reason
            case OrderDeactivated():
                self._require_conditional(event)
                target, reason = OrderStatus.DEACTIVATED, event.reason
            case OrderExpired():
                target, reason = OrderStatus.EXPIRED, event.reason
            case _:
                assert_never(event)
        return self._moved(target, event.time, order_id=order_id, reason=reason)

    def _accepted_status(self) -> OrderStatus:
        # A stop is first acknowledged as Untriggered; once triggered, New means "in the book".
        waiting = self.status in (OrderStatus.PENDING, OrderStatus.CREATED)
        return OrderStatus.UNTRIGGERED if self.is_conditional and waiting else OrderStatus.NEW

    def _require_conditional(self, event: OrderEvent) -> None:
        if not self.is_conditional:
            raise InvalidTransitionError(
                f"order {self.ref}: {type(event).__name__} applies only to stop orders, "
                f"this is a {self.order_type} order"
            )

    def _moved(
        self,
        target: OrderStatus,
        time: datetime,
        *,
        order_id: OrderId | None = None,
        reason: str | None = None,
    ) -> Order:
        check_transition(self.ref, self.status, target)
        if order_id is not None and self.order_id not in (None, order_id):
            raise InvalidTransitionError(f"order {self.ref}: the venue now calls it {order_id}")
        return replace(
            self,
            status=target,
            updated_at=time,
            order_id=order_id or self.order_id,
            reason=self.reason if reason is None else reason,
        )

    def _filled(self, event: OrderFilled) -> Order:
        fill = event.fill
        if fill.symbol != self.symbol or fill.side is not self.side:
            raise InvalidTransitionError(
                f"order {self.ref}: fill {fill.trade_id} is a {fill.side} of {fill.symbol}, "
                f"the order is a {self.side} of {self.symbol}"
            )
        filled = self.filled_qty + fill.qty
        if filled > self.qty:
            raise OverfillError(
                f"order {self.ref}: fill {fill.trade_id} of {format_decimal(fill.qty)} would "
                f"fill {format_decimal(filled)} of an order for {format_decimal(self.qty)}"
            )
        target = OrderStatus.FILLED if filled == self.qty else OrderStatus.PARTIALLY_FILLED
        moved = self._moved(target, event.time, order_id=fill.order_id)
        return replace(
            moved,
            filled_qty=filled,
            filled_value=self.filled_value + fill.value,
            fees=self.fees + fill.fee,
        )


def shape_problems(order: Order | OrderSubmitted) -> list[str]:
    """What makes this order impossible to send; empty when nothing does.

    The same rules for an order being sent (:class:`OrderSubmitted`, checked by an exchange
    before it builds anything) and for an :class:`Order` record.
    """
    kind, price, trigger = order.order_type, order.price, order.trigger_price
    limit, conditional = kind.has_limit_price, kind.is_conditional
    problems: list[str] = []
    if not _CLIENT_ORDER_ID.match(order.client_order_id):
        problems.append("the client order id must be 1 to 36 letters, digits, '_' or '-'")
    if not order.qty > ZERO:
        problems.append(f"quantity {format_decimal(order.qty)} must be positive")
    if limit != (price is not None):
        need = "needs a limit price" if limit else "takes no limit price"
        problems.append(f"a {kind} order {need}")
    if conditional != (trigger is not None):
        need = "needs a trigger price" if conditional else "takes no trigger price"
        problems.append(f"a {kind} order {need}")
    if price is not None and not price > ZERO:
        problems.append(f"price {format_decimal(price)} must be positive")
    if trigger is not None and not trigger > ZERO:
        problems.append(f"trigger price {format_decimal(trigger)} must be positive")
    if not limit and order.time_in_force is _POST_ONLY:
        problems.append(f"post-only needs a limit price; a {kind} order has none")
    return problems
