"""Bybit V5 JSON → normalized, exact reports for reconciliation. Pure functions, no I/O.

The same item shapes arrive over REST and WebSocket, so one parser serves both:

=====================  ===================================  =====================
Bybit item             REST endpoint / WebSocket topic      becomes
=====================  ===================================  =====================
order                  ``order/realtime``, ``order/history``  :class:`OrderReport`
                       / ``order``
execution ``Trade`` …  ``execution/list`` / ``execution``   ``Fill`` (see executions)
execution ``Funding``  ``execution/list`` (WS: unknown)     ``FundingApplied``
position               ``position/list`` / ``position``     :class:`PositionReport`
wallet ``list[0]``     ``account/wallet-balance``           :class:`BalanceReport`
                       / ``wallet``
=====================  ===================================  =====================

Fills come only from executions, never from a create answer (which is an acknowledgement only,
bybit_v5.md §6.6 and §9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from tradeplay.domain.account import Account
from tradeplay.domain.errors import InputError
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.position import Position
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
)
from tradeplay.venues.bybit._fields import (
    Json,
    client_id,
    flag,
    integer,
    number,
    number_or_zero,
    price_or_none,
    side,
    text,
    time_ms,
)

__all__ = [
    "BalanceReport",
    "OrderReport",
    "PositionReport",
    "balance_report",
    "order_report",
    "position_report",
]

_STATUS: Final = MappingProxyType(
    {
        "Created": OrderStatus.CREATED,
        "New": OrderStatus.NEW,
        "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
        "Filled": OrderStatus.FILLED,
        "Cancelled": OrderStatus.CANCELLED,
        # Spot only (bybit_v5.md §8); the domain folds it into Cancelled with fills.
        "PartiallyFilledCanceled": OrderStatus.CANCELLED,
        "Rejected": OrderStatus.REJECTED,
        "Untriggered": OrderStatus.UNTRIGGERED,
        "Triggered": OrderStatus.TRIGGERED,
        "Deactivated": OrderStatus.DEACTIVATED,
    }
)
_TIME_IN_FORCE: Final = MappingProxyType(
    {
        "GTC": TimeInForce.GTC,
        "IOC": TimeInForce.IOC,
        "FOK": TimeInForce.FOK,
        "PostOnly": TimeInForce.POST_ONLY,
        # Retail-price-improvement orders are for market makers only (bybit_v5.md §6.6); they
        # rest in the book like GTC, which is what the engine needs to know.
        "RPI": TimeInForce.GTC,
    }
)
# rejectReason / cancelType values that mean "nothing to say" (bybit_v5.md §8).
_NO_REASON: Final = frozenset({"", "EC_NoError", "UNKNOWN"})
_AVAILABLE: Final = "totalAvailableBalance"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReport:
    """What Bybit says about one order, exactly. ``client_order_id`` is our ``orderLinkId``."""

    client_order_id: ClientOrderId | None
    order_id: OrderId
    symbol: Symbol
    side: Side
    order_type: OrderType
    status: OrderStatus
    qty: Quantity
    price: Price | None
    """The limit price; ``None`` for market orders, whose Bybit ``price`` is only the
    slippage-protection limit the venue chose (bybit_v5.md §8)."""
    trigger_price: Price | None
    time_in_force: TimeInForce
    reduce_only: bool
    filled_qty: Quantity
    filled_value: Money
    avg_price: Price | None
    fees: Money
    reason: str
    stop_order_type: str
    """Bybit ``stopOrderType``: ``TakeProfit`` / ``StopLoss`` / ``TrailingStop`` for the orders
    a position's trading stop creates, ``Stop`` for our own conditional orders, ``""`` else."""
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return not self.status.is_final

    def to_order(self) -> Order:
        """The domain order. An order placed without our id (manual, or the position's TP/SL)
        is named by the venue's id, which fits the same 36-character rule."""
        return Order(
            client_order_id=self.client_order_id or ClientOrderId(self.order_id),
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            qty=self.qty,
            price=self.price,
            trigger_price=self.trigger_price,
            time_in_force=self.time_in_force,
            reduce_only=self.reduce_only,
            created_at=self.created_at,
            updated_at=self.updated_at,
            status=self.status,
            order_id=self.order_id,
            filled_qty=self.filled_qty,
            filled_value=self.filled_value,
            fees=self.fees,
            reason=self.reason,
        )


