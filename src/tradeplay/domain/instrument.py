"""A linear perpetual contract and its trading rules: tick, step, minimums, leverage, margin tiers.

Only the instrument rounds prices to the tick and quantities to the step (STYLE habit 4). Every
rule check raises :class:`InstrumentRuleError` with a message that names the symbol, the value
and the rule, e.g. ``BTCUSDT: quantity 0.0004 is below the minimum order quantity 0.001``.

Margin tiers follow Bybit's risk-limit table: a tier applies to positions whose value (size *
price, in the settle coin) is at most its ``up_to``; the maintenance margin of a position in a
tier is ``value * maintenance_margin_rate - maintenance_deduction``. The deduction makes the
margin continuous at the tier boundaries instead of jumping there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from tradeplay.domain.errors import InstrumentDefinitionError, InstrumentRuleError
from tradeplay.domain.values import (
    ZERO,
    Money,
    OrderType,
    Price,
    Quantity,
    Symbol,
    format_decimal,
)

_ONE = Decimal(1)


class Rounding(StrEnum):
    """How to bring a value onto the tick / step grid."""

    DOWN = "down"
    """Towards zero: never more quantity than asked, a buy limit never higher."""
    UP = "up"
    """Away from zero."""
    NEAREST = "nearest"
    """To the closest grid value; an exact half goes up."""
    REFUSE = "refuse"
    """Raise :class:`InstrumentRuleError` unless the value is already on the grid."""


# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_REFUSE, _DOWN, _UP = Rounding.REFUSE, Rounding.DOWN, Rounding.UP


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginTier:
    """One row of a risk-limit table (Bybit ``/v5/market/risk-limit``)."""

    up_to: Money
    """Largest position value (settle coin) in this tier, inclusive; may be ``Infinity``."""
    max_leverage: Decimal
    maintenance_margin_rate: Decimal
    maintenance_deduction: Money = ZERO

    def __post_init__(self) -> None:
        if not self.up_to > 0:
            raise InstrumentDefinitionError(f"margin tier up to {self.up_to}: must be positive")
        if not self.max_leverage >= 1:
            raise InstrumentDefinitionError(
                f"margin tier up to {format_decimal(self.up_to)}: max leverage "
                f"{self.max_leverage} is below 1"
            )
        if not 0 < self.maintenance_margin_rate < 1:
            raise InstrumentDefinitionError(
                f"margin tier up to {format_decimal(self.up_to)}: maintenance margin rate "
                f"{self.maintenance_margin_rate} is not a fraction between 0 and 1"
            )
        if self.maintenance_deduction < 0:
            raise InstrumentDefinitionError(
                f"margin tier up to {format_decimal(self.up_to)}: maintenance deduction "
                f"{self.maintenance_deduction} is negative"
            )

    @property
    def initial_margin_rate(self) -> Decimal:
        return _ONE / self.max_leverage

    def maintenance_margin(self, position_value: Money) -> Money:
        """Maintenance margin of a position of this value (never below zero)."""
        return max(ZERO, position_value * self.maintenance_margin_rate - self.maintenance_deduction)


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A linear perpetual: settled in ``settle``, one contract = one unit of ``base``."""

    symbol: Symbol
    base: str
    quote: str
    settle: str
    tick_size: Price
    min_price: Price
    max_price: Price
    qty_step: Quantity
    min_qty: Quantity
    max_qty: Quantity
    """Largest quantity of one limit order (Bybit ``maxOrderQty``)."""
    max_market_qty: Quantity
    """Largest quantity of one market order (Bybit ``maxMktOrderQty``)."""
    min_notional: Money
    """Smallest order value qty * price in the settle coin (Bybit ``minNotionalValue``)."""
    max_leverage: Decimal
    leverage_step: Decimal
    funding_interval: timedelta
    margin_tiers: tuple[MarginTier, ...] = ()
    maker_fee_rate: Decimal = Decimal("0.0002")
    taker_fee_rate: Decimal = Decimal("0.00055")
    snapshot: str = ""
    """Where the numbers come from and when, for definitions that are not loaded live."""

    def __post_init__(self) -> None:
        _check_definition(self)

    # ---------------------------------------------------------------- rounding

    def round_price(self, price: Price, mode: Rounding = Rounding.NEAREST) -> Price:
        """``price`` on the tick grid; :attr:`Rounding.REFUSE` raises if it is not already."""
        if not price > 0:
            raise InstrumentRuleError(
                f"{self.symbol}: price {format_decimal(price)} must be positive"
            )
        return _to_grid(price, self.tick_size, mode, (self.symbol, "price", "the tick size"))

    def round_qty(self, qty: Quantity, mode: Rounding = Rounding.DOWN) -> Quantity:
        """``qty`` on the step grid; :attr:`Rounding.REFUSE` raises if it is not already."""
        if qty < 0:
            raise InstrumentRuleError(
                f"{self.symbol}: quantity {format_decimal(qty)} must not be negative"
            )
        return _to_grid(qty, self.qty_step, mode, (self.symbol, "quantity", "the quantity step"))

    # ---------------------------------------------------------------- rule checks

    def validate_price(self, price: Price) -> None:
        """Positive, on the tick grid and inside the venue's price band."""
        self.round_price(price, _REFUSE)
        if price < self.min_price:
            raise InstrumentRuleError(
                f"{self.symbol}: price {format_decimal(price)} is below the minimum price "
                f"{format_decimal(self.min_price)}"
            )
        if price > self.max_price:
            raise InstrumentRuleError(
                f"{self.symbol}: price {format_decimal(price)} is above the maximum price "
                f"{format_decimal(self.max_price)}"
            )

    def validate_qty(self, qty: Quantity, order_type: OrderType = OrderType.LIMIT) -> None:
        """At least the minimum, at most the maximum for ``order_type``, and on the step grid."""
        if qty < self.min_qty:
            raise InstrumentRuleError(
                f"{self.symbol}: quantity {format_decimal(qty)} is below the minimum order "
                f"quantity {format_decimal(self.min_qty)}"
            )
        if order_type.has_limit_price:
            limit, what = self.max_qty, "maximum order quantity"
        else:
            limit, what = self.max_market_qty, "maximum market order quantity"
        if qty > limit:
            raise InstrumentRuleError(
                f"{self.symbol}: quantity {format_decimal(qty)} is above the {what} "
                f"{format_decimal(limit)}"
            )
        self.round_qty(qty, _REFUSE)

    def validate_notional(self, qty: Quantity, price: Price) -> None:
        """The order value qty * price reaches the minimum order value."""
        value = qty * price
        if value < self.min_notional:
            raise InstrumentRuleError(
                f"{self.symbol}: order value {format_decimal(value)} {self.settle} "
                f"(qty {format_decimal(qty)} × price {format_decimal(price)}) is below the "
                f"minimum order value {format_decimal(self.min_notional)} {self.settle}"
            )

    def check_order(
        self, price: Price, qty: Quantity, order_type: OrderType = OrderType.LIMIT
    ) -> None:
        """Every rule an order must pass before it is sent.

        For limit and stop-limit orders ``price`` is the limit price and must be on the tick grid.
        For market and stop-market orders it is the reference price (last or mark) used for the
        minimum order value only.
        """
        if order_type.has_limit_price:
            self.validate_price(price)
        self.validate_qty(qty, order_type)
        self.validate_notional(qty, price)

    def validate_leverage(self, leverage: Decimal) -> None:
        """Between 1 and the instrument's maximum, in steps of ``leverage_step``."""
        if not _ONE <= leverage <= self.max_leverage:
            raise InstrumentRuleError(
                f"{self.symbol}: leverage {format_decimal(leverage)} is outside 1 to "
                f"{format_decimal(self.max_leverage)}"
            )
        if leverage % self.leverage_step != 0:
            raise InstrumentRuleError(
                f"{self.symbol}: leverage {format_decimal(leverage)} is not a multiple of the "
                f"leverage step {format_decimal(self.leverage_step)}"
            )

    # ---------------------------------------------------------------- margin tiers

    def tier_for(self, position_value: Money) -> MarginTier:
        """The risk-limit tier of a position of this value (settle coin, size * price)."""
        if position_value < 0:
            raise InstrumentRuleError(
                f"{self.symbol}: position value {format_decimal(position_value)} must not be "
                "negative"
            )
        if not self.margin_tiers:
            raise InstrumentRuleError(
                f"{self.symbol}: no margin tiers are known for this instrument; load its "
                "risk-limit table before computing margins"
            )
        for tier in self.margin_tiers:
            if position_value <= tier.up_to:
                return tier
        largest = format_decimal(self.margin_tiers[-1].up_to)
        raise InstrumentRuleError(
            f"{self.symbol}: position value {format_decimal(position_value)} {self.settle} is "
            f"above the largest risk limit {largest} {self.settle}"
        )

    def maintenance_margin_rate(self, position_value: Money) -> Decimal:
        return self.tier_for(position_value).maintenance_margin_rate

    def maintenance_margin(self, position_value: Money) -> Money:
        """Maintenance margin in the settle coin of a position of this value."""
        return self.tier_for(position_value).maintenance_margin(position_value)

    def max_leverage_for(self, position_value: Money) -> Decimal:
        """The highest leverage a position of this value may use."""
        return min(self.max_leverage, self.tier_for(position_value).max_leverage)


