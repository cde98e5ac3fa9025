"""What an environment decided and how its money moved: signals, balances, equity, risk events.

Each of these is a fact at a time, written once: the key is the fact's own identity (a play's
signal on a symbol at a bar close, an account's balance at a time, a rule breached by a
deployment — or by the environment as a whole — at a time),
so writing it again after a restart changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Numeric, Row, Select, cast, func, select

from tradeplay.domain.account import Account
from tradeplay.domain.signal import Signal, SignalAction
from tradeplay.domain.values import Money, require_utc
from tradeplay.store._transaction import Begin
from tradeplay.store._upsert import insert_once
from tradeplay.store.schema import balances, equity, risk_events, signals


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaySignal:
    """A signal and the play that emitted it."""

    play: str
    signal: Signal


@dataclass(frozen=True, slots=True, kw_only=True)
class EquitySnapshot:
    """An environment's equity at ``time``: wallet balance plus unrealized PnL."""

    time: datetime
    equity: Money
    wallet_balance: Money
    unrealized_pnl: Money

    def __post_init__(self) -> None:
        require_utc(self.time, "equity snapshot time")


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskEventRecord:
    """A risk rule that fired: which rule, what it did, and the numbers behind it."""

    time: datetime
    rule: str
    """e.g. ``daily_loss``, ``max_drawdown``, ``max_leverage``, ``kill_switch``."""
    action: str
    """e.g. ``block``, ``reduce_only``, ``flatten``, ``emergency``."""
    deployment: str | None = None
    value: Money | None = None
    threshold: Money | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        require_utc(self.time, f"risk event {self.rule} time")


class SignalRecords:
    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def record(self, environment: str, play: str, signal: Signal) -> bool:
        """Store a play's signal; ``False`` if that signal was already stored."""
        row = {
            "environment": environment,
            "play": play,
            "symbol": signal.symbol,
            "time": signal.time,
            "action": signal.action.value,
            "reason": signal.reason,
            "tag": signal.tag,
            "stop_price": signal.stop_price,
            "target_price": signal.target_price,
            "strength": signal.strength,
        }
        key = ("environment", "play", "symbol", "time", "action")
        with self._begin() as connection:
            return insert_once(connection, signals, row, key)

    def since(self, environment: str, since: datetime) -> list[PlaySignal]:
        """Signals at or after ``since``, in time order."""
        require_utc(since, "since")
        query = (
            select(signals)
            .where(signals.c.environment == environment, signals.c.time >= since)
            .order_by(signals.c.time, signals.c.id)
        )
        with self._begin() as connection:
            return [_play_signal(row) for row in connection.execute(query)]


class BalanceRecords:
    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def record(self, environment: str, account: Account, time: datetime) -> bool:
        """Snapshot ``account`` at ``time``; ``False`` if that snapshot exists."""
        require_utc(time, f"{account.coin} balance snapshot time")
        row = {
            "environment": environment,
            "coin": account.coin,
            "time": time,
            "wallet_balance": account.wallet_balance,
            "net_deposits": account.net_deposits,
            "realized_pnl": account.realized_pnl,
            "fees_paid": account.fees_paid,
            "funding_paid": account.funding_paid,
        }
        with self._begin() as connection:
            return insert_once(connection, balances, row, ("environment", "coin", "time"))

    def latest(self, environment: str) -> list[Account]:
        """The newest snapshot of each coin, by coin."""
        newest = (
            select(balances.c.coin, func.max(balances.c.time).label("time"))
            .where(balances.c.environment == environment)
            .group_by(balances.c.coin)
            .subquery()
        )
        query = (
            select(balances)
            .join(newest, (balances.c.coin == newest.c.coin) & (balances.c.time == newest.c.time))
            .where(balances.c.environment == environment)
            .order_by(balances.c.coin)
        )
        with self._begin() as connection:
            return [_account(row) for row in connection.execute(query)]


