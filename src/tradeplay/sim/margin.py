"""Margin, liquidation and bankruptcy of Bybit USDT-linear perpetuals, as pure functions.

Amounts are in the settle coin (USDT) and exact (``Decimal``). Prices solved here are
thresholds, not order prices: 28 significant digits, liquidation prices rounded towards the
breach (down for a long, up for a short) so that a mark equal to one always liquidates.

Margin of one position (Bybit "Initial Margin", "Order Cost", "Maintenance Margin" pages)
    * position value = size × price; tiers and maintenance margin use the value at the **mark**;
    * initial margin = value / leverage;
    * order cost = initial margin + fee to open + fee to close, both at the **taker** rate (Bybit
      reserves taker fees even for limit orders); fee to open = qty × order price × taker, fee to
      close = qty × bankruptcy price × taker, bankruptcy price = price × (1 ∓ 1 / leverage);
    * maintenance margin = value × MMR − deduction of the value's risk-limit tier.

Isolated margin
    The position owns a *position margin* M = entry value / leverage + margin added (the fee to
    close is reserved beside it, see :func:`position_initial_margin`). It is liquidated when the
    mark reaches the price where ``M + unrealized PnL = maintenance margin``. Bybit's UTA formulas
    add the estimated fee to close to both the initial and the maintenance margin, so it cancels
    out of that equation; we leave it out of both. Unlike Bybit's classic help-page formula
    (maintenance margin on the *entry* value) we take it on the value at the liquidation price,
    so the check and the price agree exactly: long, 50x, MMR 0.5 %, entry 20 000 gives 19 698.49
    here and 19 700 there. The bankruptcy price is where ``M + unrealized PnL = 0``.

Cross margin
    The whole wallet backs every cross position. The account is liquidated when
    ``wallet + Σ unrealized PnL ≤ Σ (maintenance margin + estimated fee to close at the mark)``
    (Bybit UTA: maintenance margin includes the fee to close). One position's liquidation and
    bankruptcy prices hold the rest of the account at its current marks (Bybit too calls its
    cross ``liqPrice`` an estimate); with several positions the largest requirement goes first.

Liquidation (what the trader loses)
    The position is taken over whole at its **bankruptcy price**, and the taker fee rate is
    charged on that takeover (``qty × bankruptcy price × taker``): the liquidation fee. What the
    market gave beyond that goes to (or comes from) the exchange's insurance fund, not the trader.
    The takeover price is on the tick grid, rounded in the trader's favour (up for a long, down
    for a short), as Bybit's bust price is a tick price; rounding never costs the trader.
    Isolated: the trader loses the position margin plus that fee, i.e. Bybit's position IM (a
    hair less after rounding); the rest of the wallet is untouched. Cross: equity after the
    takeover and its fee is zero, up to that rounding. The wallet can end below zero only when
    something outside this model drained it (funding paid out of an isolated position's wallet,
    a cross account under water at every price); the ledger then books an insurance-fund credit
    back to zero (:meth:`tradeplay.sim.ledger.Ledger.cover_shortfall`): a Bybit account never owes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from functools import reduce
from typing import Final

from tradeplay.domain.errors import InstrumentRuleError
from tradeplay.domain.instrument import Instrument, Rounding
from tradeplay.domain.position import Position
from tradeplay.domain.values import (
    ZERO,
    MarginMode,
    Money,
    Price,
    Quantity,
    Side,
    Symbol,
    format_decimal,
)

_CONTEXT: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
# Breach tests run at 60 digits, exact for any realistic position, so a price and its check
# agree to the last digit; liquidation prices are rounded towards the breach (down for a long,
# up for a short): a mark equal to the returned price always liquidates.
_EXACT: Final = Context(prec=60, rounding=ROUND_HALF_EVEN)
_TOWARDS_LONG_BREACH: Final = Context(prec=28, rounding=ROUND_FLOOR)
_TOWARDS_SHORT_BREACH: Final = Context(prec=28, rounding=ROUND_CEILING)


# ------------------------------------------------------------------------------ margin


def position_value(qty: Quantity, price: Price) -> Money:
    """Value of ``qty`` (signed or not) at ``price``: ``|qty| × price``."""
    return abs(qty) * price


def initial_margin(value: Money, leverage: Decimal) -> Money:
    """Initial margin of a position or order of this value: ``value / leverage``."""
    return _CONTEXT.divide(value, leverage)


def maintenance_margin(instrument: Instrument, value: Money) -> Money:
    """``value × MMR − deduction`` of the tier holding ``value`` (value at the mark)."""
    return instrument.maintenance_margin(value)


def cross_maintenance_margin(instrument: Instrument, position: Position, mark: Price) -> Money:
    """What a cross position needs at ``mark``: maintenance margin + the fee to close there."""
    return _requirement(instrument, position, mark, instrument.taker_fee_rate)


def _requirement(
    instrument: Instrument, position: Position, mark: Price, fee_rate: Decimal
) -> Money:
    """Maintenance margin at ``mark`` plus ``fee_rate`` × value, computed exactly."""
    value = _EXACT.multiply(position.qty, mark)
    tier = instrument.tier_for(value)
    kept = _EXACT.subtract(
        _EXACT.multiply(value, tier.maintenance_margin_rate), tier.maintenance_deduction
    )
    return _EXACT.add(max(ZERO, kept), _EXACT.multiply(value, fee_rate))


def _unrealized(position: Position, mark: Price) -> Money:
    """``size × mark − cost basis``, exactly."""
    return _EXACT.subtract(_EXACT.multiply(position.size, mark), position.cost_basis)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCost:
    """What opening an order reserves from the available balance (Bybit "Order Cost")."""

    initial_margin: Money
    fee_to_open: Money
    fee_to_close: Money
    """At the bankruptcy price of the new position: ``qty × price × (1 ∓ 1/leverage) × taker``."""

    @property
    def total(self) -> Money:
        return self.initial_margin + self.fee_to_open + self.fee_to_close


def order_cost(
    instrument: Instrument, side: Side, qty: Quantity, price: Price, leverage: Decimal
) -> OrderCost:
    """Bybit's order cost of opening ``qty`` at ``price`` (taker rate for both fees).

    Example: buy 1 BTC at 20 000 at 50x, taker 0.055 %: initial margin 400, fee to open 11,
    bankruptcy price 20 000 × (1 − 1/50) = 19 600, fee to close 10.78, total 421.78.
    """
    value = position_value(qty, price)
    bankruptcy = price - side.sign * _CONTEXT.divide(price, leverage)
    return OrderCost(
        initial_margin=initial_margin(value, leverage),
        fee_to_open=value * instrument.taker_fee_rate,
        fee_to_close=abs(qty) * bankruptcy * instrument.taker_fee_rate,
    )


def check_leverage(instrument: Instrument, leverage: Decimal, value: Money) -> None:
    """Refuse a leverage outside 1..max, off the step, or above the risk-limit tier of ``value``.

    ``value`` is the position value the leverage will apply to (after the order). Raises
    :class:`InstrumentRuleError` naming the limit, e.g. ``BTCUSDT: leverage 100x is above the
    maximum 50x for a position value of 5000000 USDT (risk-limit tier up to 10000000 USDT)``.
    """
    instrument.validate_leverage(leverage)
    limit = instrument.max_leverage_for(value)
    if leverage > limit:
        tier = instrument.tier_for(value)
        raise InstrumentRuleError(
            f"{instrument.symbol}: leverage {format_decimal(leverage)}x is above the maximum "
            f"{format_decimal(limit)}x for a position value of {format_decimal(value)} "
            f"{instrument.settle} (risk-limit tier up to {format_decimal(tier.up_to)} "
            f"{instrument.settle})"
        )


def isolated_position_margin(
    position: Position, leverage: Decimal, margin_added: Money = ZERO
) -> Money:
    """Position margin of an isolated position: ``entry value / leverage + margin added``.

    The entry value is the cost basis (size × average entry). Lowering the leverage or adding
    margin raises it and moves the liquidation and bankruptcy prices away from the entry.
    """
    return initial_margin(abs(position.cost_basis), leverage) + margin_added


def position_initial_margin(
    instrument: Instrument, position: Position, leverage: Decimal, margin_added: Money = ZERO
) -> Money:
    """Bybit ``positionIM``: position margin + the fee to close at the bankruptcy price.

    This is what an open position holds out of the available balance, and (isolated) exactly
    what the trader loses when it is liquidated.
    """
    margin = isolated_position_margin(position, leverage, margin_added)
    bankruptcy = isolated_bankruptcy_price(position, margin)
    if bankruptcy is None:
        return margin
    return margin + position.qty * bankruptcy * instrument.taker_fee_rate


# ------------------------------------------------------------------ liquidation prices


def isolated_liquidation_price(
    instrument: Instrument, position: Position, position_margin: Money
) -> Price | None:
    """Mark price where ``position margin + unrealized PnL = maintenance margin``.

    Long: ``(size × entry − M − deduction) / (size × (1 − MMR))``; short:
    ``(size × entry + M + deduction) / (size × (1 + MMR))``, with the MMR and deduction of the
    tier holding the value at that price. ``None`` when flat or when no positive price reaches
    it (a long at 1x cannot be liquidated).
    """
    return _margin_call_price(instrument, position, position_margin, ZERO)


def isolated_bankruptcy_price(position: Position, position_margin: Money) -> Price | None:
    """Mark price where the position margin is exhausted: ``entry ∓ M / size``.

    ``None`` when flat or when the margin covers the whole value of a long (no positive price).
    """
    return _zero_equity_price(position, position_margin, ZERO)


def cross_liquidation_price(
    instrument: Instrument,
    position: Position,
    *,
    wallet_balance: Money,
    others_unrealized_pnl: Money = ZERO,
    others_maintenance_margin: Money = ZERO,
) -> Price | None:
    """Mark price of ``position`` where the cross account reaches its maintenance margin.

    The other cross positions are held constant: their unrealized PnL and their
    :func:`cross_maintenance_margin` at the current marks. Solves
    ``wallet + U_others + U(p) = MM_others + MM(p) + fee to close(p)``.
    """
    buffer = _EXACT.subtract(
        _EXACT.add(wallet_balance, others_unrealized_pnl), others_maintenance_margin
    )
    return _margin_call_price(instrument, position, buffer, instrument.taker_fee_rate)


def cross_bankruptcy_price(
    instrument: Instrument,
    position: Position,
    *,
    wallet_balance: Money,
    others_unrealized_pnl: Money = ZERO,
) -> Price | None:
    """Mark price where closing ``position`` and paying the taker fee leaves zero equity."""
    buffer = _EXACT.add(wallet_balance, others_unrealized_pnl)
    return _zero_equity_price(position, buffer, instrument.taker_fee_rate)


def _margin_call_price(
    instrument: Instrument, position: Position, buffer: Money, fee_rate: Decimal
) -> Price | None:
    """Solve ``buffer + size·p − cost = |size|·p·(MMR + fee_rate) − deduction`` for ``p > 0``.

    ``size`` is signed and ``cost`` the signed cost basis, so one formula serves both sides:
    ``p = (cost − buffer − deduction) / (size − |size|·(MMR + fee_rate))``. Equity minus the
    requirement is monotone in ``p`` (rising for a long, falling for a short) and continuous at
    the tier boundaries, so exactly one tier's candidate lies inside its own tier.
    """
    if position.is_flat:
        return None
    if not instrument.margin_tiers:
        instrument.tier_for(ZERO)  # raises the instrument's "no margin tiers" error
    towards_breach = _TOWARDS_LONG_BREACH if position.size > 0 else _TOWARDS_SHORT_BREACH
    lower = ZERO
    for tier in instrument.margin_tiers:
        rate = _EXACT.add(tier.maintenance_margin_rate, fee_rate)
        denominator = _EXACT.subtract(position.size, _EXACT.multiply(position.qty, rate))
        numerator = _EXACT.subtract(
            _EXACT.subtract(position.cost_basis, buffer), tier.maintenance_deduction
        )
        price = towards_breach.divide(numerator, denominator)
        value = _EXACT.multiply(position.qty, price)
        if lower < value <= tier.up_to:
            return price
        lower = tier.up_to
    return None  # no positive root, or beyond the largest risk limit


def _zero_equity_price(position: Position, buffer: Money, fee_rate: Decimal) -> Price | None:
    """Solve ``buffer + size·p − cost − |size|·p·fee_rate = 0`` for ``p > 0``."""
    if position.is_flat:
        return None
    denominator = position.size - position.qty * fee_rate
    price = _CONTEXT.divide(position.cost_basis - buffer, denominator)
    return price if price > 0 else None


# ------------------------------------------------------------------ the per-bar check


@dataclass(frozen=True, slots=True, kw_only=True)
class Holding:
    """One position as the liquidation check sees it."""

    instrument: Instrument
    position: Position
    mark_price: Price
    """The mark to test: pessimistically the bar's worst (low for a long, high for a short)."""
    position_margin: Money = ZERO
    """Isolated only: :func:`isolated_position_margin`. Ignored in cross mode."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LiquidationTrigger:
    """A position that must be liquidated now, and the numbers to book it with."""

    symbol: Symbol
    mode: MarginMode
    size: Quantity
    """Signed size taken over (the whole position)."""
    mark_price: Price
    """The mark that breached the maintenance margin."""
    liquidation_price: Price | None
    """Where the breach began (``None`` when no positive price is safe: already breached)."""
    bankruptcy_price: Price
    """The takeover price: the bankruptcy price on the tick grid in the trader's favour (the
    mark if no positive bankruptcy price exists)."""
    liquidation_fee: Money
    """Taker fee rate × qty × bankruptcy price."""
    equity: Money
    """At ``mark_price``: position margin + unrealized PnL (isolated), account equity (cross)."""
    maintenance_margin: Money
    """What ``equity`` had to exceed (cross: all positions, fees to close included)."""

    @property
    def close_side(self) -> Side:
        """The side of the takeover fill: a long is sold, a short bought."""
        return Side.SELL if self.size > 0 else Side.BUY


def check_liquidation(
    holdings: Sequence[Holding], mode: MarginMode, wallet_balance: Money
) -> LiquidationTrigger | None:
    """The next position to liquidate at these marks, or ``None`` when all are safe.

    Breach is ``equity ≤ maintenance margin`` (reaching the liquidation price liquidates).
    Isolated: each holding alone, the first breach in the given order (``wallet_balance`` is
    not used). Cross: the whole account; the position with the largest requirement goes first.
    Call again after booking the takeover: in cross the rest may still be short of margin.
    """
    if mode is MarginMode.ISOLATED:
        for holding in holdings:
            trigger = _check_isolated(holding)
            if trigger is not None:
                return trigger
        return None
    return _check_cross([h for h in holdings if not h.position.is_flat], wallet_balance)


def _check_isolated(holding: Holding) -> LiquidationTrigger | None:
    instrument, position, mark = holding.instrument, holding.position, holding.mark_price
    if position.is_flat:
        return None
    equity = _EXACT.add(holding.position_margin, _unrealized(position, mark))
    required = _requirement(instrument, position, mark, ZERO)
    if equity > required:
        return None
    return _trigger(
        holding,
        MarginMode.ISOLATED,
        (equity, required),
        isolated_liquidation_price(instrument, position, holding.position_margin),
        isolated_bankruptcy_price(position, holding.position_margin),
    )


def _check_cross(holdings: Sequence[Holding], wallet_balance: Money) -> LiquidationTrigger | None:
    if not holdings:
        return None
    pnls = [_unrealized(h.position, h.mark_price) for h in holdings]
    needs = [cross_maintenance_margin(h.instrument, h.position, h.mark_price) for h in holdings]
    equity = _EXACT.add(wallet_balance, _sum(pnls))
    required = _sum(needs)
    if equity > required:
        return None
    victim = max(range(len(holdings)), key=lambda i: needs[i])
    holding = holdings[victim]
    others_pnl = _EXACT.subtract(_sum(pnls), pnls[victim])
    liquidation = cross_liquidation_price(
        holding.instrument,
        holding.position,
        wallet_balance=wallet_balance,
        others_unrealized_pnl=others_pnl,
        others_maintenance_margin=_EXACT.subtract(required, needs[victim]),
    )
    bankruptcy = cross_bankruptcy_price(
        holding.instrument,
        holding.position,
        wallet_balance=wallet_balance,
        others_unrealized_pnl=others_pnl,
    )
    return _trigger(holding, MarginMode.CROSS, (equity, required), liquidation, bankruptcy)


def _trigger(
    holding: Holding,
    mode: MarginMode,
    breach: tuple[Money, Money],
    liquidation: Price | None,
    bankruptcy: Price | None,
) -> LiquidationTrigger:
    """The trigger for ``holding``; ``breach`` is (equity, requirement) at its mark."""
    instrument, position = holding.instrument, holding.position
    takeover = _takeover_price(instrument, position, bankruptcy, holding.mark_price)
    return LiquidationTrigger(
        symbol=position.symbol,
        mode=mode,
        size=position.size,
        mark_price=holding.mark_price,
        liquidation_price=liquidation,
        bankruptcy_price=takeover,
        liquidation_fee=position.qty * takeover * instrument.taker_fee_rate,
        equity=breach[0],
        maintenance_margin=breach[1],
    )


def _takeover_price(
    instrument: Instrument, position: Position, bankruptcy: Price | None, mark: Price
) -> Price:
    """``bankruptcy`` on the tick grid in the trader's favour; ``mark`` when there is none."""
    if bankruptcy is None:
        return mark
    towards_trader = Rounding.UP if position.size > 0 else Rounding.DOWN
    return instrument.round_price(bankruptcy, towards_trader)


def _sum(amounts: Sequence[Money]) -> Money:
    return reduce(_EXACT.add, amounts, ZERO)
