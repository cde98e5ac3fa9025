"""The limits of a group of pairs — an environment, or all of them — and how each is measured.

:class:`~tradeplay.runtime.safety.RiskBook` keeps a :class:`Group` per environment and one of
all, and checks the part of an order that opens risk against each, in this order (the first
block wins, reductions take the smallest):

====================  ===================================================  ==========
limit                 measures                                             does
====================  ===================================================  ==========
kill_switch           the group's switch                                   block
emergency             the group is frozen (drawdown breach, panic)          block
daily_loss            equity lost since 00:00 UTC, % of the day's start      block
max_leverage          the leverage the play trades with                    block
max_open_orders       orders open in the group                             block
capital_share         the pair's position value / (its share × leverage)   reduce
max_position_notional the symbol's position value in the group             reduce
max_total_exposure    all position values in the group / its equity        reduce
====================  ===================================================  ==========

The blocks are :func:`veto`; the reductions are measured by the book, which knows every pair's
:class:`Holding`. Global limits have the rule's name prefixed with ``global_``. Equity readings
go through :func:`observe`: a drawdown reaching its limit freezes the group at once, a daily
loss reaching its limit is reported once a day. Nothing here locks: the book calls it under
its lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from tradeplay.domain.instrument import Instrument
from tradeplay.domain.values import ZERO, Symbol, format_decimal
from tradeplay.engine.risk import RiskLimits, RiskState, daily_loss_reason, order_problem
from tradeplay.runtime.deployment import GlobalRiskSpec
from tradeplay.runtime.pairs import PairKey

__all__ = [
    "ALL",
    "Breach",
    "Group",
    "GroupLimits",
    "Holding",
    "Opening",
    "breach",
    "observe",
    "too_small",
    "veto",
]

ALL: Final = "all"
"""The group of every environment (never an environment's name; the deployment file refuses it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupLimits:
    """The limits of an environment, or of all environments together; ``None`` is off."""

    max_position_notional: Decimal | None = None
    max_total_exposure: Decimal | None = None
    max_leverage: Decimal | None = None
    max_daily_loss_percent: Decimal | None = None
    max_drawdown_percent: Decimal | None = None
    max_open_orders: int | None = None
    kill_switch: bool = False

    @classmethod
    def of(cls, spec: GlobalRiskSpec) -> GroupLimits:
        return cls(**{f.name: getattr(spec, f.name) for f in fields(cls)})

    @property
    def equity_limits(self) -> RiskLimits:
        """What :meth:`RiskState.update` reads: the drawdown that halts."""
        return RiskLimits(max_drawdown_percent=self.max_drawdown_percent)


@dataclass(frozen=True, slots=True, kw_only=True)
class Breach:
    """A limit that fired: stored as a risk event and published as ``RiskBreached``."""

    environment: str
    """The pair's environment, or ``all`` for the equity of every environment together."""
    rule: str
    action: str
    """``block``, ``reduce`` or ``emergency``."""
    time: datetime
    detail: str
    deployment: str | None = None
    value: Decimal | None = None
    threshold: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """The part of an order that opens risk, as the book checks it."""

    key: PairKey
    instrument: Instrument
    qty: Decimal
    price: Decimal
    leverage: Decimal
    share_equity: Decimal
    """The pair's share of its account's equity (what it may put at risk)."""
    time: datetime


@dataclass(slots=True)
class Holding:
    symbol: Symbol
    size: Decimal = ZERO
    """Signed position size."""
    resting: Decimal = ZERO
    """Value of the entries resting on the book."""
    mark: Decimal = ZERO
    open_orders: int = 0

    @property
    def value(self) -> Decimal:
        return abs(self.size) * self.mark + self.resting


@dataclass(slots=True)
class Group:
    name: str
    limits: GroupLimits
    capital: Decimal | None = None
    risk: RiskState | None = None
    excess: Decimal | None = None
    """Equity of the account above the environment's capital, set aside at the first reading."""
    frozen: str = ""
    """Why the group takes no new risk (an emergency); empty when it trades."""
    seed: RiskState | None = None
    """The equity, peak and day's start stored before this run, for the first reading."""
    daily_noted: date | None = None
    """The UTC day whose daily-loss breach was reported (once a day)."""
    members: list[PairKey] = field(default_factory=list)


def observe(group: Group, equity: Decimal, time: datetime) -> list[Breach]:
    before = group.risk
    state = RiskState.start(equity, time) if before is None else before
    if before is not None and time < before.as_of:
        return []  # a late reading: the tally already moved on
    state = state.update(equity, time, group.limits.equity_limits)
    group.risk = state
    prefix = "" if group.name != ALL else "global_"
    found = []
    if state.halted and not (before is not None and before.halted):
        group.frozen = group.frozen or state.halt_reason
        found.append(
            Breach(
                environment=group.name,
                rule=f"{prefix}max_drawdown",
                action="emergency",
                time=time,
                detail=state.halt_reason,
                value=state.drawdown_percent,
                threshold=group.limits.max_drawdown_percent,
            )
        )
    daily = group.limits.max_daily_loss_percent
    if daily is not None and state.daily_loss_percent >= daily and group.daily_noted != state.day:
        group.daily_noted = state.day
        found.append(
            Breach(
                environment=group.name,
                rule=f"{prefix}daily_loss",
                action="block",
                time=time,
                detail=daily_loss_reason(state, daily),
                value=state.daily_loss_percent,
                threshold=daily,
            )
        )
    return found


def veto(group: Group, opening: Opening, members: Iterable[Holding]) -> Breach | None:
    """Why ``group`` lets no new risk through, or ``None``."""
    limits = group.limits
    prefix = "" if group.name != ALL else "global_"
    where = "all environments" if group.name == ALL else f"environment {group.name}"
    if limits.kill_switch:
        return breach(opening, f"{prefix}kill_switch", "block", f"the kill switch of {where} is on")
    if group.frozen:
        return breach(opening, f"{prefix}emergency", "block", f"{where} is halted: {group.frozen}")
    daily = limits.max_daily_loss_percent
    # A new UTC day since the last reading starts a new baseline: nothing lost yet today. (The
    # check reads the state only; the equity readings move it.)
    risk = group.risk
    today = risk is not None and opening.time.date() <= risk.day
    if daily is not None and risk is not None and today and risk.daily_loss_percent >= daily:
        return breach(
            opening,
            f"{prefix}daily_loss",
            "block",
            f"{where}: {daily_loss_reason(risk, daily)}",
            value=risk.daily_loss_percent,
            threshold=daily,
        )
    leverage = limits.max_leverage
    if leverage is not None and opening.leverage > leverage:
        return breach(
            opening,
            f"{prefix}max_leverage",
            "block",
            f"the play trades with {format_decimal(opening.leverage)}× leverage; {where} allows "
            f"at most {format_decimal(leverage)}×",
            value=opening.leverage,
            threshold=leverage,
        )
    most = limits.max_open_orders
    count = sum(h.open_orders for h in members)
    if most is not None and count >= most:
        return breach(
            opening,
            f"{prefix}max_open_orders",
            "block",
            f"{where} has {count} orders open, the most it allows is {most}",
            value=Decimal(count),
            threshold=Decimal(most),
        )
    return None


def breach(  # noqa: PLR0917  # the fields of one breach
    opening: Opening,
    rule: str,
    action: str,
    detail: str,
    value: Decimal | None = None,
    threshold: Decimal | None = None,
) -> Breach:
    return Breach(
        environment=opening.key.environment,
        rule=rule,
        action=action,
        time=opening.time,
        detail=detail,
        deployment=opening.key.play,
        value=value,
        threshold=threshold,
    )


def too_small(instrument: Instrument, qty: Decimal, price: Decimal) -> str:
    """What makes a reduced order unsendable (nothing left of it, or an instrument rule)."""
    if qty <= 0:
        return f"less than one step of {format_decimal(instrument.qty_step)} {instrument.base}"
    return order_problem(instrument, qty, price)
