"""Bybit's checks on a new or amended order, in Bybit's order, with Bybit's codes and words.

Order (reference §13.4): symbol → side / type → quantity against min / max / step (10001) →
price against tick and band (10001 / 110003) → order value (110094) → trigger direction
(110092 / 110093) → take-profit / stop-loss sides (10001) → position index (10001). Reduce-only
(110017), balance (110007) and a duplicate ``orderLinkId`` (110072) are decided by the
simulated exchange, whose reasons name those codes.

Texts: the ones seen from Bybit where the reference has them; where it marks them unknown
([U]: step and tick violations), the text is ours, in Bybit's ``params error: …`` form, and
names the rule and the number that was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from tradeplay.domain.instrument import Instrument
from tradeplay.domain.protection import Level, LevelKind, Protection
from tradeplay.domain.values import OrderType, Side, TimeInForce, format_decimal
from tradeplay.emulator.errors import BybitError, Code
from tradeplay.emulator.params import Params

__all__ = ["OrderIntent", "check_levels", "read_intent"]

_LINK_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_TIF: Final = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PostOnly": TimeInForce.POST_ONLY,
}
# Bybit quotes quantities ×1e8 in its "exceeds maximum" message (reference §12).
_E8: Final = Decimal(100_000_000)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIntent:
    """A create request that passed Bybit's parameter checks."""

    symbol: str
    side: Side
    bybit_type: str
    qty: Decimal
    price: Decimal | None
    time_in_force: str
    link_id: str
    reduce_only: bool
    close_on_trigger: bool
    trigger_price: Decimal | None
    trigger_direction: int
    take_profit: Decimal | None
    stop_loss: Decimal | None

    @property
    def order_type(self) -> OrderType:
        if self.trigger_price is None:
            return OrderType.MARKET if self.bybit_type == "Market" else OrderType.LIMIT
        return OrderType.STOP_MARKET if self.bybit_type == "Market" else OrderType.STOP_LIMIT

    @property
    def tif(self) -> TimeInForce:
        return _TIF[self.time_in_force]

    @property
    def protection(self) -> Protection | None:
        if self.take_profit is None and self.stop_loss is None:
            return None
        return Protection(
            stop_loss=None if self.stop_loss is None else Level(LevelKind.PRICE, self.stop_loss),
            take_profit=(
                None if self.take_profit is None else Level(LevelKind.PRICE, self.take_profit)
            ),
        )


def read_intent(params: Params, instrument: Instrument, position_qty: Decimal) -> OrderIntent:
    """The order a ``/v5/order/create`` body asks for; raises :class:`BybitError` like Bybit.

    ``position_qty`` (unsigned) serves ``qty: "0"`` with ``reduceOnly`` and ``closeOnTrigger``,
    which Bybit reads as "close the whole position".
    """
    side = params.choice("side", ("Buy", "Sell"))
    bybit_type = params.choice("orderType", ("Market", "Limit"))
    reduce_only = params.flag("reduceOnly")
    close_on_trigger = params.flag("closeOnTrigger")
    qty = params.decimal("qty")
    if qty == 0 and reduce_only and close_on_trigger:
        qty = min(position_qty, instrument.max_market_qty)
    time_in_force = (
        "IOC" if bybit_type == "Market" else params.choice("timeInForce", tuple(_TIF), "GTC")
    )
    price = params.optional_decimal("price") if bybit_type == "Limit" else None
    if bybit_type == "Limit" and price is None:
        raise BybitError.params("price is required for a Limit order")
    link_id = params.text("orderLinkId", "")
    if link_id and not _LINK_ID.match(link_id):
        raise BybitError.params("orderLinkId invalid: 1 to 36 letters, digits, '_' or '-'")
    if params.integer("positionIdx", 0) != 0:
        raise BybitError(Code.PARAMS, "position idx not match position mode")
    intent = OrderIntent(
        symbol=instrument.symbol,
        side=Side.BUY if side == "Buy" else Side.SELL,
        bybit_type=bybit_type,
        qty=qty,
        price=price,
        time_in_force=time_in_force,
        link_id=link_id,
        reduce_only=reduce_only,
        close_on_trigger=close_on_trigger,
        trigger_price=params.optional_decimal("triggerPrice"),
        trigger_direction=params.integer("triggerDirection", 0),
        take_profit=_positive_or_none(params.optional_decimal("takeProfit")),
        stop_loss=_positive_or_none(params.optional_decimal("stopLoss")),
    )
    if intent.reduce_only and (intent.take_profit or intent.stop_loss):
        raise BybitError.params("take profit / stop loss cannot be set on a reduce-only order")
    return intent


