"""What can fire while the price moves, and in which order it fires.

A trigger is a level (in ticks) and the move that reaches it: a rise to it (a sell limit, a
buy stop, a long's take-profit, a short's stop-loss or liquidation price …) or a fall to it.
Along a monotone leg of the bar's path the levels are met in the order the price reaches them.
At one price the order is: the **liquidation** first (pessimistic: the margin ran out as the
price got there), then **stops** (stop orders, stop-loss, trailing stop), then **limits and
take-profits** — stop before target — and then time priority (the position's protection
before the trader's orders, older orders first).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from tradeplay.domain.values import Quantity
from tradeplay.sim.book import OrderBook, Origin, Stage, WorkingOrder
from tradeplay.sim.protection import PositionGuard

__all__ = ["Target", "Trigger", "collect", "first_at", "nearest"]

LIQUIDATION, STOP, LIMIT = 0, 1, 2
# Members read per bar walked, bound once: on Python 3.11 every ``Enum.MEMBER`` read goes
# through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_WAITING, _TAKE_PROFIT = Stage.WAITING, Origin.TAKE_PROFIT
_WATCHED = (Stage.WAITING, Stage.RESTING)

Target = WorkingOrder | Origin | None
"""The order, the protective leg, or ``None`` for the liquidation."""


class Trigger(NamedTuple):
    level: float
    rising: bool
    rank: int
    seq: int
    target: Target


def collect(
    book: OrderBook,
    protection: PositionGuard,
    size: Quantity,
    liquidation: tuple[float, bool] | None,
) -> list[Trigger]:
    """Every trigger of the book, the protection of a position of ``size`` and its
    liquidation level ``(ticks, rising)``."""
    triggers = [
        Trigger(o.level, o.rising, STOP if o.stage is _WAITING else LIMIT, o.seq, o)
        for o in book
        if o.stage in _WATCHED
    ]
    if size:
        for origin, level, rising in protection.legs(size):
            rank = LIMIT if origin is _TAKE_PROFIT else STOP
            triggers.append(Trigger(level, rising, rank, -1, origin))
        if liquidation is not None:
            triggers.append(Trigger(liquidation[0], liquidation[1], LIQUIDATION, -2, None))
    return triggers


def nearest(triggers: Iterable[Trigger], price: float, point: float) -> Trigger | None:
    """The first level a move from ``price`` to ``point`` reaches (``price`` itself excluded:
    what is satisfied there has had its turn)."""
    best, best_key = None, None
    for t in triggers:
        if t.rising and price < t.level <= point:
            key = (t.level, t.rank, t.seq)
        elif not t.rising and point <= t.level < price:
            key = (-t.level, t.rank, t.seq)
        else:
            continue
        if best_key is None or key < best_key:
            best, best_key = t, key
    return best


def first_at(
    triggers: Iterable[Trigger], price: float, origin: float, handled: set[Target]
) -> Trigger | None:
    """Of the triggers satisfied at ``price`` and not yet ``handled``, the one a move from
    ``origin`` meets first (at a gap: the one nearest the previous close)."""
    best, best_key = None, None
    for t in triggers:
        if t.target in handled or (price < t.level if t.rising else price > t.level):
            continue
        crossed = t.level - origin if t.rising else origin - t.level
        key = (crossed, t.rank, t.seq)
        if best_key is None or key < best_key:
            best, best_key = t, key
    return best
