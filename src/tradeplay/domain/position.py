"""A one-way position in a linear perpetual, changed only by fills and funding.

Accounting is average cost, as Bybit does it:

* a fill in the direction of the position adds to it; the entry price becomes the
  quantity-weighted average of the old entry and the fill price;
* a fill against the position reduces it at the unchanged entry price and realizes
  ``(exit - entry) * qty`` for a long, ``(entry - exit) * qty`` for a short;
* a fill larger than the position closes it (realizing PnL on the closed part) and opens the
  remainder on the other side at the fill price.

Two figures describe the open part. ``entry_price`` is the average entry a trader sees: set to
``cost_basis / size`` (28 significant digits) when the position grows, left exactly as it is when
it shrinks. ``cost_basis`` is the ledger figure, the signed amount paid for the open part: a fill
that adds pays ``signed_qty * price`` into it, a fill that reduces releases ``qty * entry_price``
from it, rounded to ``1e-12`` of the settle coin when that product is longer (far below any
venue's precision; a full close releases the whole remaining cost basis). Realized PnL is the
closing proceeds minus exactly what the cost basis releases, and unrealized PnL is
``size * mark - cost_basis``, so ``realized_pnl + unrealized_pnl(mark)`` always equals the trading
cash flow ``sum(-signed_qty * price) + size * mark`` to the last digit.

Realized PnL here is gross; fees and funding are kept apart (``fees_paid``, ``funding_paid``)
and :attr:`Position.net_pnl` combines them. Bybit's ``cumRealisedPnl`` is the net figure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Final

from tradeplay.domain.errors import ConfigError, InputError, StateCorruptionError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import (
    ZERO,
    Money,
    PositionMode,
    PositionSide,
    Price,
    Quantity,
    Symbol,
    format_decimal,
    require_utc,
)

_COST_EXPONENT: Final = -12
_COST_QUANTUM: Final = Decimal(1).scaleb(_COST_EXPONENT)
# An explicit context, so a caller's global decimal settings cannot change our arithmetic.
_CONTEXT: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)


# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_LONG, _SHORT, _FLAT = PositionSide.LONG, PositionSide.SHORT, PositionSide.FLAT


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """The position in one symbol. ``size`` is signed: positive long, negative short."""

    symbol: Symbol
    mode: PositionMode = PositionMode.ONE_WAY
    size: Quantity = ZERO
    entry_price: Price | None = None
    """Average entry price; ``None`` when flat."""
    cost_basis: Money = ZERO
    """Signed amount paid for the open part (negative for a short)."""
    realized_pnl: Money = ZERO
    fees_paid: Money = ZERO
    funding_paid: Money = ZERO
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.mode is PositionMode.HEDGE:
            raise ConfigError(
                f"{self.symbol}: hedge-mode positions are not supported yet; run the account in "
                "one-way mode (Bybit positionIdx 0)"
            )
        size, cost, entry = self.size, self.cost_basis, self.entry_price
        if (size > ZERO) != (cost > ZERO) or (size < ZERO) != (cost < ZERO):
            raise StateCorruptionError(
                f"{self.symbol}: position size {format_decimal(size)} and cost basis "
                f"{format_decimal(cost)} must have the same sign"
            )
        if (size == ZERO) != (entry is None) or (entry is not None and not entry > ZERO):
            raise StateCorruptionError(
                f"{self.symbol}: a position of size {format_decimal(self.size)} cannot have "
                f"entry price {self.entry_price}"
            )
        if self.updated_at is not None and self.updated_at.tzinfo is not UTC:
            require_utc(self.updated_at, f"{self.symbol} position updated_at")

    # ---------------------------------------------------------------- views

    @property
    def side(self) -> PositionSide:
        if self.size > 0:
            return _LONG
        if self.size < 0:
            return _SHORT
        return _FLAT

    @property
    def qty(self) -> Quantity:
        """Unsigned size."""
        return abs(self.size)

    @property
    def is_flat(self) -> bool:
        return self.size == 0

    @property
    def net_pnl(self) -> Money:
        """Realized PnL after fees and funding."""
        return self.realized_pnl - self.fees_paid - self.funding_paid

    def unrealized_pnl(self, mark_price: Price) -> Money:
        """PnL if the position were closed at ``mark_price`` (fees not included)."""
        return self.size * mark_price - self.cost_basis

    def notional(self, mark_price: Price) -> Money:
        """Position value at ``mark_price``: unsigned, as used for margin tiers."""
        return self.qty * mark_price

    # ---------------------------------------------------------------- changes

    def apply_fill(self, fill: Fill) -> Position:
        """The position after ``fill``: open, add, reduce, close or flip."""
        if fill.symbol != self.symbol:
            raise InputError(
                f"fill {fill.trade_id} of {fill.symbol} cannot change the {self.symbol} position"
            )
        signed = fill.signed_qty
        if self.size == 0 or (self.size > 0) == (signed > 0):
            return self._added(fill, signed)
        return self._reduced(fill, signed)

    def apply_funding(self, event: FundingApplied) -> Position:
        """Add a funding settlement (positive payment = paid) to the running total."""
        if event.symbol != self.symbol:
            raise InputError(
                f"funding of {event.symbol} cannot be applied to the {self.symbol} position"
            )
        return replace(self, funding_paid=self.funding_paid + event.payment, updated_at=event.time)

    def _added(self, fill: Fill, signed: Quantity) -> Position:
        """Open or grow: the entry becomes the quantity-weighted average."""
        size = self.size + signed
        cost = self.cost_basis + signed * fill.price
        return self._after(fill, size, _CONTEXT.divide(cost, size), cost, self.realized_pnl)

    def _reduced(self, fill: Fill, signed: Quantity) -> Position:
        """Shrink, close, or close and open the other side with what is left of the fill
        (``signed``: its signed quantity)."""
        closing = min(fill.qty, self.qty) * (1 if signed > 0 else -1)
        released = self._released_by(abs(closing))
        # Cash view: the closing trade receives -closing * price; the cost basis it releases
        # was paid when the position was opened. The difference is the realized PnL.
        realized = -closing * fill.price - released
        size, cost, entry = self.size + closing, self.cost_basis - released, self.entry_price
        opening = signed - closing
        if opening != 0:  # flip: the rest opens the other side at the fill price
            size, cost, entry = opening, opening * fill.price, fill.price
        elif size == 0:
            entry = None
        return self._after(fill, size, entry, cost, self.realized_pnl + realized)

    def _after(
        self,
        fill: Fill,
        size: Quantity,
        entry_price: Price | None,
        cost_basis: Money,
        realized_pnl: Money,
    ) -> Position:
        """The position once ``fill`` is booked. Built directly: fills are the simulator's hot
        path, and ``dataclasses.replace`` costs twice as much."""
        return Position(
            symbol=self.symbol,
            mode=self.mode,
            size=size,
            entry_price=entry_price,
            cost_basis=cost_basis,
            realized_pnl=realized_pnl,
            fees_paid=self.fees_paid + fill.fee,
            funding_paid=self.funding_paid,
            updated_at=fill.time,
        )

    def _released_by(self, qty: Quantity) -> Money:
        """The signed cost basis that closing ``qty`` (at most the position's qty) releases."""
        if qty == self.qty or self.entry_price is None:
            return self.cost_basis
        share = _CONTEXT.multiply(self.entry_price, qty)
        exponent = share.as_tuple().exponent
        if isinstance(exponent, int) and exponent < _COST_EXPONENT:
            share = share.quantize(_COST_QUANTUM, context=_CONTEXT)
        return share if self.size > 0 else -share
