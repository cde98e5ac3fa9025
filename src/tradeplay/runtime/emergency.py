"""The emergency protocol, risk breaches on record, and an operator's panic from another process.

A drawdown breach of an environment (or of all environments together) and an operator's panic
run the same protocol, always in this order:

1. **freeze** — the group takes no new risk (:meth:`RiskBook.freeze`, at once for every pair
   of it), and each of its pairs is stored as ``emergency``, so a restart starts it halted;
2. **flatten** — each pair cancels its orders and closes its position with a reduce-only market
   order, in its own thread; the protocol waits for each to be done (or to time out);
3. **notify** — the breach is stored as a risk event, ``RiskBreached`` and ``EmergencyDeclared``
   go on the bus (with what step 2 did), and the log says it.

The group stays halted until an operator resumes it (``tradeplay resume``).

``tradeplay panic ENV|all`` runs in a process of its own: it stores a :class:`PanicRequest`
per environment and moves that environment's pairs to ``emergency``; the running deployment
applies the request at its next poll (about a second) and marks it applied with what it did,
which the command waits for. With nothing running, the request waits in the store: the next
``tradeplay up`` starts those pairs halted and applies it before they could trade.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import structlog

from tradeplay import notify
from tradeplay.domain.errors import InputError, InvalidTransitionError
from tradeplay.notify import EventBus
from tradeplay.ports import Clock
from tradeplay.runtime.pairs import Pair
from tradeplay.runtime.safety import ALL, Breach, RiskBook
from tradeplay.runtime.worker import PairWorker, flatten_outcome
from tradeplay.store import DeploymentState, Records, RiskEventRecord
from tradeplay.store.deployments import PanicRequest

__all__ = ["OPERATOR_PANIC", "EmergencyProtocol", "await_panics", "request_panic"]

log = structlog.get_logger(__name__)

OPERATOR_PANIC: Final = "panic requested by the operator"


@dataclass(frozen=True, slots=True)
class EmergencyProtocol:
    """Freeze, flatten, notify (see the module doc); the supervisor runs it."""

    book: RiskBook
    records: Records
    bus: EventBus
    clock: Clock
    halt: Callable[[Pair, str], None]
    """Store a pair as ``emergency`` (and remember that it is)."""
    flatten_timeout_s: float = 30.0

    def run(
        self,
        environments: Sequence[str],
        workers: Sequence[PairWorker],
        reason: str,
        breach: Breach | None = None,
    ) -> str:
        """Run the protocol for ``environments`` (their ``workers``); what step 2 did."""
        for environment in environments:  # 1. freeze
            self.book.freeze(environment, reason)
        for worker in workers:
            self.halt(worker.pair, reason)
        flattening = [(worker.pair, worker.panic()) for worker in workers]  # 2. flatten
        done = "; ".join(
            f"{pair.key}: {flatten_outcome(future, self.flatten_timeout_s)}"
            for pair, future in flattening
        )
        done = done or "no pair running"
        log.error("emergency_declared", environments=list(environments), reason=reason, done=done)
        if breach is not None:  # 3. notify
            self.report(breach)
        for environment in environments:
            self.bus.publish(
                notify.EmergencyDeclared(
                    environment=environment, time=self.clock.now(), reason=f"{reason} — {done}"
                )
            )
        return done

    def report(self, breach: Breach) -> None:
        """Store a breach as a risk event, publish it and log it."""
        log.warning(
            "risk_breached",
            environment=breach.environment,
            rule=breach.rule,
            action=breach.action,
            deployment=breach.deployment,
            detail=breach.detail,
        )
        event = RiskEventRecord(**_same_fields(breach, RiskEventRecord))
        self.records.risk_events.record(breach.environment, event)
        self.bus.publish(
            notify.RiskBreached(environment=breach.environment, **_same_fields(event, event))
        )


def request_panic(records: Records, target: str, clock: Clock) -> list[PanicRequest]:
    """Store a panic for environment ``target`` (or every one, ``all``) and move its pairs to
    ``emergency``; :class:`InputError` when no such environment was ever deployed."""
    deployed = records.deployments.all()
    names = list(dict.fromkeys(d.environment for d in deployed))
    chosen = names if target == ALL else [n for n in names if n == target]
    if not chosen:
        known = ", ".join(names) or "none yet"
        raise InputError(f"no deployed environment is called {target!r} (deployed: {known})")
    now = clock.now()
    requests = [records.deployments.request_panic(name, now) for name in chosen]
    for stored in deployed:
        if stored.environment in chosen and stored.state is not DeploymentState.EMERGENCY:
            try:
                records.deployments.move(
                    stored.environment, stored.name, DeploymentState.EMERGENCY, now, OPERATOR_PANIC
                )
            except InvalidTransitionError:  # moved by the deployment meanwhile: it decides
                log.info("panic_state_not_moved", environment=stored.environment, pair=stored.name)
    return requests


def await_panics(
    records: Records,
    requests: Sequence[PanicRequest],
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
    step_s: float = 0.2,
) -> list[PanicRequest]:
    """The requests as stored once every one is applied, or when ``timeout_s`` has passed."""
    waited = 0.0
    while True:
        found = [records.deployments.panic(r.id) or r for r in requests]
        if all(r.applied_at is not None for r in found) or waited >= timeout_s:
            return found
        sleep(step_s)
        waited += step_s


def _same_fields(source: object, like: Any) -> dict[str, Any]:
    """``source``'s values of the fields of the dataclass ``like`` (a breach, its risk event
    and the event published carry the same ones)."""
    return {f.name: getattr(source, f.name) for f in dataclasses.fields(like)}
