"""Bybit's view of an order, kept over the simulated exchange's order (or orders, after amends).

The simulated exchange knows an order by our client id and has no amend. The emulator gives
every order Bybit's ``orderId`` (a UUID) and keeps the client's ``orderLinkId``; underneath, the
order is one *incarnation* in the simulator at a time, under an internal client id (``e<n>``).
An amend cancels the incarnation and submits the rest under a new internal id: the protocol
ids stay the same, the quantities filled before the amend are carried, so ``cumExecQty``,
``cumExecValue`` and the fees cover the whole order.

Statuses map from the domain's one transition table (:mod:`tradeplay.domain.order`) to Bybit's
words; ``expired`` (an IOC / FOK remainder) is reported as Bybit reports it, ``Cancelled``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from tradeplay.domain.events import OrderEvent, OrderFilled, OrderSubmitted
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.values import (
    ZERO,
    ClientOrderId,
    OrderType,
    Side,
    TimeInForce,
    format_decimal,
)
from tradeplay.emulator.entry import OrderIntent
from tradeplay.emulator.params import Params
from tradeplay.sim.book import Origin

__all__ = ["BYBIT_STATUS", "OrderRecord", "epoch_ms"]

BYBIT_STATUS: Final = {
    OrderStatus.PENDING: "Created",
    OrderStatus.CREATED: "Created",
    OrderStatus.NEW: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.REJECTED: "Rejected",
    OrderStatus.UNTRIGGERED: "Untriggered",
    OrderStatus.TRIGGERED: "Triggered",
    OrderStatus.DEACTIVATED: "Deactivated",
    OrderStatus.EXPIRED: "Cancelled",
}
# Bybit's ``stopOrderType`` and ``createType`` of the orders the exchange places itself.
_SYSTEM_TYPES: Final = {
    Origin.TAKE_PROFIT: ("TakeProfit", "CreateByTakeProfit"),
    Origin.STOP_LOSS: ("StopLoss", "CreateByStopLoss"),
    Origin.TRAILING_STOP: ("TrailingStop", "CreateByTrailingStop"),
    Origin.LIQUIDATION: ("UNKNOWN", "CreateByLiq"),
    Origin.END_OF_DATA: ("UNKNOWN", "CreateBySettle"),
}


def epoch_ms(moment: datetime) -> int:
    """Bybit's timestamps: milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def _text(value: Decimal | None, empty: str = "") -> str:
    return empty if value is None else format_decimal(value)


