"""What the simulated exchange checks when an order arrives, and where an accepted one waits.

Each check gives the reason a trader reads in :class:`~tradeplay.domain.events.OrderRejected`,
or ``None``; a refusal is an event, never an exception. The order of the checks follows Bybit
(quantity and price rules, minimum order value, reduce-only, balance), so the first problem
reported is the one Bybit would report. The balance check lives with the margin in
:meth:`tradeplay.sim.clearing.Clearing.refusal`.

Stop orders: Bybit asks for a ``triggerDirection`` (1 = rises to the trigger, 2 = falls to it).
An :class:`OrderSubmitted` has none, so the simulator infers it from the trigger price against
the last price: above it fires on a rise, below it on a fall. A trigger at the last price gives
no direction and is refused (Bybit refuses a direction that does not match: 110092 / 110093).
"""

from __future__ import annotations

from tradeplay.domain.errors import InstrumentRuleError
from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.order import OrderStatus, shape_problems
from tradeplay.domain.values import (
    OrderType,
    Price,
    Quantity,
    Side,
    TimeInForce,
    format_decimal,
)
from tradeplay.sim.book import OrderBook, Stage, WorkingOrder

__all__ = ["marketable", "place", "refusal"]

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_BUY, _POST_ONLY, _MARKET, _NEW = Side.BUY, TimeInForce.POST_ONLY, Stage.MARKET, OrderStatus.NEW


def refusal(
    order: OrderSubmitted, instrument: Instrument, last: Price | None, position_size: Quantity
) -> str | None:
    """Why ``order`` is refused before the balance is looked at, or ``None``."""
    if order.symbol != instrument.symbol:
        return (
            f"{order.symbol} is not traded here: this simulated exchange trades {instrument.symbol}"
        )
    problems = shape_problems(order)  # the domain's rules: prices present, qty positive …
    if problems:
        return f"order {order.client_order_id} for {order.symbol}: " + "; ".join(problems)
    if last is None:
        return "no market price yet: the simulated exchange has not seen a bar"
    return (
        _instrument_rules(order, instrument, last)
        or _trigger_direction(order, last)
        or _post_only(order, last)
        or _reduce_only(order, position_size)
    )


def place(order: WorkingOrder, book: OrderBook, last: Price, tick: Price) -> None:
    """Put an accepted order in the book, waiting the way its type and time in force say:

    a stop order waits for its trigger (direction inferred from the last price); a market
    order meets the next open; a limit order that is marketable now, or IOC / FOK, meets the
    next open too (it may take liquidity there); any other limit — post-only included — rests
    in the book from now on, as a maker.
    """
    book.add(order)
    if order.trigger_price is not None:
        rising = order.trigger_price > last
        order.wait_for(Stage.WAITING, float(order.trigger_price / tick), rising)
        order.move(OrderStatus.UNTRIGGERED, order.created_at)
        return
    order.move(_NEW, order.created_at)
    if order.price is None:
        order.stage = _MARKET
        return
    immediate = order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
    post_only = order.time_in_force is TimeInForce.POST_ONLY
    taking = not post_only and marketable(order.side, order.price, last)
    stage = Stage.ARRIVING if immediate or taking else Stage.RESTING
    order.wait_for(stage, float(order.price / tick), not order.is_buy)


def marketable(side: Side, limit: Price, price: Price) -> bool:
    """Whether a limit order on ``side`` at ``limit`` would trade at ``price``."""
    return limit >= price if side is Side.BUY else limit <= price


def _instrument_rules(order: OrderSubmitted, instrument: Instrument, last: Price) -> str | None:
    """Tick, step, minimum / maximum quantity and minimum order value, with the rule named."""
    # The value of a market order is measured at the last price, a stop-market's at its trigger.
    reference = order.price or order.trigger_price or last
    try:
        if order.trigger_price is not None:
            instrument.validate_price(order.trigger_price)
        instrument.check_order(reference, order.qty, order.order_type)
    except InstrumentRuleError as refused:
        return str(refused)
    return None


def _trigger_direction(order: OrderSubmitted, last: Price) -> str | None:
    if order.trigger_price is None or order.trigger_price != last:
        return None
    return (
        f"trigger price {format_decimal(order.trigger_price)} equals the last price: the "
        "trigger direction cannot be inferred (Bybit 110092 / 110093); place it above the last "
        "price to trigger on a rise or below it to trigger on a fall"
    )


def _post_only(order: OrderSubmitted, last: Price) -> str | None:
    if order.time_in_force is not _POST_ONLY or order.price is None:
        return None
    if order.order_type is OrderType.STOP_LIMIT or not marketable(order.side, order.price, last):
        return None  # a stop-limit is checked when it triggers and becomes a limit order
    where = "at or above" if order.side is Side.BUY else "at or below"
    return (
        f"post-only {order.side} limit {format_decimal(order.price)} is {where} the last price "
        f"{format_decimal(last)} and would take liquidity (EC_PostOnlyWillTakeLiquidity)"
    )


def _reduce_only(order: OrderSubmitted, position_size: Quantity) -> str | None:
    if not order.reduce_only:
        return None
    if position_size == 0:
        return (
            f"reduce-only order cannot reduce: the {order.symbol} position is flat "
            "(110017 Reduce-only rule not satisfied)"
        )
    if (position_size > 0) == (order.side is _BUY):
        held = "long" if position_size > 0 else "short"
        return (
            f"reduce-only {order.side} cannot reduce a {held} position "
            "(110017 Reduce-only rule not satisfied)"
        )
    return None
