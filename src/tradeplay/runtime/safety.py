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
same headroom. The limits and the order they are checked in are in
:mod:`tradeplay.runtime.limits`.

A position's value counts the entries resting on the book too (they may fill at any time).
Reduce-only orders and cancels always pass, so a trader can always get out. Equity comes from
the supervisor's snapshots (:meth:`RiskBook.observe`); of a venue account holding more than the
environment's capital, only the capital counts (what is above it at the first snapshot is set
aside). A drawdown breach freezes the group at once and is returned for the supervisor to run
the emergency protocol.

An environment's equity peak and the day's starting equity outlive a restart: the supervisor
seeds them from the stored equity curve (:meth:`RiskBook.seed`) before the first reading, so a
daily-loss block holds until 00:00 UTC and a drawdown is measured from the peak before the
restart (since the operator's last resume, which restarts the peak).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from tradeplay.domain.instrument import Rounding
from tradeplay.domain.values import ZERO, Symbol
from tradeplay.engine.risk import RiskState, cents
from tradeplay.runtime.deployment import Deployment
from tradeplay.runtime.limits import (
    ALL,
    Breach,
    Group,
    GroupLimits,
    Holding,
    Opening,
    breach,
    observe,
    too_small,
    veto,
)
from tradeplay.runtime.pairs import PairKey
from tradeplay.store import Records

__all__ = [
    "ALL",
    "Breach",
    "GroupLimits",
    "Opening",
    "RiskBook",
    "stored_risk_state",
]


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
            name: Group(name, limits, given.get(name)) for name, limits in environments.items()
        }
        self._all = Group(ALL, overall)
        self._holdings: dict[PairKey, Holding] = {}

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
            self._holdings[key] = Holding(symbol)
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
                if group.seed is not None:  # measured from before the restart, in its figures
                    group.risk = _set_aside(group.seed, group.excess)
            return observe(group, equity - group.excess, time)

    def seed(self, environment: str, stored: RiskState | None) -> None:
        """The environment's equity, peak and day's start as stored before this run (the
        account's own figures): its first reading measures from them, not afresh."""
        with self._lock:
            self._groups[environment].seed = stored

    def observe_all(self, time: datetime) -> list[Breach]:
        """The equity of all environments together: the sum of each one's last reading (an
        environment never read — it failed to start — is not in it); breaches as above."""
        with self._lock:
            readings = [g.risk.equity for g in self._groups.values() if g.risk is not None]
            if not readings:
                return []
            return observe(self._all, sum(readings, ZERO), time)

    def freeze(self, group: str, reason: str) -> None:
        """No new risk in ``group`` (an environment, or ``all``) until :meth:`resume`."""
        with self._lock:
            target = self._all if group == ALL else self._groups[group]
            target.frozen = target.frozen or reason

    def resume(self, environment: str) -> None:
        """An operator's resume: lift the environment's halt and the global one; a halted
        group's equity peak restarts at today's equity (else a drawdown halts again at once).
        A group that was not halted keeps its peak: a pause is no reason to forget it."""
        with self._lock:
            for group in (self._groups[environment], self._all):
                if group.frozen or (group.risk is not None and group.risk.halted):
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
                vetoed = veto(group, opening, self._members(group))
                if vetoed is not None:
                    return ZERO, [vetoed]
            cap, breaches = self._cap(opening, groups)
            qty = opening.qty
            if cap < opening.qty * opening.price:
                qty = opening.instrument.round_qty(max(ZERO, cap) / opening.price, Rounding.DOWN)
                problem = too_small(opening.instrument, qty, opening.price)
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

    def _members(self, group: Group) -> list[Holding]:
        if group is self._all:
            return list(self._holdings.values())
        return [self._holdings[k] for k in group.members]

    def _cap(self, opening: Opening, groups: Sequence[Group]) -> tuple[Decimal, list[Breach]]:
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
            breach(
                opening,
                rule,
                "reduce",
                f"{rule}: {cents(wanted)} {opening.instrument.settle} more would go over "
                f"{cents(limit)} ({cents(max(ZERO, room))} left)",
                value=wanted,
                threshold=limit,
            )
            for rule, room, limit in caps
            if room < wanted
        ]
        return min((room for _, room, _ in caps), default=wanted), breaches


def _set_aside(state: RiskState, excess: Decimal) -> RiskState:
    return replace(
        state,
        equity=state.equity - excess,
        equity_peak=state.equity_peak - excess,
        day_start_equity=state.day_start_equity - excess,
    )


def stored_risk_state(records: Records, environment: str) -> RiskState | None:
    """What the limits of ``environment`` measured when its equity was last stored: that
    equity, the peak since its last drawdown breach (the operator's resume after it restarts
    the peak), and the first equity of that UTC day. ``None`` with nothing stored."""
    latest = records.equity.latest(environment)
    if latest is None:
        return None
    breach = records.risk_events.latest(environment, "max_drawdown")
    peak = records.equity.peak(environment, since=None if breach is None else breach.time)
    midnight = latest.time.replace(hour=0, minute=0, second=0, microsecond=0)
    first = records.equity.first(environment, midnight) or latest
    return RiskState(
        equity=latest.equity,
        equity_peak=max(latest.equity, first.equity, ZERO if peak is None else peak.equity),
        day=latest.time.date(),
        day_start_equity=first.equity,
        as_of=latest.time,
    )