def _positive_or_none(value: Decimal | None) -> Decimal | None:
    return value if value else None  # "0" means "not set" on Bybit


def check_levels(intent: OrderIntent, instrument: Instrument, last: Decimal) -> None:
    """Quantity, price, order value, trigger direction and TP / SL sides, in Bybit's order."""
    check_qty(instrument, intent.qty, market=intent.bybit_type == "Market")
    for price in (intent.price, intent.trigger_price, intent.take_profit, intent.stop_loss):
        if price is not None:
            check_price(instrument, price)
    reference = intent.price or intent.trigger_price or last
    if not intent.reduce_only and intent.qty * reference < instrument.min_notional:
        raise BybitError(
            Code.NOTIONAL_TOO_SMALL,
            f"Order does not meet minimum order value {format_decimal(instrument.min_notional)}"
            f"{instrument.settle}",
        )
    if intent.trigger_price is not None:
        check_trigger(intent.trigger_price, intent.trigger_direction, last)
    base = intent.price or intent.trigger_price or last
    check_tp_sl(intent.side, intent.take_profit, intent.stop_loss, base)


def check_qty(instrument: Instrument, qty: Decimal, *, market: bool) -> None:
    if qty < instrument.min_qty:
        raise BybitError(Code.PARAMS, "The number of contracts exceeds minimum limit allowed")
    limit = instrument.max_market_qty if market else instrument.max_qty
    if qty > limit:
        raise BybitError(
            Code.PARAMS,
            "The number of contracts exceeds maximum limit allowed: too large, "
            f"order_qty:{format_decimal(qty * _E8)} > max_qty:{format_decimal(limit * _E8)}",
        )
    if qty % instrument.qty_step:
        raise BybitError.params(
            f"qty invalid: {format_decimal(qty)} is not a multiple of qtyStep "
            f"{format_decimal(instrument.qty_step)}"
        )


def check_price(instrument: Instrument, price: Decimal) -> None:
    if price % instrument.tick_size:
        raise BybitError.params(
            f"price invalid: {format_decimal(price)} is not a multiple of tickSize "
            f"{format_decimal(instrument.tick_size)}"
        )
    if not instrument.min_price <= price <= instrument.max_price:
        raise BybitError(Code.PRICE_OUT_OF_RANGE, "Order price is out of permissible range")


def check_trigger(trigger: Decimal, direction: int, last: Decimal) -> None:
    """Bybit needs the direction (1 rises to the trigger, 2 falls to it) to match the price."""
    shown = f"trigger_price[{format_decimal(trigger)}]"
    if direction == 1 and trigger <= last:
        raise BybitError(
            Code.EXPECT_RISING,
            f"expect Rising, but {shown} <= current[{format_decimal(last)}]",
        )
    if direction == 2 and trigger >= last:
        raise BybitError(
            Code.EXPECT_FALLING,
            f"expect Falling, but {shown} >= current[{format_decimal(last)}]",
        )
    if direction not in (1, 2):
        raise BybitError.params("triggerDirection invalid: 1 (rise to) or 2 (fall to) is required")


def check_tp_sl(
    side: Side, take_profit: Decimal | None, stop_loss: Decimal | None, base: Decimal
) -> None:
    """A buy's stop below and target above the base price; the reverse for a sell."""
    word = "Buy" if side is Side.BUY else "Sell"
    below, above = (stop_loss, take_profit) if side is Side.BUY else (take_profit, stop_loss)
    if below is not None and below >= base:
        name = "StopLoss" if side is Side.BUY else "TakeProfit"
        raise BybitError(
            Code.PARAMS,
            f"{name}:{format_decimal(below)} set for {word} position should lower than "
            f"base_price:{format_decimal(base)}",
        )
    if above is not None and above <= base:
        name = "TakeProfit" if side is Side.BUY else "StopLoss"
        raise BybitError(
            Code.PARAMS,
            f"{name}:{format_decimal(above)} set for {word} position should higher than "
            f"base_price:{format_decimal(base)}",
        )
