"""Risk checks computed *before* an order is sent: pure functions of limits, state and exposure.

A veto is a value (:class:`Block`, :class:`Reduce`), never an exception. Orders that only take
risk off — reduce-only orders and the part of an order that closes the current position — always
pass, even when trading is halted, so a trader can always get out.

The limits, in the order they are checked for the part of an order that opens risk:

* **kill switch** — an operator's stop: no new risk at all;
* **halt** — set by :meth:`RiskState.update` when equity falls ``max_drawdown_percent`` from its
  peak; it stays until an operator calls :meth:`RiskState.resume`;
* **daily loss** — equity lost since the first update of the current UTC day, against that day's
  starting equity. The day starts at 00:00 UTC, not 24 hours back: a loss at 23:59:59 blocks
  entries, the update at 00:00:00 starts a new day and a new baseline;
* **leverage** — the leverage the order is placed with on the venue;
* **per-trade risk** — ``qty × |price − stop|`` as % of equity; larger orders are reduced, and an
  entry without a stop is blocked (its loss is not bounded);
* **exposure** — position value / equity, per symbol and for all symbols together (gross: longs
  and shorts in different symbols do not offset); larger orders are reduced to the headroom.

Equity includes unrealized PnL, so both drawdown and daily loss count open losses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Final, NamedTuple, TypeAlias

from tradeplay.domain.errors import ConfigError, InputError, InstrumentRuleError
from tradeplay.domain.instrument import Instrument, Rounding
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import (
    HUNDRED,
    ZERO,
    Money,
    Price,
    Quantity,
    Side,
    format_decimal,
    require_utc,
)
from tradeplay.engine.exposure import Exposure

_CONTEXT: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """An environment's risk limits; ``None`` switches a limit off.

    Percentages are in percent (``2`` = 2 %); exposures are position value / equity (``3`` = a
    position worth three times the equity).
    """

    max_trade_risk_percent: Decimal | None = None
    max_symbol_exposure: Decimal | None = None
    max_total_exposure: Decimal | None = None
    max_leverage: Decimal | None = None
    max_daily_loss_percent: Decimal | None = None
    max_drawdown_percent: Decimal | None = None
    kill_switch: bool = False

    def __post_init__(self) -> None:
        for name in (
            "max_trade_risk_percent",
            "max_symbol_exposure",
            "max_total_exposure",
            "max_leverage",
            "max_daily_loss_percent",
            "max_drawdown_percent",
        ):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"risk limit {name} {format_decimal(value)} must be positive")
        if self.max_leverage is not None and self.max_leverage < 1:
            raise ConfigError(f"risk limit max_leverage {self.max_leverage} is below 1")


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RiskState:
    """What the limits measure against: equity, its peak, the UTC day's start, the halt."""

    equity: Money
    equity_peak: Money
    day: date
    """The UTC date of ``day_start_equity``."""
    day_start_equity: Money
    as_of: datetime
    halted: bool = False
    halt_reason: str = ""

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is not UTC:  # the message is only written when it is needed
            require_utc(self.as_of, "risk state time")

    @classmethod
    def start(cls, equity: Money, time: datetime) -> RiskState:
        """A fresh state: the peak and the day's start are today's equity."""
        require_utc(time, "risk state time")
        return cls(
            equity=equity,
            equity_peak=equity,
            day=time.date(),
            day_start_equity=equity,
            as_of=time,
        )

    @property
    def drawdown_percent(self) -> Decimal:
        """How far equity is below its peak, % of the peak."""
        return _loss_percent(self.equity_peak, self.equity)

    @property
    def daily_loss_percent(self) -> Decimal:
        """Equity lost since the day started, % of the day's starting equity (0 when up)."""
        return _loss_percent(self.day_start_equity, self.equity)

    def update(self, equity: Money, time: datetime, limits: RiskLimits) -> RiskState:
        """The state after equity is ``equity`` at ``time``.

        A new UTC date starts a new day with ``equity`` as its baseline. A drawdown reaching the
        limit halts trading; the halt stays (whatever equity does next) until :meth:`resume`.
        """
        if time.tzinfo is not UTC:  # the engine updates the state on every bar it sees
            require_utc(time, "risk update time")
        if time < self.as_of:
            raise InputError(
                f"risk state is as of {self.as_of.isoformat()}; an update at {time.isoformat()} "
                "goes back in time"
            )
        today = time.date()
        # Built directly, not with dataclasses.replace (twice the cost): the engine updates the
        # state on every bar it sees.
        state = RiskState(
            equity=equity,
            equity_peak=max(self.equity_peak, equity),
            day=today,
            day_start_equity=self.day_start_equity if today == self.day else equity,
            as_of=time,
            halted=self.halted,
            halt_reason=self.halt_reason,
        )
        limit = limits.max_drawdown_percent
        if state.halted or limit is None or state.drawdown_percent < limit:
            return state
        reason = (
            f"trading halted: drawdown {cents(state.drawdown_percent)} % from the equity peak "
            f"{cents(state.equity_peak)} reached the {cents(limit)} % limit at "
            f"{time:%Y-%m-%d %H:%M:%S} UTC; only exits and reduce-only orders pass until the "
            "halt is reset"
        )
        return replace(state, halted=True, halt_reason=reason)

    def resume(self) -> RiskState:
        """An operator lifts the halt; the peak restarts at today's equity (else it re-halts)."""
        return replace(self, halted=False, halt_reason="", equity_peak=self.equity)


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class IntendedOrder:
    """An order about to be sent: what the risk check needs to know about it."""

    instrument: Instrument
    side: Side
    qty: Quantity
    price: Price
    """Expected fill price (the limit price, or the last / mark price for a market order)."""
    time: datetime
    stop_price: Price | None = None
    leverage: Decimal = Decimal(1)
    reduce_only: bool = False

    def __post_init__(self) -> None:
        if self.time.tzinfo is not UTC:  # the message is only written when it is needed
            require_utc(self.time, f"{self.instrument.symbol} order time")
        if not (self.qty > 0 and self.price > 0):
            raise InputError(
                f"{self.instrument.symbol}: an order needs a positive quantity and price, got "
                f"{format_decimal(self.qty)} at {format_decimal(self.price)}"
            )


