"""Slippage of taker fills: how far from the reference price a fill that takes liquidity trades.

A taker fill (market order, triggered stop, take-profit / stop-loss, marketable limit) walks the
order book, so it trades worse than the price that set it off: the bar's open for a market
order, the trigger price for a stop. The model gives that cost as a fraction of the price; the
fill price moves **against the trader** by it (up for a buy, down for a sell) and is then rounded
to the tick, again against the trader. Maker fills trade at their own limit price: no slippage.
A limit order never fills beyond its limit, whatever the model says (the matcher caps it).

Models
    * :class:`FixedBps` — a constant number of basis points per taker fill.
    * :class:`VolumeShare` — market impact growing with the share of the bar's volume taken:
      ``fraction = k × (qty / bar volume) ** exponent``, capped at ``max_bps``. With the default
      exponent ½ this is the square-root law of market impact; exponent 1 makes it linear. ``k``
      is the cost of trading the bar's whole volume: ``k = 0.001`` and an order of 1 % of the
      bar's volume cost ``0.001 × √0.01`` = 1 bp. A bar without volume costs ``max_bps``.

Volume is the bar's (or, with an exact 1-minute path, the minute's) traded quantity in the
base coin, as Bybit's kline ``volume`` is for linear contracts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Protocol

from tradeplay.domain.errors import ConfigError
from tradeplay.domain.instrument import Instrument, Rounding
from tradeplay.domain.values import Price, Quantity, Side

__all__ = ["FixedBps", "SlippageModel", "VolumeShare", "slipped_price"]

# Members read per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read goes through the
# enum metaclass's ``__getattr__`` hook, ten times a module global.
_BUY, _UP, _DOWN = Side.BUY, Rounding.UP, Rounding.DOWN
_BPS: Final = Decimal(10_000)
_ZERO: Final = Decimal(0)


class SlippageModel(Protocol):
    """The cost of one taker fill as a fraction of its reference price (≥ 0)."""

    def fraction(self, qty: Quantity, volume: float) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class FixedBps:
    """Every taker fill trades ``bps`` basis points worse than its reference price."""

    bps: Decimal = _ZERO

    def __post_init__(self) -> None:
        if not self.bps >= 0:
            raise ConfigError(f"slippage of {self.bps} bps is negative")

    def fraction(self, qty: Quantity, volume: float) -> Decimal:
        return self.bps / _BPS


@dataclass(frozen=True, slots=True)
class VolumeShare:
    """Impact ``k × (qty / volume) ** exponent``, at most ``max_bps`` (see the module docstring)."""

    k: Decimal
    exponent: float = 0.5
    max_bps: Decimal = Decimal(500)

    def __post_init__(self) -> None:
        if not self.k >= 0 or not 0 < self.exponent <= 2 or not self.max_bps >= 0:
            raise ConfigError(
                f"volume-share slippage needs k ≥ 0, 0 < exponent ≤ 2 and max_bps ≥ 0; got "
                f"k={self.k}, exponent={self.exponent}, max_bps={self.max_bps}"
            )

    def fraction(self, qty: Quantity, volume: float) -> Decimal:
        cap = self.max_bps / _BPS
        if not volume > 0:
            return cap  # nothing traded in the bar: assume the worst we allow
        # Float for the power (feature math); repr() gives the exact decimal of that float, so
        # the same inputs give the same fill price on every run.
        impact = float(self.k) * (float(qty) / volume) ** self.exponent
        return min(cap, Decimal(repr(impact)))


def slipped_price(instrument: Instrument, price: Price, side: Side, fraction: Decimal) -> Price:
    """``price`` moved against a ``side`` taker by ``fraction``, on the tick grid.

    Rounding is against the trader too (a buy rounds up, a sell down); a sell never goes below
    the instrument's minimum price.
    """
    if not fraction:
        return price
    if side is _BUY:
        return instrument.round_price(price * (1 + fraction), _UP)
    lowered = price * (1 - fraction)
    if lowered < instrument.min_price:
        return instrument.min_price
    return instrument.round_price(lowered, _DOWN)
