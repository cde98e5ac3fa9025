"""Engine state snapshots: the :class:`~tradeplay.ports.StateStore` port, in the database and in
memory (backtests, tests).

A snapshot is a JSON document per (environment, key) — the key is the engine's own choice, e.g.
a deployment name. Saving replaces the previous snapshot in one transaction, so a crash leaves
either the old snapshot or the new one, never a mix.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tradeplay.ports import Clock
from tradeplay.store import _json
from tradeplay.store._transaction import Begin
from tradeplay.store._upsert import upsert
from tradeplay.store.schema import engine_states


class EngineStateStore:
    """The state snapshots of one environment, in the state database."""

    def __init__(self, begin: Begin, environment: str, clock: Clock) -> None:
        self._begin = begin
        self.environment = environment
        self._clock = clock

    def save(self, key: str, state: dict[str, Any]) -> None:
        text = _json.dump(state, f"engine state {key!r} of {self.environment}")
        row = {
            "environment": self.environment,
            "key": key,
            "state": text,
            "saved_at": self._clock.now(),
        }
        with self._begin() as connection:
            upsert(connection, engine_states, row, ("environment", "key"))

    def load(self, key: str) -> dict[str, Any] | None:
        query = select(engine_states.c.state).where(
            engine_states.c.environment == self.environment, engine_states.c.key == key
        )
        with self._begin() as connection:
            text = connection.execute(query).scalar_one_or_none()
        if text is None:
            return None
        state: dict[str, Any] = _json.load(text, f"engine state {key!r} of {self.environment}")
        return state

    def keys(self) -> list[str]:
        query = (
            select(engine_states.c.key)
            .where(engine_states.c.environment == self.environment)
            .order_by(engine_states.c.key)
        )
        with self._begin() as connection:
            return list(connection.execute(query).scalars())


class MemoryStateStore:
    """A :class:`~tradeplay.ports.StateStore` in a dict (backtests, tests).

    It keeps the JSON text, exactly as the database does, so a state that round-trips here
    round-trips live too (a tuple comes back a list, a ``Decimal`` is refused in both).
    """

    def __init__(self) -> None:
        self._states: dict[str, str] = {}

    def save(self, key: str, state: dict[str, Any]) -> None:
        self._states[key] = _json.dump(state, f"engine state {key!r}")

    def load(self, key: str) -> dict[str, Any] | None:
        text = self._states.get(key)
        if text is None:
            return None
        state: dict[str, Any] = _json.load(text, f"engine state {key!r}")
        return state