@quick_init
@dataclass(frozen=True, slots=True)
class Allow:
    """Send the order as intended."""

    qty: Quantity


@dataclass(frozen=True, slots=True)
class Reduce:
    """Send a smaller order, on the step grid: ``reason`` says which limit and why."""

    qty: Quantity
    reason: str


@dataclass(frozen=True, slots=True)
class Block:
    """Send nothing."""

    reason: str


RiskVerdict: TypeAlias = Allow | Reduce | Block


def check_entry(
    order: IntendedOrder, exposure: Exposure, state: RiskState, limits: RiskLimits
) -> RiskVerdict:
    """The risk verdict on ``order`` given what is held and the limits (see the module doc).

    The part of the order that closes the current position always passes; only the part that
    opens or adds risk is checked.
    """
    held = exposure.size(order.instrument.symbol)
    closing = min(order.qty, abs(held)) if held * order.side.sign < 0 else ZERO
    if order.reduce_only or closing == order.qty:
        return Allow(order.qty)
    with localcontext(_CONTEXT):
        if state.as_of < order.time:  # a new UTC day may have begun since the last update
            state = state.update(state.equity, order.time, limits)
        veto = _veto(order, state, limits)
        if veto:
            return _closing_only(order, closing, f"blocked: {veto}")
        allowed, reasons = _largest_opening(order, closing, exposure, state, limits)
        if not reasons:
            return Allow(order.qty)
        return _reduced(order, closing, allowed, "; ".join(reasons))


def _veto(order: IntendedOrder, state: RiskState, limits: RiskLimits) -> str:
    """Why no new risk may be taken at all, or ``""``."""
    settle = order.instrument.settle
    if limits.kill_switch:
        return "the kill switch is on; only exits and reduce-only orders pass"
    if state.halted:
        return state.halt_reason
    if state.equity <= 0:
        return f"equity is {cents(state.equity)} {settle}: no new positions"
    daily = limits.max_daily_loss_percent
    if daily is not None and state.daily_loss_percent >= daily:
        return daily_loss_reason(state, daily)
    if limits.max_leverage is not None and order.leverage > limits.max_leverage:
        return (
            f"the order would use {cents(order.leverage)}× leverage; this environment allows at "
            f"most {cents(limits.max_leverage)}×"
        )
    return _stop_side_problem(order)


def _stop_side_problem(order: IntendedOrder) -> str:
    stop = order.stop_price
    if stop is None or (stop - order.price) * order.side.sign < 0:
        return ""
    where = "below" if order.side is Side.BUY else "above"
    return (
        f"stop {format_decimal(stop)} is not {where} the entry price "
        f"{format_decimal(order.price)} of a {order.side}"
    )


class _Cap(NamedTuple):
    """The most position value one limit lets the order open, and why it is that much (put into
    words only when the limit bites)."""

    notional: Money
    reason: Callable[[], str]


