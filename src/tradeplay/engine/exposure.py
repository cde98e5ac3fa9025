"""What an environment holds, as the risk checks read it: signed size and notional per symbol.

Notional is ``|size| × mark price`` in the settle coin. Exposure counts open positions only;
resting entry orders are not exposure until they fill (the risk check looks at each one when it
is about to be sent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from tradeplay.domain.errors import InputError
from tradeplay.domain.position import Position
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import ZERO, Money, Price, Quantity, Symbol, format_decimal


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolExposure:
    """One symbol's position: ``size`` is signed (positive long, negative short)."""

    symbol: Symbol
    size: Quantity
    mark_price: Price

    def __post_init__(self) -> None:
        if not self.mark_price > 0:
            raise InputError(
                f"{self.symbol}: mark price {format_decimal(self.mark_price)} must be positive"
            )

    @property
    def notional(self) -> Money:
        return abs(self.size) * self.mark_price


@quick_init
@dataclass(frozen=True, slots=True)
class Exposure:
    """The open positions of one environment (flat symbols may be left out)."""

    positions: tuple[SymbolExposure, ...] = ()

    def __post_init__(self) -> None:
        if len(self.positions) < 2:
            return  # one position cannot repeat a symbol
        symbols = [item.symbol for item in self.positions]
        repeated = sorted({symbol for symbol in symbols if symbols.count(symbol) > 1})
        if repeated:
            raise InputError(f"exposure lists {', '.join(repeated)} more than once")

    @classmethod
    def of(cls, positions: Iterable[Position], marks: Mapping[Symbol, Price]) -> Exposure:
        """The exposure of domain positions valued at ``marks`` (every open symbol needs one)."""
        items: list[SymbolExposure] = []
        for position in positions:
            if position.is_flat:
                continue
            if position.symbol not in marks:
                raise InputError(f"{position.symbol}: no mark price to value the position at")
            items.append(
                SymbolExposure(
                    symbol=position.symbol, size=position.size, mark_price=marks[position.symbol]
                )
            )
        if not items and cls is Exposure:
            return _NOTHING_HELD  # a value: one is as good as another (an entry from flat)
        return cls(tuple(items))

    def get(self, symbol: Symbol) -> SymbolExposure | None:
        for item in self.positions:
            if item.symbol == symbol:
                return item
        return None

    def size(self, symbol: Symbol) -> Quantity:
        """Signed size held in ``symbol``; zero when flat."""
        item = self.get(symbol)
        return ZERO if item is None else item.size

    def notional(self, symbol: Symbol) -> Money:
        item = self.get(symbol)
        return ZERO if item is None else item.notional

    @property
    def total_notional(self) -> Money:
        """Gross notional: longs and shorts both count (they do not hedge different symbols)."""
        return sum((item.notional for item in self.positions), ZERO)

    def leverage(self, equity: Money) -> Decimal:
        """Effective leverage: gross notional / equity (infinite when equity is not positive)."""
        if equity <= 0:
            return Decimal("Infinity") if self.total_notional else ZERO
        return self.total_notional / equity


_NOTHING_HELD: Final = Exposure()