def order_report(item: Json) -> OrderReport:
    """One Bybit order item (REST ``list[]`` or WebSocket ``data[]``) as an :class:`OrderReport`."""
    trigger = price_or_none(item, "triggerPrice")
    is_limit = text(item, "orderType") == "Limit"
    if is_limit:
        kind = OrderType.STOP_LIMIT if trigger is not None else OrderType.LIMIT
    else:
        kind = OrderType.STOP_MARKET if trigger is not None else OrderType.MARKET
    tif = _TIME_IN_FORCE.get(text(item, "timeInForce"), TimeInForce.GTC)
    return OrderReport(
        client_order_id=client_id(item),
        order_id=OrderId(text(item, "orderId")),
        symbol=text(item, "symbol"),
        side=side(item),
        order_type=kind,
        status=_status(item, tif),
        qty=number(item, "qty"),
        price=price_or_none(item, "price") if is_limit else None,
        trigger_price=trigger,
        # A market order is always IOC at Bybit; the domain keeps GTC for "no limit" orders.
        time_in_force=tif if is_limit else TimeInForce.GTC,
        reduce_only=flag(item, "reduceOnly"),
        filled_qty=number_or_zero(item, "cumExecQty"),
        filled_value=number_or_zero(item, "cumExecValue"),
        avg_price=price_or_none(item, "avgPrice"),
        fees=_fees(item),
        reason=_reason(item),
        stop_order_type=text(item, "stopOrderType").replace("UNKNOWN", ""),
        created_at=time_ms(item, "createdTime"),
        updated_at=time_ms(item, "updatedTime"),
    )


def _status(item: Json, tif: TimeInForce) -> OrderStatus:
    value = text(item, "orderStatus")
    try:
        status = _STATUS[value]
    except KeyError:
        raise InputError(f"Bybit orderStatus {value!r} is unknown") from None
    # Bybit reports an IOC / FOK remainder that could not fill as Cancelled; market orders are
    # IOC limits at Bybit (bybit_v5.md §8). The domain calls that Expired ("the market was not
    # there"), but only when nobody cancelled it: a ``cancelType`` such as CancelByUser or
    # CancelByReduceOnly names who did (open and IOC-expired orders show UNKNOWN).
    ioc = tif in (TimeInForce.IOC, TimeInForce.FOK) or text(item, "orderType") == "Market"
    nobody = text(item, "cancelType") in _NO_REASON
    conditional = price_or_none(item, "triggerPrice") is not None
    if status is OrderStatus.CANCELLED and ioc and nobody and not conditional:
        return OrderStatus.EXPIRED
    return status


def _fees(item: Json) -> Money:
    """``cumFeeDetail`` (``{"USDT": "0.0679"}``) where given; ``cumExecFee`` is deprecated for
    linear but is all that older answers and the WebSocket examples carry (bybit_v5.md §6.10)."""
    detail = item.get("cumFeeDetail")
    if isinstance(detail, Mapping) and detail:
        return sum((number(detail, coin) for coin in detail), ZERO)
    return number_or_zero(item, "cumExecFee")


def _reason(item: Json) -> str:
    parts = [text(item, "rejectReason"), text(item, "cancelType")]
    return ", ".join(part for part in parts if part not in _NO_REASON)


# ------------------------------------------------------------------------------ positions


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionReport:
    """Bybit's view of one position. ``size`` is signed (Bybit's is unsigned plus a side)."""

    symbol: Symbol
    position_idx: int
    size: Quantity
    entry_price: Price | None
    position_value: Money | None
    """``positionValue``: Bybit's exact cost of the open part; ``avgPrice`` is that divided by
    the size and rounded (``position_list_linear_open_long.json``: 77.519375 / 1.2 is shown as
    64.59947917), so the cost basis is taken from here when given."""
    mark_price: Price | None
    leverage: Decimal | None
    unrealized_pnl: Money
    realized_pnl: Money
    """``curRealisedPnl``: realized PnL of the current holding, fees included (net)."""
    cum_realized_pnl: Money
    liquidation_price: Price | None
    take_profit: Price | None
    stop_loss: Price | None
    trailing_stop: Price | None
    updated_at: datetime | None
    seq: int = -1
    """Bybit's cross sequence: a fill and the position update it caused share it (§11);
    ``-1`` if never traded (or not sent)."""

    def to_position(self) -> Position:
        """The domain position. Bybit's realized PnL is already net of fees, so it goes into
        ``realized_pnl`` with ``fees_paid`` zero: ``net_pnl`` then equals Bybit's figure."""
        entry = self.entry_price if self.size != 0 else None
        if entry is None:
            cost = ZERO
        elif self.position_value is not None:
            cost = self.position_value if self.size > 0 else -self.position_value
        else:
            cost = self.size * entry
        return Position(
            symbol=self.symbol,
            size=self.size,
            entry_price=entry,
            cost_basis=cost,
            realized_pnl=self.realized_pnl,
            updated_at=self.updated_at,
        )


