"""What a strategy says on a closed bar: enter or exit a side, with optional stop and target.

A signal is an intention, not an order: the execution manager sizes it, rounds it to the
instrument's grid and turns it into orders. The strategy never talks to an exchange.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tradeplay.domain.errors import InputError
from tradeplay.domain.values import (
    PositionSide,
    Price,
    Side,
    Symbol,
    format_decimal,
    require_utc,
)


class SignalAction(StrEnum):
    ENTER_LONG = "enter_long"
    ENTER_SHORT = "enter_short"
    EXIT_LONG = "exit_long"
    EXIT_SHORT = "exit_short"

    @property
    def is_entry(self) -> bool:
        return self in (SignalAction.ENTER_LONG, SignalAction.ENTER_SHORT)

    @property
    def position_side(self) -> PositionSide:
        """The side of the position this action opens or closes."""
        long = self in (SignalAction.ENTER_LONG, SignalAction.EXIT_LONG)
        return PositionSide.LONG if long else PositionSide.SHORT

    @property
    def order_side(self) -> Side:
        """The side of the order that carries it out: enter long and exit short buy."""
        buys = self in (SignalAction.ENTER_LONG, SignalAction.EXIT_SHORT)
        return Side.BUY if buys else Side.SELL


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    """A strategy's decision for ``symbol`` at ``time`` (the close of the bar that produced it).

    ``strength`` is the strategy's own score between 0 and 1 (a float: it is feature math, not
    money). ``stop_price`` and ``target_price`` are optional and only make sense for entries:
    for a long the stop is below the target, for a short above it.
    """

    symbol: Symbol
    time: datetime
    action: SignalAction
    reason: str = ""
    tag: str = ""
    stop_price: Price | None = None
    target_price: Price | None = None
    strength: float = 1.0

    def __post_init__(self) -> None:
        require_utc(self.time, f"{self.symbol} signal time")
        problem = self._problem()
        if problem:
            raise InputError(f"{self.symbol} {self.action} signal at {self.time}: {problem}")

    def _problem(self) -> str:
        if not (math.isfinite(self.strength) and 0 <= self.strength <= 1):
            return f"strength {self.strength} is not between 0 and 1"
        prices = (("stop", self.stop_price), ("target", self.target_price))
        if not self.action.is_entry and any(price is not None for _, price in prices):
            return "stop and target prices belong to entries, not exits"
        for name, price in prices:
            if price is not None and not price > 0:
                return f"{name} price {format_decimal(price)} must be positive"
        if self.stop_price is None or self.target_price is None:
            return ""
        below = self.stop_price < self.target_price
        if below != (self.action is SignalAction.ENTER_LONG):
            where = "below" if self.action is SignalAction.ENTER_LONG else "above"
            return (
                f"stop {format_decimal(self.stop_price)} must be {where} target "
                f"{format_decimal(self.target_price)}"
            )
        return ""
