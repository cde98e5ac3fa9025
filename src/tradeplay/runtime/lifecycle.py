"""Each pair's lifecycle as the store holds it, and what the supervisor last applied of it.

stopped → starting → running ⇄ paused → stopping → stopped, and emergency
(:mod:`tradeplay.store.deployments` refuses any other move). A move is stored and remembered
as applied, so the supervisor's poll acts only on states asked for by someone else (the
operator's ``pause``, ``resume`` or ``stop``); every change is published on the bus.
"""

from __future__ import annotations

import threading

import structlog

from tradeplay import notify
from tradeplay.domain.errors import InvalidTransitionError
from tradeplay.notify import EventBus
from tradeplay.ports import Clock
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.store import DeploymentState, Records

__all__ = ["Lifecycle"]

log = structlog.get_logger(__name__)

_S = DeploymentState


class Lifecycle:
    def __init__(self, records: Records, bus: EventBus, clock: Clock) -> None:
        self._records = records
        self._bus = bus
        self._clock = clock
        self.applied: dict[PairKey, DeploymentState] = {}
        """The state each pair was last moved to here, or applied from the store."""
        self.lock = threading.RLock()

    def state(self, pair: Pair) -> DeploymentState | None:
        stored = self._records.deployments.get(pair.key.environment, pair.key.play)
        return None if stored is None else stored.state

    def settle(self, pair: Pair) -> None:
        """A pair the last run left running (a crash, a kill) is first marked stopped."""
        if self.state(pair) in (_S.STARTING, _S.RUNNING, _S.PAUSED, _S.STOPPING):
            reason = "the previous run ended without stopping"
            self.move(pair, _S.STOPPING, reason)
            self.move(pair, _S.STOPPED, reason)

    def move(self, pair: Pair, target: DeploymentState, reason: str = "") -> bool:
        """Store ``pair`` in ``target``; ``False`` (logged) when that move is not allowed."""
        key = pair.key
        with self.lock:
            try:
                self._records.deployments.move(
                    key.environment, key.play, target, self._clock.now(), reason
                )
            except InvalidTransitionError as error:
                log.warning("deployment_not_moved", pair=str(key), reason=str(error))
                return False
            self.applied[key] = target
        return True

    def publish(self, kind: type[notify.Event], pair: Pair, **fields: str) -> None:
        self._bus.publish(
            kind(  # type: ignore[call-arg]  # every deployment event has these fields
                environment=pair.key.environment,
                time=self._clock.now(),
                deployment=pair.key.play,
                **fields,
            )
        )