def _to_grid(
    value: Decimal, step: Decimal, mode: Rounding, words: tuple[Symbol, str, str]
) -> Decimal:
    """Round ``value`` (≥ 0) to a multiple of ``step``; the result carries the step's exponent.

    ``words``: the symbol, what the value is and the grid's name, for the refusal's message
    (written only when refused: every order and every sizing passes through here).
    """
    remainder = value % step
    down = value - remainder
    if remainder == 0:
        return down.quantize(step)
    up = down + step
    if mode is _REFUSE:
        symbol, what, rule = words
        raise InstrumentRuleError(
            f"{symbol}: {what} {format_decimal(value)} is not a multiple of {rule} "
            f"{format_decimal(step)} (nearest valid: {format_decimal(down)} or "
            f"{format_decimal(up)})"
        )
    if mode is _DOWN:
        chosen = down
    elif mode is _UP:
        chosen = up
    else:
        chosen = up if remainder * 2 >= step else down
    return chosen.quantize(step)


def _check_definition(instrument: Instrument) -> None:
    """Raise :class:`InstrumentDefinitionError` when the definition contradicts itself."""
    name = instrument.symbol or "<no symbol>"
    problems = _definition_problems(instrument)
    if problems:
        raise InstrumentDefinitionError(f"instrument {name}: " + "; ".join(problems))


