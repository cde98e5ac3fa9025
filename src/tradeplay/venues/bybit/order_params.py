"""Our instructions → the exact Bybit V5 request bodies. Pure functions, no I/O.

Every number goes out as a plain string already on the instrument's grid: the instrument is the
only thing that rounds (STYLE habit 4), and an off-grid value is refused here rather than
silently changed, because the engine rounded it already and a difference would be a bug.
Bybit's body rules used (bybit_v5.md §6.6, §6.8, §6.14, §6.15):

* ``category=linear`` and ``positionIdx: 0`` (one-way mode; hedge mode is refused by the domain);
* market orders carry no ``price`` and no ``timeInForce`` (Bybit makes them IOC itself);
* a conditional order needs ``triggerDirection`` (1 rising to, 2 falling to the trigger) or
  Bybit answers 110092 / 110093 (and ccxt refuses to send it at all);
* ``reduceOnly`` orders may not carry take-profit / stop-loss;
* in a trading stop, ``"0"`` removes a level.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from tradeplay.domain.errors import OrderRejectedError
from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.instrument import Instrument, Rounding
from tradeplay.domain.order import shape_problems
from tradeplay.domain.protection import LevelKind, Protection
from tradeplay.domain.values import (
    ClientOrderId,
    Price,
    Side,
    Symbol,
    TimeInForce,
)
from tradeplay.ports import TradingStop
from tradeplay.venues.bybit._fields import plain

__all__ = [
    "CATEGORY",
    "cancel_params",
    "create_order_params",
    "leverage_params",
    "needs_fill_price",
    "protection_stop",
    "trading_stop_params",
]

CATEGORY: Final = "linear"
_ONE_WAY: Final = 0
_RISING: Final = 1
_FALLING: Final = 2
_TIME_IN_FORCE: Final = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
_REMOVE: Final = "0"


def create_order_params(
    order: OrderSubmitted, instrument: Instrument, last_price: Price | None = None
) -> dict[str, Any]:
    """The ``/v5/order/create`` body for ``order``.

    ``last_price`` is needed for a stop order (to infer ``triggerDirection``). Take-profit and
    stop-loss are attached here only when both are absolute prices; levels measured from the
    fill are placed with a trading stop once the entry has filled (:func:`protection_stop`).
    """
    problems = shape_problems(order)
    if problems:
        raise OrderRejectedError(f"order {order.client_order_id}: " + "; ".join(problems))
    kind = order.order_type
    body: dict[str, Any] = {
        "category": CATEGORY,
        "symbol": order.symbol,
        "side": "Buy" if order.side is Side.BUY else "Sell",
        "orderType": "Limit" if kind.has_limit_price else "Market",
        "qty": _qty(order, instrument),
        "orderLinkId": order.client_order_id,
        "positionIdx": _ONE_WAY,
    }
    if order.price is not None:
        body["price"] = _price(order.price, instrument)
        body["timeInForce"] = _TIME_IN_FORCE[order.time_in_force]
    if order.trigger_price is not None:
        body["triggerPrice"] = _price(order.trigger_price, instrument)
        body["triggerDirection"] = _trigger_direction(order, last_price)
    if order.reduce_only:
        body["reduceOnly"] = True
    elif order.protection is not None:
        body |= _attached_protection(order.protection, order.side, instrument)
    return body


def _qty(order: OrderSubmitted, instrument: Instrument) -> str:
    instrument.validate_qty(order.qty, order.order_type)
    return plain(instrument.round_qty(order.qty, Rounding.REFUSE).normalize())


def _price(price: Price, instrument: Instrument) -> str:
    # On the grid, then without trailing zeros: "65000.1" as ccxt sends it (wire log), not
    # the tick's "65000.10"; Bybit reads both.
    return plain(instrument.round_price(price, Rounding.REFUSE).normalize())


def _trigger_direction(order: OrderSubmitted, last_price: Price | None) -> int:
    """1 when the trigger is above the last price (fires on the way up), 2 when below.

    At exactly the last price either direction fires at once; the order's purpose decides:
    a buy stop waits for a rise, a sell stop for a fall.
    """
    trigger = order.trigger_price
    assert trigger is not None  # only called for stop orders
    if last_price is None:
        raise OrderRejectedError(
            f"order {order.client_order_id}: a stop order needs the last price to tell Bybit "
            "whether it triggers on a rise or a fall"
        )
    if trigger != last_price:
        return _RISING if trigger > last_price else _FALLING
    return _RISING if order.side is Side.BUY else _FALLING


def _attached_protection(
    protection: Protection, side: Side, instrument: Instrument
) -> dict[str, str]:
    """``takeProfit`` / ``stopLoss`` on the create body when both levels are absolute prices."""
    levels = (protection.stop_loss, protection.take_profit)
    if any(level is not None and level.kind is not LevelKind.PRICE for level in levels):
        return {}
    # Absolute levels do not depend on the fill; any positive reference price resolves them.
    stop, target = protection.resolve(side, Decimal(1))
    body = {"tpslMode": "Full"}
    if stop is not None:
        body["stopLoss"] = plain(_stop_on_grid(stop, side, instrument).normalize())
    if target is not None:
        body["takeProfit"] = plain(_target_on_grid(target, side, instrument).normalize())
    return body


def needs_fill_price(protection: Protection | None) -> bool:
    """Whether ``protection`` can only be placed once the entry's fill price is known."""
    if protection is None:
        return False
    levels = (protection.stop_loss, protection.take_profit)
    return any(level is not None and level.kind is not LevelKind.PRICE for level in levels)


