"""The limits of groups of pairs, checked before an order leaves: per environment and global.

Each engine checks its own limits against its own equity (:mod:`tradeplay.engine.risk`). What
no engine sees — its environment's pairs together, every environment together, and its share of
an account it shares with other pairs — is checked here::

    engine ─► EnvironmentGuard ─► RecordedExchange ─► venue or simulated exchange
                    │             (tradeplay.runtime.guard)
                 RiskBook: one per supervisor, behind one lock — a tally per environment
                           (positions, resting entries, open orders, equity) and one of all

Every pair's guard reads and writes the same book from its own thread; a check and the
reservation of what it let through happen under the lock, so two pairs cannot both spend the
same headroom. The part of an order that opens risk is checked, in this order (the first
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

A position's value counts the entries resting on the book too (they may fill at any time).
Reduce-only orders and cancels always pass, so a trader can always get out. Global limits
have the rule's name prefixed with ``global_``. Equity comes from the supervisor's snapshots
(:meth:`RiskBook.observe`); of a venue account holding more than the environment's capital, only
the capital counts (what is above it at the first snapshot is set aside). A drawdown breach
freezes the group at once and is returned for the supervisor to run the emergency protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from tradeplay.domain.errors import InstrumentRuleError
from tradeplay.domain.instrument import Instrument, Rounding
from tradeplay.domain.values import ZERO, Symbol, format_decimal
from tradeplay.engine.risk import RiskLimits, RiskState
from tradeplay.runtime.deployment import Deployment, GlobalRiskSpec
from tradeplay.runtime.pairs import PairKey

__all__ = [
    "ALL",
    "Breach",
    "GroupLimits",
    "Opening",
    "RiskBook",
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
class _Holding:
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
class _Group:
    name: str
    limits: GroupLimits
    capital: Decimal | None = None
    risk: RiskState | None = None
    excess: Decimal | None = None
    """Equity of the account above the environment's capital, set aside at the first reading."""
    frozen: str = ""
    """Why the group takes no new risk (an emergency); empty when it trades."""
    daily_noted: date | None = None
    """The UTC day whose daily-loss breach was reported (once a day)."""
    members: list[PairKey] = field(default_factory=list)


class RiskBook:
    """The shared tallies and the checks of :mod:`tradeplay.runtime.safety`. Thread-safe."""

    def __init__(
        self,
        environments: Mapping[str, GroupLimits],
        overall: GroupLimits,
        capital: Mapping[str, Decimal] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        given = capital or {}
        self._groups = {
            name: _Group(name, limits, given.get(name)) for name, limits in environments.items()
        }
        self._all = _Group(ALL, overall)
        self._holdings: dict[PairKey, _Holding] = {}

    @classmethod
    def of(cls, deployment: Deployment) -> RiskBook:
        model = deployment.model
        return cls(
            {name: GroupLimits.of(spec.risk) for name, spec in model.environments.items()},
            GroupLimits.of(model.limits),
            {name: spec.capital for name, spec in model.environments.items()},
        )

    # -- the tallies -------------------------------------------------------------------------

    def hold(self, key: PairKey, symbol: Symbol) -> None:
        with self._lock:
            self._holdings[key] = _Holding(symbol)
            self._groups[key.environment].members.append(key)

    def note(
        self,
        key: PairKey,
        *,
        size: Decimal | None = None,
        resting: Decimal | None = None,
        open_orders: int | None = None,
        mark: Decimal | None = None,
    ) -> None:
        """What a pair holds now (each given figure replaces the last)."""
        with self._lock:
            holding = self._holdings[key]
            holding.size = holding.size if size is None else size
            holding.resting = holding.resting if resting is None else resting
            holding.open_orders = holding.open_orders if open_orders is None else open_orders
            holding.mark = holding.mark if mark is None else mark

    def mark(self, key: PairKey) -> Decimal:
        with self._lock:
            return self._holdings[key].mark

    def size(self, key: PairKey) -> Decimal:
        with self._lock:
            return self._holdings[key].size

    # -- equity and emergencies --------------------------------------------------------------

    def observe(self, environment: str, equity: Decimal, time: datetime) -> list[Breach]:
        """An environment's equity at ``time``. Breaches: a drawdown reaching its limit (the
        group is frozen at once: the caller runs the emergency protocol), a daily loss reaching
        its limit (once a day)."""
        with self._lock:
            group = self._groups[environment]
            if group.excess is None:
                capital = group.capital
                group.excess = ZERO if capital is None else max(ZERO, equity - capital)
            return _observe(group, equity - group.excess, time)

    def observe_all(self, time: datetime) -> list[Breach]:
        """The equity of all environments together: the sum of each one's last reading (an
        environment never read — it failed to start — is not in it); breaches as above."""
        with self._lock:
            readings = [g.risk.equity for g in self._groups.values() if g.risk is not None]
            if not readings:
                return []
            return _observe(self._all, sum(readings, ZERO), time)

    def freeze(self, group: str, reason: str) -> None:
        """No new risk in ``group`` (an environment, or ``all``) until :meth:`resume`."""
        with self._lock:
            target = self._all if group == ALL else self._groups[group]
            target.frozen = target.frozen or reason

    def resume(self, environment: str) -> None:
        """An operator's resume: lift the environment's halt and the global one; their equity
        peaks restart at today's equity (else a drawdown halts again at once)."""
        with self._lock:
            for group in (self._groups[environment], self._all):
                group.frozen = ""
                if group.risk is not None:
                    group.risk = group.risk.resume()

    def frozen(self, group: str) -> str:
        with self._lock:
            return (self._all if group == ALL else self._groups[group]).frozen

    # -- the check ---------------------------------------------------------------------------

    def check(self, opening: Opening) -> tuple[Decimal, list[Breach]]:
        """The quantity ``opening`` may open (0: blocked) and the limits that fired; what is
        let through is reserved in the pair's tally until its next refresh."""
        key = opening.key
        with self._lock:
            groups = (self._groups[key.environment], self._all)
            for group in groups:
                veto = _veto(group, opening, self._members(group))
                if veto is not None:
                    return ZERO, [veto]
            cap, breaches = self._cap(opening, groups)
            qty = opening.qty
            if cap < opening.qty * opening.price:
                qty = opening.instrument.round_qty(max(ZERO, cap) / opening.price, Rounding.DOWN)
                problem = _too_small(opening.instrument, qty, opening.price)
                if problem:
                    qty = ZERO
                    breaches = [
                        replace(b, action="block", detail=f"{b.detail}; what is left: {problem}")
                        for b in breaches
                    ]
            if qty > 0:
                holding = self._holdings[key]
                holding.resting += qty * opening.price
                holding.open_orders += 1
            return qty, breaches

    def _members(self, group: _Group) -> list[_Holding]:
        keys = self._holdings if group is self._all else group.members
        return [self._holdings[k] for k in keys]

    def _cap(self, opening: Opening, groups: Sequence[_Group]) -> tuple[Decimal, list[Breach]]:
        """The most position value the limits let ``opening`` add, and the ones that bite."""
        wanted = opening.qty * opening.price
        own = self._holdings[opening.key]
        caps = [
            (
                "capital_share",
                opening.share_equity * opening.leverage - own.value,
                opening.share_equity * opening.leverage,
            )
        ]
        for group in groups:
            members = self._members(group)
            prefix = "" if group is not self._all else "global_"
            limit = group.limits.max_position_notional
            if limit is not None:
                held = sum((h.value for h in members if h.symbol == own.symbol), ZERO)
                caps.append((f"{prefix}max_position_notional", limit - held, limit))
            exposure = group.limits.max_total_exposure
            if exposure is not None and group.risk is not None:
                held = sum((h.value for h in members), ZERO)
                allowed = exposure * group.risk.equity
                caps.append((f"{prefix}max_total_exposure", allowed - held, allowed))
        breaches = [
            _breach(
                opening,
                rule,
                "reduce",
                f"{rule}: {_money(wanted)} {opening.instrument.settle} more would go over "
                f"{_money(limit)} ({_money(max(ZERO, room))} left)",
                value=wanted,
                threshold=limit,
            )
            for rule, room, limit in caps
            if room < wanted
        ]
        return min((room for _, room, _ in caps), default=wanted), breaches


def _observe(group: _Group, equity: Decimal, time: datetime) -> list[Breach]:
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
                detail=_daily_words(state, daily),
                value=state.daily_loss_percent,
                threshold=daily,
            )
        )
    return found