def _definition_problems(inst: Instrument) -> list[str]:
    problems: list[str] = []
    if not inst.symbol or not inst.base or not inst.quote or not inst.settle:
        problems.append("symbol, base, quote and settle coin must all be given")
    positive = {
        "tick size": inst.tick_size,
        "minimum price": inst.min_price,
        "quantity step": inst.qty_step,
        "minimum quantity": inst.min_qty,
        "leverage step": inst.leverage_step,
    }
    problems += [
        f"{name} {value} must be positive" for name, value in positive.items() if value <= 0
    ]
    if inst.min_price > inst.max_price:
        problems.append(f"minimum price {inst.min_price} is above maximum price {inst.max_price}")
    for name, limit in (("maximum", inst.max_qty), ("maximum market", inst.max_market_qty)):
        if inst.min_qty > limit:
            problems.append(f"minimum quantity {inst.min_qty} is above {name} quantity {limit}")
    if inst.min_notional < 0:
        problems.append(f"minimum order value {inst.min_notional} is negative")
    if inst.max_leverage < 1:
        problems.append(f"maximum leverage {inst.max_leverage} is below 1")
    if inst.funding_interval <= timedelta(0):
        problems.append(f"funding interval {inst.funding_interval} must be positive")
    problems += _tier_problems(inst.margin_tiers)
    return problems


def _tier_problems(tiers: Sequence[MarginTier]) -> list[str]:
    problems: list[str] = []
    for lower, upper in pairwise(tiers):
        if upper.up_to <= lower.up_to:
            problems.append(
                f"margin tiers are not in increasing order of position value "
                f"({format_decimal(lower.up_to)} then {format_decimal(upper.up_to)})"
            )
        if upper.maintenance_margin_rate < lower.maintenance_margin_rate:
            problems.append(
                f"maintenance margin rate falls from {lower.maintenance_margin_rate} to "
                f"{upper.maintenance_margin_rate} at tier up to {format_decimal(upper.up_to)}"
            )
    return problems
