"""Protection attached to an entry: where the stop-loss and take-profit go once it fills.

A trader writes "stop 2 % from entry" or "target at twice the risk"; the entry price is known only
when the order fills. So an entry carries its protection as *levels to resolve at the fill*:

* ``price`` — an absolute price decided beforehand (e.g. below the last swing low);
* ``distance`` — a price distance from the fill (e.g. 2 × ATR, measured at decision time);
* ``fraction`` — a fraction of the fill price (2 % → ``0.02``);
* ``risk_multiple`` — targets only: a multiple of the stop's distance from the fill.

The exchange places the resolved stop and target as soon as the entry fills (the simulated
exchange within the same bar, pessimistically from the fill on; a venue adapter right after the
fill is confirmed). Resolved prices are rounded to the instrument's tick, the stop *toward* the
entry and the target *toward* the entry too: never a wider loss, never a farther target than
asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from tradeplay.domain.errors import InputError
from tradeplay.domain.values import Price, Side


class LevelKind(StrEnum):
    PRICE = "price"
    DISTANCE = "distance"
    FRACTION = "fraction"
    RISK_MULTIPLE = "risk_multiple"


# Read per entry and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read goes through
# the enum metaclass's ``__getattr__`` hook, ten times a module global.
_PRICE, _DISTANCE = LevelKind.PRICE, LevelKind.DISTANCE
_FRACTION, _RISK_MULTIPLE = LevelKind.FRACTION, LevelKind.RISK_MULTIPLE
_BUY = Side.BUY
_DOWNWARDS, _UPWARDS = Decimal(-1), Decimal(1)


@dataclass(frozen=True, slots=True)
class Level:
    """One protective level, resolved against the fill price (see the module docstring)."""

    kind: LevelKind
    value: Decimal

    def __post_init__(self) -> None:
        if not self.value > 0:
            raise InputError(f"a {self.kind} protection level must be positive, got {self.value}")


@dataclass(frozen=True, slots=True)
class Protection:
    """Stop-loss and take-profit for an entry; either may be absent."""

    stop_loss: Level | None = None
    take_profit: Level | None = None

    def __post_init__(self) -> None:
        if self.stop_loss is not None and self.stop_loss.kind is LevelKind.RISK_MULTIPLE:
            raise InputError("a stop-loss cannot be a multiple of its own risk")
        target = self.take_profit
        if target is not None and target.kind is LevelKind.RISK_MULTIPLE and not self.stop_loss:
            raise InputError("a take-profit at a multiple of the risk needs a stop-loss")

    def resolve(self, side: Side, fill_price: Price) -> tuple[Price | None, Price | None]:
        """Unrounded (stop, target) prices for an entry of ``side`` filled at ``fill_price``.

        ``side`` is the entry's side: a buy opens a long, whose stop is below the fill.
        """
        away = _DOWNWARDS if side is _BUY else _UPWARDS  # direction of the stop
        stop = None if self.stop_loss is None else _price(self.stop_loss, fill_price, away)
        target = None
        if self.take_profit is not None:
            risk = None if stop is None else abs(fill_price - stop)
            target = _price(self.take_profit, fill_price, -away, risk)
        return stop, target


def _price(level: Level, fill: Price, direction: Decimal, risk: Decimal | None = None) -> Price:
    kind = level.kind  # compared with bound members: an ``Enum.MEMBER`` pattern is a slow lookup
    if kind is _PRICE:
        return level.value
    if kind is _DISTANCE:
        return fill + direction * level.value
    if kind is _FRACTION:
        return fill * (1 + direction * level.value)
    assert kind is _RISK_MULTIPLE  # the last kind there is
    assert risk is not None  # guaranteed by Protection.__post_init__
    return fill + direction * level.value * risk
