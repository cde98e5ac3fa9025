"""Immutable facts about orders, positions and funding, each stamped with a UTC time.

Orders change status only by applying these events (:meth:`Order.apply`), and the order's
transition table decides whether an event is allowed. The order events map onto Bybit V5
``orderStatus`` values as follows:

===================  ==========================  =========================================
event                Bybit status                meaning
===================  ==========================  =========================================
OrderSubmitted       (none: local ``pending``)   we sent it; no answer yet
OrderCreated         ``Created``                 the venue has it, not yet in the book
OrderAccepted        ``New`` / ``Untriggered``   live in the book, or a stop waiting
OrderTriggered       ``Triggered``               a stop's trigger price was reached
OrderFilled          ``PartiallyFilled``/``Filled``  one execution (the order sums them)
OrderCancelled       ``Cancelled``               cancelled, possibly after partial fills
OrderRejected        ``Rejected``                refused by the venue or the simulator
OrderDeactivated     ``Deactivated``             a stop cancelled before it triggered
===================  ==========================  =========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeAlias

from tradeplay.domain.errors import InputError
from tradeplay.domain.fill import Fill
from tradeplay.domain.protection import Protection
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import (
    ClientOrderId,
    Money,
    OrderId,
    OrderType,
    Price,
    Quantity,
    Side,
    Symbol,
    TimeInForce,
    require_utc,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class _OrderEventBase:
    """Fields every order event has: which order (our id) and when."""

    client_order_id: ClientOrderId
    time: datetime

    def __post_init__(self) -> None:
        if self.time.tzinfo is not UTC:  # the message is only written when it is needed
            require_utc(self.time, f"{type(self).__name__} time")


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(_OrderEventBase):
    """We sent an order (or the simulated exchange received one). Starts an :class:`Order`."""

    symbol: Symbol
    side: Side
    order_type: OrderType
    qty: Quantity
    price: Price | None = None
    trigger_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    protection: Protection | None = None
    """Stop-loss / take-profit to place as soon as this entry fills (resolved at the fill)."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCreated(_OrderEventBase):
    """The venue has registered the order but not yet put it through matching."""

    order_id: OrderId


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(_OrderEventBase):
    """The order is working: resting in the book, or (a stop) waiting for its trigger."""

    order_id: OrderId


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTriggered(_OrderEventBase):
    """A stop order's trigger price was reached; it now becomes a market or limit order."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(_OrderEventBase):
    """One execution of the order. Partial or complete is decided by the order's quantities."""

    fill: Fill

    def __post_init__(self) -> None:
        _OrderEventBase.__post_init__(self)
        if self.fill.client_order_id not in (None, self.client_order_id):
            raise InputError(
                f"OrderFilled for order {self.client_order_id} carries fill "
                f"{self.fill.trade_id} of order {self.fill.client_order_id}"
            )


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(_OrderEventBase):
    """Cancelled by us, by the venue (e.g. reduce-only, IOC remainder) or by the simulator."""

    reason: str = ""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(_OrderEventBase):
    """Refused: the reason is the venue's or the simulator's, in words a trader can act on."""

    reason: str


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDeactivated(_OrderEventBase):
    """A conditional order was cancelled before it triggered (Bybit ``Deactivated``)."""

    reason: str = ""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired(_OrderEventBase):
    """The time in force ran out: the unfilled rest of an IOC / FOK order is gone."""

    reason: str = ""


OrderEvent: TypeAlias = (
    OrderSubmitted
    | OrderCreated
    | OrderAccepted
    | OrderTriggered
    | OrderFilled
    | OrderCancelled
    | OrderRejected
    | OrderDeactivated
    | OrderExpired
)


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class FundingApplied:
    """A funding settlement for one position.

    ``payment`` follows the fee sign: positive when the position paid, negative when it
    received (Bybit ``execFee`` of an ``execType=Funding`` execution). With a positive ``rate``
    longs pay shorts: ``payment = size * mark_price * rate`` with the signed ``size``.
    """

    symbol: Symbol
    time: datetime
    rate: Decimal
    mark_price: Price
    size: Quantity
    payment: Money

    def __post_init__(self) -> None:
        require_utc(self.time, "FundingApplied time")

    @classmethod
    def settle(
        cls, *, symbol: Symbol, time: datetime, rate: Decimal, mark_price: Price, size: Quantity
    ) -> FundingApplied:
        """The settlement a simulator books: payment computed from size, mark price and rate."""
        payment = size * mark_price * rate
        return cls(
            symbol=symbol, time=time, rate=rate, mark_price=mark_price, size=size, payment=payment
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionChanged:
    """A position after a fill: what the position monitor publishes to the rest of the loop."""

    symbol: Symbol
    time: datetime
    previous_size: Quantity
    size: Quantity
    entry_price: Price | None
    realized_pnl: Money
    """Realized PnL of this change alone (not the running total)."""

    def __post_init__(self) -> None:
        require_utc(self.time, "PositionChanged time")