class EquityRecords:
    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def record(self, environment: str, snapshot: EquitySnapshot) -> bool:
        row = {
            "environment": environment,
            "time": snapshot.time,
            "equity": snapshot.equity,
            "wallet_balance": snapshot.wallet_balance,
            "unrealized_pnl": snapshot.unrealized_pnl,
        }
        with self._begin() as connection:
            return insert_once(connection, equity, row, ("environment", "time"))

    def curve(self, environment: str, since: datetime | None = None) -> list[EquitySnapshot]:
        """The equity curve, oldest first (from ``since`` inclusive when given)."""
        query = select(equity).where(equity.c.environment == environment)
        if since is not None:
            require_utc(since, "since")
            query = query.where(equity.c.time >= since)
        with self._begin() as connection:
            rows = connection.execute(query.order_by(equity.c.time)).all()
        return [_snapshot(row) for row in rows]

    def peak(self, environment: str, since: datetime | None = None) -> EquitySnapshot | None:
        """The snapshot of the highest equity (from ``since`` inclusive when given); the
        database picks it, so a long curve is not loaded to find it."""
        query = select(equity).where(equity.c.environment == environment)
        if since is not None:
            require_utc(since, "since")
            query = query.where(equity.c.time >= since)
        # Stored as exact text: ordered as a number (SQLite's REAL is close enough to choose
        # the row, whose exact text is what comes back).
        query = query.order_by(cast(equity.c.equity, Numeric).desc(), equity.c.time).limit(1)
        return self._one(query)

    def first(self, environment: str, since: datetime) -> EquitySnapshot | None:
        """The first snapshot at or after ``since``."""
        require_utc(since, "since")
        query = (
            select(equity)
            .where(equity.c.environment == environment, equity.c.time >= since)
            .order_by(equity.c.time)
            .limit(1)
        )
        return self._one(query)

    def latest(self, environment: str) -> EquitySnapshot | None:
        query = (
            select(equity)
            .where(equity.c.environment == environment)
            .order_by(equity.c.time.desc())
            .limit(1)
        )
        return self._one(query)

    def _one(self, query: Select[Any]) -> EquitySnapshot | None:
        with self._begin() as connection:
            row = connection.execute(query).first()
        return None if row is None else _snapshot(row)


class RiskEventRecords:
    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def record(self, environment: str, risk_event: RiskEventRecord) -> bool:
        row = {
            "environment": environment,
            "time": risk_event.time,
            "rule": risk_event.rule,
            "action": risk_event.action,
            "deployment": risk_event.deployment or "",
            "value": risk_event.value,
            "threshold": risk_event.threshold,
            "detail": risk_event.detail,
        }
        with self._begin() as connection:
            key = ("environment", "deployment", "rule", "time")
            return insert_once(connection, risk_events, row, key)

    def since(self, environment: str, since: datetime) -> list[RiskEventRecord]:
        require_utc(since, "since")
        query = (
            select(risk_events)
            .where(risk_events.c.environment == environment, risk_events.c.time >= since)
            .order_by(risk_events.c.time, risk_events.c.id)
        )
        with self._begin() as connection:
            rows = connection.execute(query).all()
        return [_risk_event(row) for row in rows]

    def latest(self, environment: str, rule: str) -> RiskEventRecord | None:
        """The newest event of ``rule`` in ``environment``."""
        query = (
            select(risk_events)
            .where(risk_events.c.environment == environment, risk_events.c.rule == rule)
            .order_by(risk_events.c.time.desc(), risk_events.c.id.desc())
            .limit(1)
        )
        with self._begin() as connection:
            row = connection.execute(query).first()
        return None if row is None else _risk_event(row)


def _risk_event(row: Row[Any]) -> RiskEventRecord:
    return RiskEventRecord(
        time=row.time,
        rule=row.rule,
        action=row.action,
        deployment=row.deployment or None,
        value=row.value,
        threshold=row.threshold,
        detail=row.detail,
    )


def _play_signal(row: Row[Any]) -> PlaySignal:
    values = row._mapping
    signal = Signal(
        symbol=values["symbol"],
        time=values["time"],
        action=SignalAction(values["action"]),
        reason=values["reason"],
        tag=values["tag"],
        stop_price=values["stop_price"],
        target_price=values["target_price"],
        strength=values["strength"],
    )
    return PlaySignal(play=values["play"], signal=signal)


def _snapshot(row: Row[Any]) -> EquitySnapshot:
    return EquitySnapshot(
        time=row.time,
        equity=row.equity,
        wallet_balance=row.wallet_balance,
        unrealized_pnl=row.unrealized_pnl,
    )


def _account(row: Row[Any]) -> Account:
    return Account(
        coin=row.coin,
        wallet_balance=row.wallet_balance,
        net_deposits=row.net_deposits,
        realized_pnl=row.realized_pnl,
        fees_paid=row.fees_paid,
        funding_paid=row.funding_paid,
        updated_at=row.time,
    )