def _veto(group: _Group, opening: Opening, members: Iterable[_Holding]) -> Breach | None:
    """Why ``group`` lets no new risk through, or ``None``."""
    limits = group.limits
    prefix = "" if group.name != ALL else "global_"
    where = "all environments" if group.name == ALL else f"environment {group.name}"
    if limits.kill_switch:
        return _breach(
            opening, f"{prefix}kill_switch", "block", f"the kill switch of {where} is on"
        )
    if group.frozen:
        return _breach(opening, f"{prefix}emergency", "block", f"{where} is halted: {group.frozen}")
    daily = limits.max_daily_loss_percent
    if daily is not None and group.risk is not None:
        # A new UTC day may have begun since the last reading: it starts a new baseline.
        if group.risk.as_of < opening.time:
            group.risk = group.risk.update(group.risk.equity, opening.time, limits.equity_limits)
        if group.risk.daily_loss_percent >= daily:
            loss = group.risk.daily_loss_percent
            return _breach(
                opening,
                f"{prefix}daily_loss",
                "block",
                f"{where}: {_daily_words(group.risk, daily)}",
                value=loss,
                threshold=daily,
            )
    leverage = limits.max_leverage
    if leverage is not None and opening.leverage > leverage:
        return _breach(
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
        return _breach(
            opening,
            f"{prefix}max_open_orders",
            "block",
            f"{where} has {count} orders open, the most it allows is {most}",
            value=Decimal(count),
            threshold=Decimal(most),
        )
    return None


def _breach(  # noqa: PLR0917  # the fields of one breach
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


def _daily_words(state: RiskState, limit: Decimal) -> str:
    loss = state.daily_loss_percent.quantize(Decimal("0.01"))
    return (
        f"daily loss {format_decimal(loss)} % reached the {format_decimal(limit)} % limit for "
        f"{state.day.isoformat()} (UTC); new entries resume after 00:00 UTC"
    )


def _money(value: Decimal) -> str:
    return format_decimal(value.quantize(Decimal("0.01")))


def _too_small(instrument: Instrument, qty: Decimal, price: Decimal) -> str:
    if qty <= 0:
        return f"less than one step of {format_decimal(instrument.qty_step)} {instrument.base}"
    try:
        instrument.validate_qty(qty)
        instrument.validate_notional(qty, price)
    except InstrumentRuleError as error:
        return str(error)
    return ""