def protection_stop(
    symbol: Symbol, protection: Protection, side: Side, fill_price: Price, instrument: Instrument
) -> TradingStop:
    """The trading stop for an entry of ``side`` filled at ``fill_price`` (the order's
    ``avgPrice`` from an order query, never the create answer). Rounded as the domain promises:
    the stop and the target both toward the entry, never a wider loss or a farther target."""
    stop, target = protection.resolve(side, fill_price)
    return TradingStop(
        symbol=symbol,
        stop_loss=None if stop is None else _stop_on_grid(stop, side, instrument),
        take_profit=None if target is None else _target_on_grid(target, side, instrument),
    )


def _stop_on_grid(stop: Price, side: Side, instrument: Instrument) -> Price:
    # A long's stop is below the entry: rounding up brings it closer (a buy's stop).
    return instrument.round_price(stop, Rounding.UP if side is Side.BUY else Rounding.DOWN)


def _target_on_grid(target: Price, side: Side, instrument: Instrument) -> Price:
    # A long's target is above the entry: rounding down brings it closer.
    return instrument.round_price(target, Rounding.DOWN if side is Side.BUY else Rounding.UP)


def trading_stop_params(stop: TradingStop, instrument: Instrument) -> dict[str, Any]:
    """The ``/v5/position/trading-stop`` body: every level is sent, ``"0"`` removing it, so
    the call replaces the whole protection as the port promises."""
    body: dict[str, Any] = {
        "category": CATEGORY,
        "symbol": stop.symbol,
        "tpslMode": "Full",
        "positionIdx": _ONE_WAY,
        "takeProfit": _level(stop.take_profit, instrument),
        "stopLoss": _level(stop.stop_loss, instrument),
        "trailingStop": _level(stop.trailing_distance, instrument),
    }
    if stop.trailing_activation is not None:
        body["activePrice"] = _price(stop.trailing_activation, instrument)
    return body


def _level(value: Price | None, instrument: Instrument) -> str:
    return _REMOVE if value is None else _price(value, instrument)


def cancel_params(symbol: Symbol, client_order_id: ClientOrderId) -> dict[str, Any]:
    """``/v5/order/cancel`` by our id (Bybit accepts ``orderLinkId`` instead of ``orderId``)."""
    return {"category": CATEGORY, "symbol": symbol, "orderLinkId": client_order_id}


def leverage_params(symbol: Symbol, leverage: Decimal, instrument: Instrument) -> dict[str, Any]:
    """``/v5/position/set-leverage``: one-way mode needs buy and sell leverage equal."""
    instrument.validate_leverage(leverage)
    value = plain(leverage.normalize())  # "5", "12.5": Bybit's own spelling (wire log)
    return {"category": CATEGORY, "symbol": symbol, "buyLeverage": value, "sellLeverage": value}
