"""Trading fees of the simulated account: a maker and a taker rate, Bybit's VIP ladder as data.

A fill that rested in the book before it traded pays the maker rate; one that took liquidity
(a market order, a triggered stop, a take-profit / stop-loss, a limit that was marketable when
it arrived) pays the taker rate. The fee is ``qty × price × rate`` in the settle coin, exact,
positive when paid and negative for a rebate (a negative maker rate), like Bybit's ``execFee``.

**The VIP table is a snapshot, not live data**: Bybit's published base rates for perpetual and
futures contracts (help-center article "Trading Fee Structure", read 2026-11), which Bybit
changes from time to time and may vary by region. The account's real rates come from the
venue (``/v5/account/fee-rate``); use :meth:`FeeSchedule.custom` for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from tradeplay.domain.errors import ConfigError
from tradeplay.domain.values import Liquidity, Money, Price, Quantity

__all__ = ["BYBIT_FEE_TIERS", "FeeSchedule"]

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_MAKER = Liquidity.MAKER


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Maker and taker rates as fractions (``0.0002`` = 0.02 %), and where they come from."""

    maker: Decimal
    taker: Decimal
    name: str = "custom"

    def __post_init__(self) -> None:
        if not self.taker >= 0:
            raise ConfigError(f"fee schedule {self.name}: taker rate {self.taker} is negative")
        if not -self.taker <= self.maker < 1:
            raise ConfigError(
                f"fee schedule {self.name}: maker rate {self.maker} must be below 1 and no "
                f"bigger a rebate than the taker rate {self.taker}"
            )

    @classmethod
    def bybit(cls, tier: str = "VIP0") -> FeeSchedule:
        """Bybit's published rates for a VIP level: ``VIP0`` (non-VIP) … ``VIP5``, ``SUPREME``."""
        try:
            return BYBIT_FEE_TIERS[tier.upper()]
        except KeyError:
            known = ", ".join(BYBIT_FEE_TIERS)
            raise ConfigError(f"unknown Bybit fee tier {tier!r}; known tiers: {known}") from None

    @classmethod
    def custom(cls, maker: Decimal, taker: Decimal) -> FeeSchedule:
        """The account's own rates (e.g. from ``/v5/account/fee-rate``)."""
        return cls(maker, taker, "custom")

    def rate(self, liquidity: Liquidity) -> Decimal:
        return self.maker if liquidity is _MAKER else self.taker

    def fee(self, qty: Quantity, price: Price, liquidity: Liquidity) -> Money:
        """The fee of one fill: ``qty × price × rate`` (negative = rebate)."""
        return qty * price * self.rate(liquidity)


def _tier(name: str, maker: str, taker: str) -> tuple[str, FeeSchedule]:
    # Percentages as Bybit prints them, converted once to fractions.
    hundred = Decimal(100)
    return name, FeeSchedule(Decimal(maker) / hundred, Decimal(taker) / hundred, f"bybit {name}")


BYBIT_FEE_TIERS: Final[Mapping[str, FeeSchedule]] = MappingProxyType(
    dict(
        [
            _tier("VIP0", "0.0200", "0.0550"),
            _tier("VIP1", "0.0180", "0.0400"),
            _tier("VIP2", "0.0160", "0.0375"),
            _tier("VIP3", "0.0140", "0.0350"),
            _tier("VIP4", "0.0120", "0.0320"),
            _tier("VIP5", "0.0100", "0.0320"),
            _tier("SUPREME", "0.0000", "0.0300"),
        ]
    )
)
"""Bybit perpetual / futures base rates by VIP level (snapshot, see the module docstring)."""