@dataclass(slots=True, kw_only=True)
class OrderRecord:
    """One order as Bybit reports it."""

    order_id: str
    link_id: str
    symbol: str
    side: Side
    order_type: str
    """Bybit's ``Market`` or ``Limit``."""
    time_in_force: str
    qty: Decimal
    price: Decimal | None
    """The limit price; for a market order the protective price Bybit reports (see venue)."""
    trigger_price: Decimal | None = None
    trigger_direction: int = 0
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    reduce_only: bool = False
    close_on_trigger: bool = False
    created_ms: int
    updated_ms: int
    last_price_on_created: str = ""
    stop_order_type: str = ""
    create_type: str = "CreateByUser"
    sim_id: ClientOrderId
    order: Order
    """The current incarnation in the simulator (the domain order, changed only by events)."""
    carried_qty: Decimal = ZERO
    carried_value: Decimal = ZERO
    carried_fee: Decimal = ZERO
    reject_reason: str = "EC_NoError"
    cancel_type: str = "UNKNOWN"
    closed_pnl: Decimal = ZERO
    fee_rates: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def placed(
        cls,
        intent: OrderIntent,
        submitted: OrderSubmitted,
        *,
        order_id: str,
        price: Decimal | None,
        last: Decimal,
    ) -> OrderRecord:
        """A trader's new order; ``price`` is the one Bybit reports (see the venue)."""
        now_ms = epoch_ms(submitted.time)
        return cls(
            order_id=order_id,
            link_id=intent.link_id,
            symbol=intent.symbol,
            side=intent.side,
            order_type=intent.bybit_type,
            time_in_force=intent.time_in_force,
            qty=intent.qty,
            price=price,
            trigger_price=intent.trigger_price,
            trigger_direction=intent.trigger_direction,
            take_profit=intent.take_profit,
            stop_loss=intent.stop_loss,
            reduce_only=intent.reduce_only,
            close_on_trigger=intent.close_on_trigger,
            created_ms=now_ms,
            updated_ms=now_ms,
            last_price_on_created=format_decimal(last),
            stop_order_type="Stop" if intent.trigger_price is not None else "",
            sim_id=submitted.client_order_id,
            order=Order.from_submitted(submitted),
        )

    @classmethod
    def of_system(
        cls, event: OrderEvent, *, order_id: str, symbol: str, running_size: Decimal, mark: Decimal
    ) -> OrderRecord:
        """An order the exchange placed itself (take-profit, stop-loss, trailing stop,
        liquidation): Bybit shows those with their own ``stopOrderType``/``createType``.
        ``running_size`` is the position it acts on, ``mark`` the price when it has no fill."""
        fill = event.fill if isinstance(event, OrderFilled) else None
        stop_type, create_type = _SYSTEM_TYPES.get(
            Origin.of(event.client_order_id), ("UNKNOWN", "CreateByUser")
        )
        # They close the whole position: a sell while long, of its size (the fills are applied
        # in order, so the running size is the position they act on).
        qty = fill.qty if fill is not None else abs(running_size)
        closing = Side.SELL if running_size > 0 else Side.BUY
        side = fill.side if fill is not None else closing
        # The exchange's own orders are conditional (they wait for their level), so they may be
        # seen Untriggered → Triggered → Filled; the level itself stays inside the simulator,
        # the price they were triggered at is reported as the trigger price.
        trigger = fill.price if fill is not None else mark
        submitted = OrderSubmitted(
            client_order_id=event.client_order_id,
            time=event.time,
            symbol=symbol,
            side=side,
            order_type=OrderType.STOP_MARKET,
            qty=qty or Decimal(1),
            trigger_price=trigger,
            time_in_force=TimeInForce.IOC,
            reduce_only=True,
        )
        # Waiting for its level (pending → untriggered is in the transition table); the
        # simulator's own order id arrives with the first fill.
        order = replace(Order.from_submitted(submitted), status=OrderStatus.UNTRIGGERED)
        return cls(
            order_id=order_id,
            link_id="",
            symbol=symbol,
            side=side,
            order_type="Market",
            time_in_force="IOC",
            qty=qty,
            price=None,
            trigger_price=trigger,
            reduce_only=True,
            close_on_trigger=True,
            created_ms=epoch_ms(event.time),
            updated_ms=epoch_ms(event.time),
            stop_order_type=stop_type,
            create_type=create_type,
            sim_id=event.client_order_id,
            order=order,
        )

    # ---------------------------------------------------------------- views

    @property
    def filled_qty(self) -> Decimal:
        return self.carried_qty + self.order.filled_qty

    @property
    def filled_value(self) -> Decimal:
        return self.carried_value + self.order.filled_value

    @property
    def fees(self) -> Decimal:
        return self.carried_fee + self.order.fees

    @property
    def is_open(self) -> bool:
        return self.order.is_open

    @property
    def is_conditional(self) -> bool:
        return self.trigger_price is not None

    @property
    def status(self) -> str:
        return BYBIT_STATUS[self.order.status]

    def ack(self) -> dict[str, object]:
        """The ids Bybit answers a create / amend / cancel with (an acknowledgement only)."""
        return {"orderId": self.order_id, "orderLinkId": self.link_id}

    def terms(
        self, qty: Decimal, price: Decimal | None, trigger: Decimal | None, params: Params | None
    ) -> OrderIntent:
        """The order's terms with the amended values in place of the old ones."""
        take_profit, stop_loss = self.take_profit, self.stop_loss
        if params is not None:
            if params.has("takeProfit"):
                take_profit = params.decimal("takeProfit") or None
            if params.has("stopLoss"):
                stop_loss = params.decimal("stopLoss") or None
        limit = self.price if self.order_type == "Limit" else None
        return OrderIntent(
            symbol=self.symbol,
            side=self.side,
            bybit_type=self.order_type,
            qty=qty,
            price=price or limit,
            time_in_force=self.time_in_force,
            link_id=self.link_id,
            reduce_only=self.reduce_only,
            close_on_trigger=self.close_on_trigger,
            trigger_price=trigger or self.trigger_price,
            trigger_direction=self.trigger_direction,
            take_profit=take_profit,
            stop_loss=stop_loss,
        )

    def finish_reason(self) -> None:
        """Set Bybit's ``cancelType`` / ``rejectReason`` from how the incarnation ended."""
        status, reason = self.order.status, self.order.reason.lower()
        if status is OrderStatus.CANCELLED:
            self.cancel_type = "CancelByReduceOnly" if "reduce" in reason else "CancelByUser"
        elif status is OrderStatus.EXPIRED:
            # An IOC / FOK remainder: Bybit cancels it with one of these reasons.
            self.reject_reason = (
                "EC_CancelForNoFullFill"
                if self.time_in_force == "FOK"
                else "EC_NoImmediateQtyToFill"
            )
            self.cancel_type = "UNKNOWN"
        elif status is OrderStatus.DEACTIVATED:
            self.cancel_type = "CancelByUser"

    def to_bybit(self) -> dict[str, object]:
        """The order object of ``/v5/order/realtime`` and ``/history`` (reference §6.10)."""
        filled, value = self.filled_qty, self.filled_value
        leaves = self.qty - filled if self.is_open else ZERO
        price = self.price
        return {
            "orderId": self.order_id,
            "orderLinkId": self.link_id,
            "blockTradeId": "",
            "symbol": self.symbol,
            "price": _text(price, "0"),
            "qty": _text(self.qty),
            "side": "Buy" if self.side is Side.BUY else "Sell",
            "isLeverage": "",
            "positionIdx": 0,
            "orderStatus": self.status,
            "createType": self.create_type,
            "cancelType": self.cancel_type,
            "rejectReason": self.reject_reason,
            "avgPrice": format_decimal(value / filled) if filled else "",
            "leavesQty": format_decimal(leaves),
            "leavesValue": format_decimal(leaves * price) if price is not None else "0",
            "cumExecQty": format_decimal(filled),
            "cumExecValue": format_decimal(value),
            "cumExecFee": format_decimal(self.fees),
            "cumFeeDetail": {"USDT": format_decimal(self.fees)} if filled else {},
            "timeInForce": self.time_in_force,
            "orderType": self.order_type,
            "stopOrderType": self.stop_order_type,
            "orderIv": "",
            "marketUnit": "",
            "triggerPrice": _text(self.trigger_price),
            "takeProfit": _text(self.take_profit),
            "stopLoss": _text(self.stop_loss),
            "tpslMode": "Full" if self.take_profit or self.stop_loss else "",
            "ocoTriggerBy": "",
            "tpLimitPrice": "0",
            "slLimitPrice": "0",
            "tpTriggerBy": "LastPrice" if self.take_profit else "",
            "slTriggerBy": "LastPrice" if self.stop_loss else "",
            "triggerDirection": self.trigger_direction,
            "triggerBy": "LastPrice" if self.trigger_price is not None else "",
            "lastPriceOnCreated": self.last_price_on_created,
            "basePrice": self.last_price_on_created if self.trigger_price is not None else "",
            "reduceOnly": self.reduce_only,
            "closeOnTrigger": self.close_on_trigger,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(self.created_ms),
            "updatedTime": str(self.updated_ms),
        }

    def to_stream(self) -> dict[str, object]:
        """The ``order`` topic's item: the REST object plus the stream's extra fields."""
        item = self.to_bybit()
        item.update(
            category="linear",
            closedPnl=format_decimal(self.closed_pnl),
            feeCurrency="",
            parentOrderLinkId="",
        )
        return item