def _largest_opening(
    order: IntendedOrder,
    closing: Quantity,
    exposure: Exposure,
    state: RiskState,
    limits: RiskLimits,
) -> tuple[Quantity, list[str]]:
    """The most the limits let the order open, and the reasons of the limits that bite."""
    opening = order.qty - closing
    wanted, equity = opening * order.price, state.equity
    caps = [_trade_risk_cap(order, opening, equity, limits.max_trade_risk_percent)]
    if limits.max_symbol_exposure is not None or limits.max_total_exposure is not None:
        symbol = order.instrument.symbol
        # Once the closing part has filled, what is left in this symbol is on the order's side.
        same_side = ZERO if closing else exposure.notional(symbol)
        others = exposure.total_notional - exposure.notional(symbol)
        symbol_limit, total_limit = limits.max_symbol_exposure, limits.max_total_exposure
        caps += (
            _exposure_cap(f"{symbol} exposure", same_side, wanted, equity, symbol_limit),
            _exposure_cap("total exposure", same_side + others, wanted, equity, total_limit),
        )
    allowed, reasons = wanted, []
    for cap in caps:
        if cap is not None and cap.notional < wanted:  # every limit broken is named
            allowed = min(allowed, max(ZERO, cap.notional))
            reasons.append(cap.reason())
    return (opening if allowed == wanted else allowed / order.price), reasons


def _trade_risk_cap(
    order: IntendedOrder, opening: Quantity, equity: Money, limit: Decimal | None
) -> _Cap | None:
    """The stop's distance (checked on the right side already) times the size, against equity."""
    if limit is None:
        return None
    if order.stop_price is None:
        return _Cap(
            ZERO,
            lambda: (
                "no stop loss: the loss of this trade is not bounded and the per-trade limit is "
                f"{cents(limit)} % of equity"
            ),
        )
    distance = abs(order.price - order.stop_price)

    def reason() -> str:
        risk = opening * distance / equity * HUNDRED
        return f"risk to the stop {cents(risk)} % of equity is above the {cents(limit)} % limit"

    return _Cap(equity * limit / HUNDRED / distance * order.price, reason)


def _exposure_cap(
    what: str, held: Money, wanted: Money, equity: Money, limit: Decimal | None
) -> _Cap | None:
    """What keeps ``held`` plus the new position value within ``limit`` × equity."""
    if limit is None:
        return None

    def reason() -> str:
        after = (held + wanted) / equity
        return f"{what} would be {cents(after)}× equity, above the {cents(limit)}× limit"

    return _Cap(limit * equity - held, reason)


def _reduced(order: IntendedOrder, closing: Quantity, allowed: Quantity, why: str) -> RiskVerdict:
    """The order cut to ``closing + allowed`` on the step grid, or only its closing part."""
    instrument = order.instrument
    opening = instrument.round_qty(allowed, Rounding.DOWN)
    if opening == 0:
        return _closing_only(order, closing, f"blocked: {why}")
    qty = closing + opening
    problem = order_problem(instrument, qty, order.price)
    if problem:
        return _closing_only(
            order, closing, f"blocked: {why}; what is left is too small: {problem}"
        )
    reason = (
        f"reduced from {format_decimal(order.qty)} to {format_decimal(qty)} {instrument.base}: "
        f"{why}"
    )
    return Reduce(qty, reason)


def _closing_only(order: IntendedOrder, closing: Quantity, reason: str) -> RiskVerdict:
    """Nothing that opens risk passes; the closing part of the order still does."""
    if closing == 0:
        return Block(reason)
    base = order.instrument.base
    return Reduce(closing, f"{reason}; only the {format_decimal(closing)} {base} closing passes")


def daily_loss_reason(state: RiskState, limit: Decimal) -> str:
    """Why no new entry may be made today: the day's loss reached ``limit`` (percent)."""
    return (
        f"daily loss {cents(state.daily_loss_percent)} % reached the {cents(limit)} % limit "
        f"for {state.day.isoformat()} (UTC); new entries resume after 00:00 UTC"
    )


def order_problem(instrument: Instrument, qty: Quantity, price: Price) -> str:
    """The instrument rule an order of ``qty`` at ``price`` breaks, or ``""``."""
    try:
        instrument.validate_qty(qty)
        instrument.validate_notional(qty, price)
    except InstrumentRuleError as error:
        return str(error)
    return ""


def _loss_percent(base: Money, now: Money) -> Decimal:
    if base <= 0 or now >= base:
        return ZERO
    return (base - now) / base * HUNDRED


def cents(value: Decimal) -> str:
    """``value`` to two decimals, as messages show money and percentages."""
    return format_decimal(value.quantize(Decimal("0.01")))
