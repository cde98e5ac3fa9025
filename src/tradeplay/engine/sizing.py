"""Order quantity from the play's sizing rule: pure, exact, rounded down to the instrument's step.

Every method first says what it *wants* (a notional or a quantity, with the reason in words),
then the same caps apply to all of them, in this order:

1. **leverage** — the position value never exceeds ``equity × leverage``, where the leverage is
   the smallest of the account's leverage, the instrument's maximum and the maximum of the margin
   tier the position value falls in (:func:`max_notional`);
2. **order size** — not above the instrument's largest order for the order type (the explanation
   says so when it bites);
3. **step** — rounded *down* to the quantity step, so the order never risks more than asked;
4. **minimums** — a quantity below the minimum order quantity or an order value below the minimum
   order value is a :class:`SizeRefused` carrying the instrument's own message and the sizing
   arithmetic that led there. It is never rounded up: that would risk more than the rule allows.

Conventions, as a trader reads the play file:

``fixed_notional``
    ``amount`` USDT of position value per entry.
``percent_equity``
    ``percent`` of equity as **position value** (notional), not as margin: 10 % of 1000 USDT is a
    100 USDT position whatever the leverage. Above 100 % the position uses leverage (the play
    compiler refuses more than ``100 × account.leverage``).
``risk_percent``
    ``qty = equity × percent / |price − stop|``: the price distance to the stop loses ``percent``
    of equity. Fees and slippage at the stop are not included.
``volatility_target``
    ``notional = equity × annual_vol / realised annual volatility``, the realised volatility being
    the sample standard deviation of the last ``lookback`` bar returns × √(bars a year); crypto
    trades around the clock, so a year is 365 days of bars. Too few returns, a non-finite return
    or zero volatility refuse (they would size blind or without bound).
``kelly``
    The full Kelly fraction ``f = W − (1 − W) / R`` (W: win rate, R: average win / average loss)
    of the last ``lookback`` closed trades (returns on their entry notional), times ``fraction``,
    as **notional % of equity**, capped at ``cap`` %. Reading the notional as the stake is the
    conservative reading: a trade that loses does not lose its whole notional. Until ``lookback``
    trades exist the notional is ``initial_percent`` of equity (the play's stated minimum). No
    edge (``f ≤ 0``, or no winning trade) refuses: Kelly says do not bet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Final, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from tradeplay.domain.errors import InputError, InstrumentRuleError
from tradeplay.domain.instrument import Instrument, Rounding
from tradeplay.domain.slots import quick_init
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import (
    HUNDRED,
    ZERO,
    Money,
    OrderType,
    Price,
    Quantity,
    format_decimal,
    to_decimal,
)
from tradeplay.engine._words import Words, amount, said, then, truncated
from tradeplay.play.risk import FixedNotional, Kelly, PercentEquity, RiskPercent, VolatilityTarget

SizingRule: TypeAlias = FixedNotional | PercentEquity | RiskPercent | VolatilityTarget | Kelly
YEAR: Final = timedelta(days=365)
# An explicit context, so a caller's global decimal settings cannot change the arithmetic.
_CONTEXT: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
# Read per entry, bound once: on Python 3.11 every ``Enum.MEMBER`` read goes through the enum
# metaclass's ``__getattr__`` hook, ten times a module global.
_DOWN = Rounding.DOWN


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Sized:
    """An order quantity on the step grid, its value at ``price``, and how it was reached."""

    qty: Quantity
    notional: Money
    words: Words
    """:attr:`explanation` not yet written: the rule, the caps that bit, the step."""

    @property
    def explanation(self) -> str:
        """The sizing arithmetic in words, written when read."""
        with localcontext(_CONTEXT):  # the same digits whoever reads it, whenever
            return said(self.words)


@dataclass(frozen=True, slots=True)
class SizeRefused:
    """No order: the reason, for the journal and the trader."""

    reason: str


SizeDecision: TypeAlias = Sized | SizeRefused


@dataclass(frozen=True, slots=True)
class KellyEstimate:
    """Win rate, payoff and full Kelly fraction of a run of closed trades."""

    trades: int
    win_rate: float
    payoff: float
    """Average win / average loss; infinite when no trade lost."""
    kelly: float


class _Inputs(NamedTuple):
    equity: Money
    price: Price
    stop_price: Price | None
    recent_returns: npt.ArrayLike | None
    trade_returns: npt.ArrayLike | None
    timeframe: Timeframe | None
    base: str


class _Wanted(NamedTuple):
    """What a rule asks for before the caps, and the arithmetic in words."""

    qty: Quantity
    why: Words


def size_entry(
    sizing: SizingRule,
    *,
    equity: Money,
    price: Price,
    stop_price: Price | None,
    instrument: Instrument,
    leverage: Decimal,
    recent_returns: npt.ArrayLike | None = None,
    trade_returns: npt.ArrayLike | None = None,
    timeframe: Timeframe | None = None,
    order_type: OrderType = OrderType.MARKET,
) -> SizeDecision:
    """The quantity of an entry at ``price`` under the play's ``sizing`` rule.

    ``recent_returns``: simple returns of the trading-timeframe closes, oldest first (volatility
    target; ``timeframe`` annualises them). ``trade_returns``: net returns of the play's closed
    trades on their entry notional, oldest first (Kelly). Bad arguments (price not positive,
    leverage below 1) raise :class:`InputError`; market conditions refuse with a reason.
    """
    if not price > 0:
        raise InputError(f"{instrument.symbol}: sizing price {format_decimal(price)} must be > 0")
    if not leverage >= 1:
        raise InputError(f"{instrument.symbol}: leverage {format_decimal(leverage)} is below 1")
    if equity <= 0:
        return SizeRefused(f"equity is {amount(equity)} {instrument.settle}: nothing to size")
    inputs = _Inputs(
        equity, price, stop_price, recent_returns, trade_returns, timeframe, instrument.base
    )
    with localcontext(_CONTEXT):
        wanted = _wanted(sizing, inputs, instrument.settle)
        if isinstance(wanted, SizeRefused):
            return wanted
        return _capped(wanted, inputs, instrument, leverage, order_type)


def max_notional(equity: Money, leverage: Decimal, instrument: Instrument) -> Money:
    """The largest position value ``equity`` may carry at ``leverage`` on ``instrument``.

    The margin tier of a position depends on its value and larger tiers allow less leverage, so
    each tier offers ``min(its upper bound, equity × min(leverage, its max leverage))`` when that
    lies inside the tier; the answer is the best offer.
    """
    if equity <= 0:
        return ZERO
    usable = min(leverage, instrument.max_leverage)
    tiers = instrument.margin_tiers
    if not tiers:
        return equity * usable
    # The bounds increase, so every lower tier offers at most the top tier's floor: a large
    # account that the top tier accepts needs no other look.
    top_floor = tiers[-2].up_to if len(tiers) > 1 else ZERO
    top_offer = min(tiers[-1].up_to, equity * min(usable, tiers[-1].max_leverage))
    if top_offer > top_floor:
        return top_offer
    most = equity * usable
    best, floor = ZERO, ZERO
    for tier in tiers:
        offer = min(tier.up_to, equity * min(usable, tier.max_leverage))
        if offer > floor:
            best = max(best, offer)
        if tier.up_to >= most:
            break  # each later tier offers at most equity × leverage: not above its floor
        floor = tier.up_to
    return best


def kelly_estimate(trade_returns: npt.ArrayLike, lookback: int) -> KellyEstimate | None:
    """Kelly statistics of the last ``lookback`` trades; ``None`` with fewer, or no win.

    Break-even trades count as trades but neither as wins nor losses.
    """
    returns = np.asarray(trade_returns, dtype=np.float64)[-lookback:]
    wins, losses = returns[returns > 0], returns[returns < 0]
    if len(returns) < lookback or len(wins) == 0:
        return None
    win_rate = len(wins) / len(returns)
    if len(losses) == 0:
        return KellyEstimate(len(returns), win_rate, math.inf, win_rate)
    payoff = float(np.mean(wins)) / float(-np.mean(losses))
    return KellyEstimate(len(returns), win_rate, payoff, win_rate - (1 - win_rate) / payoff)


# ------------------------------------------------------------------------------- the rules


def _wanted(sizing: SizingRule, inputs: _Inputs, settle: str) -> _Wanted | SizeRefused:
    if isinstance(sizing, FixedNotional):
        why = ("fixed {:amount} {} notional", (sizing.amount, settle))
        return _from_notional(sizing.amount, inputs, why)
    if isinstance(sizing, PercentEquity):
        return _from_percent(to_decimal(sizing.percent), inputs, settle, _FROM_THE_PLAY)
    if isinstance(sizing, RiskPercent):
        return _risk_percent(sizing, inputs, settle)
    if isinstance(sizing, VolatilityTarget):
        return _volatility_target(sizing, inputs, settle)
    return _kelly(sizing, inputs, settle)


def _from_notional(notional: Money, inputs: _Inputs, why: Words) -> _Wanted:
    qty = notional / inputs.price
    template, values = why
    return _Wanted(
        qty,
        (template + " at {:amount} gives {:approx} {}", (*values, inputs.price, qty, inputs.base)),
    )


_FROM_THE_PLAY: Final[Words] = ("", ())


def _from_percent(percent: Decimal, inputs: _Inputs, settle: str, source: Words) -> _Wanted:
    """``source`` says where the percentage comes from (nothing: straight from the play)."""
    notional = inputs.equity * percent / HUNDRED
    template, values = source
    why = (
        template + "{:amount} % of {:amount} {} equity = {:amount} {} notional",
        (*values, percent, inputs.equity, settle, notional, settle),
    )
    return _from_notional(notional, inputs, why)


def _risk_percent(sizing: RiskPercent, inputs: _Inputs, settle: str) -> _Wanted | SizeRefused:
    stop, price = inputs.stop_price, inputs.price
    if stop is None:
        return SizeRefused("risk_percent sizes against the stop, and no stop price is known")
    distance = abs(price - stop)
    if distance == 0:
        return SizeRefused(
            f"stop {amount(stop)} equals the entry price: the risk per {inputs.base} is zero"
        )
    percent = to_decimal(sizing.percent)
    qty = inputs.equity * percent / HUNDRED / distance
    why = (
        "risk {:amount} % of {:amount} {} equity with a {:amount} % stop ({:amount} from "
        "{:amount}) gives {:approx} {}",
        (percent, inputs.equity, settle, distance / price * HUNDRED, stop, price, qty, inputs.base),
    )
    return _Wanted(qty, why)


def _volatility_target(
    sizing: VolatilityTarget, inputs: _Inputs, settle: str
) -> _Wanted | SizeRefused:
    if inputs.timeframe is None:
        raise InputError("volatility_target sizing needs the trading timeframe to annualise")
    wanted = sizing.lookback
    returns = np.asarray(
        [] if inputs.recent_returns is None else inputs.recent_returns, dtype=np.float64
    )[-wanted:]
    if len(returns) < wanted:
        return SizeRefused(
            f"volatility target needs {wanted} bar returns, {len(returns)} are known yet"
        )
    if not np.isfinite(returns).all():
        return SizeRefused(f"the last {wanted} bar returns hold a missing or infinite value")
    # Equal returns have no volatility; checked exactly, as np.std leaves float dust (1e-18).
    if np.ptp(returns) == 0:
        return SizeRefused(f"prices did not move over the last {wanted} bars: volatility is zero")
    bars_a_year = YEAR / timedelta(milliseconds=inputs.timeframe.ms)
    realised = float(np.std(returns, ddof=1)) * math.sqrt(bars_a_year) * 100
    percent = to_decimal(sizing.annual_vol) / to_decimal(realised) * HUNDRED
    source = (
        "target {:g} % a year over realised {:.4g} % a year ({} bars): ",
        (sizing.annual_vol, realised, wanted),
    )
    return _from_percent(percent, inputs, settle, source)


def _kelly(sizing: Kelly, inputs: _Inputs, settle: str) -> _Wanted | SizeRefused:
    history = np.asarray(
        [] if inputs.trade_returns is None else inputs.trade_returns, dtype=np.float64
    )
    if not np.isfinite(history).all():
        raise InputError("Kelly sizing: the trade history holds a missing or infinite return")
    if len(history) < sizing.lookback:
        known = (sizing.lookback, len(history))
        source: Words = ("until {} closed trades exist ({} so far): ", known)
        return _from_percent(to_decimal(sizing.initial_percent), inputs, settle, source)
    estimate = kelly_estimate(history, sizing.lookback)
    if estimate is None or estimate.kelly <= 0:
        odds = "no winning trade" if estimate is None else _odds(estimate)
        kelly = "" if estimate is None else f", Kelly {estimate.kelly:.3g}"
        return SizeRefused(f"no edge over the last {sizing.lookback} trades: {odds}{kelly}")
    cap = to_decimal(sizing.cap)
    percent = min(to_decimal(sizing.fraction * estimate.kelly * 100), cap)

    capped = f", capped at {amount(cap)} %" if percent == cap else ""
    source = (
        "{:g} × Kelly {:.4g} ({} over {} trades){}: ",
        (sizing.fraction, estimate.kelly, _odds(estimate), estimate.trades, capped),
    )
    return _from_percent(percent, inputs, settle, source)


def _odds(estimate: KellyEstimate) -> str:
    payoff = "no losing trade" if math.isinf(estimate.payoff) else f"payoff {estimate.payoff:.3g}"
    return f"win rate {estimate.win_rate * 100:.3g} %, {payoff}"


# --------------------------------------------------------------------------------- the caps


def _capped(
    wanted: _Wanted,
    inputs: _Inputs,
    instrument: Instrument,
    leverage: Decimal,
    order_type: OrderType,
) -> SizeDecision:
    price, settle = inputs.price, instrument.settle
    qty, words = wanted
    ceiling = max_notional(inputs.equity, leverage, instrument)
    if qty * price > ceiling:
        qty = ceiling / price
        allowed = ceiling / inputs.equity
        words = then(
            words, "capped at {:amount}× leverage: {:amount} {} notional", allowed, ceiling, settle
        )
    largest = instrument.max_qty if order_type.has_limit_price else instrument.max_market_qty
    if qty > largest:
        qty = largest
        words = then(words, "capped at the largest {} order {:amount}", str(order_type), largest)
    rounded = instrument.round_qty(qty, _DOWN)
    # Below the minimum, the message quotes the quantity the rule asked for (0.00025), not the
    # 0 it rounds down to: that is the figure the trader can check against the play.
    checked = rounded if rounded >= instrument.min_qty else truncated(qty)
    try:
        instrument.validate_qty(checked, order_type)
        instrument.validate_notional(rounded, price)
    except InstrumentRuleError as error:
        return SizeRefused(f"{error} — {said(words)}")
    notional = rounded * price
    step = "{:amount} {} on the step {:amount} ({:amount} {} notional)"
    words = then(words, step, rounded, instrument.base, instrument.qty_step, notional, settle)
    return Sized(qty=rounded, notional=notional, words=words)