def position_report(item: Json) -> PositionReport:
    """One position item. REST calls the entry ``avgPrice``, WebSocket ``entryPrice``
    (bybit_v5.md §7.2, §11); a flat position has side ``""`` and size ``"0"``."""
    size = number_or_zero(item, "size")
    if size != 0:
        size *= side(item).sign
    entry_key = "entryPrice" if "entryPrice" in item else "avgPrice"
    updated = item.get("updatedTime")
    return PositionReport(
        symbol=text(item, "symbol"),
        position_idx=integer(item, "positionIdx"),
        size=size,
        entry_price=price_or_none(item, entry_key),
        position_value=price_or_none(item, "positionValue"),
        mark_price=price_or_none(item, "markPrice"),
        leverage=price_or_none(item, "leverage"),
        unrealized_pnl=number_or_zero(item, "unrealisedPnl"),
        realized_pnl=number_or_zero(item, "curRealisedPnl"),
        cum_realized_pnl=number_or_zero(item, "cumRealisedPnl"),
        liquidation_price=price_or_none(item, "liqPrice"),
        take_profit=price_or_none(item, "takeProfit"),
        stop_loss=price_or_none(item, "stopLoss"),
        trailing_stop=price_or_none(item, "trailingStop"),
        updated_at=time_ms(item, "updatedTime") if updated not in (None, "") else None,
        seq=integer(item, "seq", -1),
    )


# ------------------------------------------------------------------------------ balance


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceReport:
    """One coin of the unified account, plus the account-wide available balance (USD)."""

    coin: str
    wallet_balance: Money
    equity: Money
    unrealized_pnl: Money
    cum_realized_pnl: Money
    position_margin: Money
    order_margin: Money
    locked: Money
    total_available: Money | None
    """``totalAvailableBalance`` in USD: what cross-margin orders may use (bybit_v5.md §6.17)."""

    @property
    def free(self) -> Money:
        """``walletBalance − totalPositionIM − totalOrderIM − locked``: the coin's free balance
        as ccxt computes it, which matches the real capture (bybit_v5.md §6.17)."""
        return self.wallet_balance - self.position_margin - self.order_margin - self.locked

    def to_account(self, time: datetime | None = None) -> Account:
        """The domain account. Bybit gives no deposit history; everything in the wallet that
        trading did not earn (``cumRealisedPnl``, net of fees and funding) counts as deposits,
        so the account balances by construction."""
        return Account(
            coin=self.coin,
            wallet_balance=self.wallet_balance,
            net_deposits=self.wallet_balance - self.cum_realized_pnl,
            realized_pnl=self.cum_realized_pnl,
            updated_at=time,
        )


def balance_report(account_item: Json, coin: str = "USDT") -> BalanceReport:
    """``coin`` of one wallet item (REST ``result.list[0]`` or WebSocket ``data[0]``).

    A coin the wallet does not list has a zero balance: Bybit lists only non-zero coins when
    none is asked for (bybit_v5.md §6.17).
    """
    coins = account_item.get("coin") or []
    row: Json = next((c for c in coins if text(c, "coin") == coin), {"coin": coin})
    available = account_item.get(_AVAILABLE)
    return BalanceReport(
        coin=coin,
        wallet_balance=number_or_zero(row, "walletBalance"),
        equity=number_or_zero(row, "equity"),
        unrealized_pnl=number_or_zero(row, "unrealisedPnl"),
        cum_realized_pnl=number_or_zero(row, "cumRealisedPnl"),
        position_margin=number_or_zero(row, "totalPositionIM"),
        order_margin=number_or_zero(row, "totalOrderIM"),
        locked=number_or_zero(row, "locked"),
        total_available=None if available in (None, "") else number(account_item, _AVAILABLE),
    )
