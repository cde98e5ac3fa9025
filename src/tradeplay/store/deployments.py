"""Deployments and their lifecycle, stored so ``tradeplay status`` and a restart both see it.

::

    stopped ──► starting ──► running ◄──► paused
       ▲            │           │           │
       └── stopping ◄───────────┴───────────┘
    any state but emergency ──► emergency ──► running (operator) | stopping

An emergency (a drawdown breach, a panic) halts the deployment until an operator resumes it or
stops it; nothing moves it out of ``emergency`` by itself. A stopped deployment can be put in
an emergency too (a panic while nothing runs): it then starts halted. The transition is checked
and written in one transaction, so two callers racing to move the same deployment cannot both
succeed from the same state.

An operator's panic is also a :class:`PanicRequest`: ``tradeplay panic`` stores one per
environment, the running deployment applies it (cancel, flatten) and marks it applied with
what it did — so the command can tell the operator when, and whether, it happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import Connection, Row, insert, select, update

from tradeplay.domain.errors import InvalidTransitionError, RejectedError
from tradeplay.domain.values import Money, require_utc
from tradeplay.store._transaction import Begin
from tradeplay.store._upsert import insert_once
from tradeplay.store.schema import deployments, panic_requests


class DeploymentState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    EMERGENCY = "emergency"


_D = DeploymentState
LIFECYCLE: Final[Mapping[DeploymentState, frozenset[DeploymentState]]] = MappingProxyType(
    {
        _D.STOPPED: frozenset({_D.STARTING, _D.EMERGENCY}),
        _D.STARTING: frozenset({_D.RUNNING, _D.STOPPING, _D.EMERGENCY}),
        _D.RUNNING: frozenset({_D.PAUSED, _D.STOPPING, _D.EMERGENCY}),
        _D.PAUSED: frozenset({_D.RUNNING, _D.STOPPING, _D.EMERGENCY}),
        _D.STOPPING: frozenset({_D.STOPPED, _D.EMERGENCY}),
        _D.EMERGENCY: frozenset({_D.RUNNING, _D.STOPPING}),
    }
)
"""The one lifecycle transition table: state → states it may move to next."""


class UnknownDeploymentError(RejectedError):
    """A deployment name that is not registered in that environment."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    """A play running in an environment with its capital, and where it is in its lifecycle."""

    environment: str
    name: str
    play: str
    capital: Money | None
    state: DeploymentState
    reason: str
    """Why it is in this state (e.g. the breach behind an emergency); empty when routine."""
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PanicRequest:
    """An operator asked to cancel every order and close every position of ``environment``."""

    id: int
    environment: str
    requested_at: datetime
    applied_at: datetime | None = None
    """When the running deployment applied it; ``None`` while it waits for one."""
    detail: str = ""
    """What applying it did (orders cancelled, positions closed)."""


class DeploymentRecords:
    def __init__(self, begin: Begin) -> None:
        self._begin = begin

    def register(
        self, environment: str, name: str, play: str, capital: Money | None, time: datetime
    ) -> Deployment:
        """Add a deployment (``stopped``), or update the play and capital of a known one
        without touching its lifecycle state (a restart must not forget an emergency)."""
        require_utc(time, f"deployment {name} time")
        row = {"environment": environment, "name": name, "play": play, "capital": capital}
        new = {**row, "state": _D.STOPPED.value, "reason": "", "updated_at": time}
        with self._begin() as connection:
            if not insert_once(connection, deployments, new, ("environment", "name")):
                connection.execute(
                    update(deployments)
                    .where(deployments.c.environment == environment, deployments.c.name == name)
                    .values(play=play, capital=capital)
                )
            stored = _row(connection, environment, name)
        assert stored is not None  # written just above, in this transaction
        return _deployment(stored)

    def move(
        self,
        environment: str,
        name: str,
        target: DeploymentState,
        time: datetime,
        reason: str = "",
    ) -> Deployment:
        """Move a deployment to ``target``; :class:`InvalidTransitionError` if not allowed."""
        require_utc(time, f"deployment {name} time")
        with self._begin() as connection:
            row = _row(connection, environment, name, for_update=True)
            if row is None:
                raise UnknownDeploymentError(f"no deployment {name!r} in environment {environment}")
            current = DeploymentState(row.state)
            if target not in LIFECYCLE[current]:
                allowed = ", ".join(sorted(LIFECYCLE[current]))
                raise InvalidTransitionError(
                    f"deployment {name} in {environment}: cannot go from {current} to {target} "
                    f"(allowed next: {allowed})"
                )
            connection.execute(
                update(deployments)
                .where(deployments.c.environment == environment, deployments.c.name == name)
                .values(state=target.value, reason=reason, updated_at=time)
            )
        return Deployment(
            **{**row._asdict(), "state": target, "reason": reason, "updated_at": time}
        )

    def get(self, environment: str, name: str) -> Deployment | None:
        with self._begin() as connection:
            row = _row(connection, environment, name)
        return None if row is None else _deployment(row)

    def all(self, environment: str | None = None) -> list[Deployment]:
        """Every deployment (of one environment when given), by environment and name."""
        query = select(deployments).order_by(deployments.c.environment, deployments.c.name)
        if environment is not None:
            query = query.where(deployments.c.environment == environment)
        with self._begin() as connection:
            return [_deployment(row) for row in connection.execute(query)]

    def request_panic(self, environment: str, time: datetime) -> PanicRequest:
        """Store an operator's panic for ``environment``, to be applied by the deployment."""
        require_utc(time, f"panic of {environment} time")
        row = {"environment": environment, "requested_at": time, "detail": ""}
        with self._begin() as connection:
            key = connection.execute(insert(panic_requests).values(row)).inserted_primary_key
        assert key is not None  # an insert into a table with a primary key
        return PanicRequest(id=int(key[0]), environment=environment, requested_at=time)

    def pending_panics(self, environment: str) -> list[PanicRequest]:
        """The panics of ``environment`` not applied yet, oldest first."""
        query = (
            select(panic_requests)
            .where(
                panic_requests.c.environment == environment,
                panic_requests.c.applied_at.is_(None),
            )
            .order_by(panic_requests.c.id)
        )
        with self._begin() as connection:
            return [PanicRequest(**row._mapping) for row in connection.execute(query)]

    def panic_applied(self, request: PanicRequest, time: datetime, detail: str) -> None:
        require_utc(time, f"panic of {request.environment} applied time")
        with self._begin() as connection:
            connection.execute(
                update(panic_requests)
                .where(panic_requests.c.id == request.id)
                .values(applied_at=time, detail=detail)
            )

    def panics(self, environment: str) -> list[PanicRequest]:
        """Every panic of ``environment``, applied or not, oldest first."""
        query = (
            select(panic_requests)
            .where(panic_requests.c.environment == environment)
            .order_by(panic_requests.c.id)
        )
        with self._begin() as connection:
            return [PanicRequest(**row._mapping) for row in connection.execute(query)]

    def panic(self, request_id: int) -> PanicRequest | None:
        query = select(panic_requests).where(panic_requests.c.id == request_id)
        with self._begin() as connection:
            row = connection.execute(query).first()
        return None if row is None else PanicRequest(**row._mapping)


def _row(
    connection: Connection, environment: str, name: str, *, for_update: bool = False
) -> Row[Any] | None:
    query = select(deployments).where(
        deployments.c.environment == environment, deployments.c.name == name
    )
    if for_update:  # PostgreSQL locks the row; SQLite's BEGIN IMMEDIATE already holds the lock
        query = query.with_for_update()
    return connection.execute(query).first()


def _deployment(row: Row[Any]) -> Deployment:
    values = row._mapping
    return Deployment(**{**values, "state": DeploymentState(values["state"])})
