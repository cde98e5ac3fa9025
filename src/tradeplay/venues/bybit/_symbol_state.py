"""What the account view keeps of one symbol, and whether a closed bar may have changed it.

Split from :mod:`tradeplay.venues.bybit.account_view`: the market reasoning behind "a bar that
reached a level may have filled something whose messages are still on the way".
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Final

from tradeplay.domain.values import ZERO, ClientOrderId, OrderId, Price
from tradeplay.venues.bybit.reports import OrderReport, PositionReport

__all__ = ["BarRange", "SymbolState", "may_have_changed"]

# Bybit's funding settles on whole hours (intervals of 1, 2, 4 or 8 h, bybit_v5.md §10): when
# a symbol's interval is not known, every whole hour counts as a possible settlement.
_HOUR: Final = timedelta(hours=1)
# A liquidation level Bybit does not report ("" in liqPrice) is bounded conservatively: a
# position of leverage L is assumed at risk once the price moved half of 1/L against it
# (the real level is further: the whole initial margin less the maintenance margin).
_LIQUIDATION_SHARE: Final = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class BarRange:
    """A closed bar as far as the view cares: when it ran and how far the price went."""

    open_ms: int
    close_ms: int
    low: Price
    high: Price


@dataclass(slots=True)
class SymbolState:
    position: PositionReport | None = None
    fill_seq: int = -1
    """The highest ``seq`` of an execution of this symbol received."""
    touched: bool = False
    """The last closed bar may have changed the position: read it from REST."""
    filled_at: int = 0
    touched_at: int = 0
    """The view's generations of the last fill (or funding) and of the last bar that touched
    the symbol: a REST answer requested before either does not clear it."""
    levels: tuple[Price, ...] = ()
    """Protection levels we set and the ``position`` topic may not have reported yet."""
    funding_every: timedelta = _HOUR
    orders: dict[OrderId, OrderReport] = field(default_factory=dict)


def may_have_changed(state: SymbolState, bar: BarRange, ours: Container[ClientOrderId]) -> bool:
    """Whether anything of ``state`` could have filled, triggered or settled in ``bar``
    (``ours``: orders in flight, whose outcome the view waits for anyway)."""
    position = state.position
    levels = list(state.levels)
    for order in state.orders.values():
        if order.trigger_price is None and order.price is None:
            if order.client_order_id in ours:
                continue
            return True  # someone else's market order: it fills at any price
        levels += [p for p in (order.trigger_price, order.price) if p is not None]
    held = position is not None and position.size != 0
    if held and position is not None:
        if position.trailing_stop:
            return True
        levels += [p for p in (position.take_profit, position.stop_loss) if p]
        levels += [_liquidation_bound(position)]
        if _settles_funding(bar, state.funding_every):
            return True
    return any(bar.low <= level <= bar.high for level in levels)


def _liquidation_bound(position: PositionReport) -> Price:
    """Bybit's liquidation price, or a conservative level short of it when not given."""
    if position.liquidation_price:
        return position.liquidation_price
    entry = position.entry_price or ZERO
    leverage = position.leverage or Decimal(1)
    move = entry * _LIQUIDATION_SHARE / leverage
    return entry - move if position.size > 0 else entry + move


def _settles_funding(bar: BarRange, interval: timedelta) -> bool:
    """Whether a settlement time (a multiple of ``interval`` since the epoch) is in the bar."""
    every = int(interval.total_seconds() * 1000)
    next_settlement = -(-bar.open_ms // every) * every
    return next_settlement <= bar.close_ms
