"""``tradeplay up``: every (play, environment) pair of a deployment, in one process.

::

    Supervisor ─┬─ EnvironmentConnection "demo" ── VenueSession (loop, client, keys, limiter)
                │     ├─ PairWorker ema@demo    (thread: runner, recorded market)
                │     └─ PairWorker rsi@demo
                └─ EnvironmentConnection "live" ── VenueSession …
                      └─ PairWorker ema@live
    MarketData: one kline stream per public source, symbol and timeframe, shared read-only
                by every pair of every environment trading it (demo and live read one)

Each pair's lifecycle (stopped → starting → running ⇄ paused → stopping → stopped, emergency)
is stored through :mod:`tradeplay.store.deployments` and published on the bus. The store is
also how an operator steers a running deployment: ``tradeplay pause|resume|stop`` move the
stored state and :meth:`Supervisor.poll` applies what it finds. Nothing here is module-level:
two supervisors in one process share only what they were given.

An environment that fails to start (preflight, keys) is stopped alone, with the reason; the
others run. A pair whose engine keeps crashing, and every pair of a panicked environment, go
to ``emergency`` and stay there — across a restart too — until the operator resumes them.

A play that graduates (``environments: pipeline``) has a pair in every stage's environment
but trades only in its stage's; :mod:`tradeplay.runtime.graduating` judges it each poll and
moves it through :meth:`Supervisor.park` and :meth:`Supervisor.activate`.

Every pair's engine trades through an :class:`~tradeplay.runtime.guard.EnvironmentGuard`: the
limits of its environment and of the whole deployment, kept in one shared
:class:`~tradeplay.runtime.safety.RiskBook`. Each poll snapshots every environment's equity
into it; a drawdown breach, and an operator's ``tradeplay panic``, run the emergency protocol
of :mod:`tradeplay.runtime.emergency` (freeze, flatten, notify).
"""

from __future__ import annotations

import gc
import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay import notify
from tradeplay.domain.errors import TradeplayError
from tradeplay.notify import EventBus, Health
from tradeplay.ports import Clock
from tradeplay.runtime.deployment import Deployment
from tradeplay.runtime.emergency import OPERATOR_PANIC, EmergencyProtocol
from tradeplay.runtime.environment import EnvironmentConnection
from tradeplay.runtime.graduating import Graduation
from tradeplay.runtime.guard import EnvironmentGuard, GuardedMarket
from tradeplay.runtime.lifecycle import Lifecycle
from tradeplay.runtime.market_data import MarketData, StreamHealth
from tradeplay.runtime.pairs import Pair, PairKey, account_credentials, pairs_of
from tradeplay.runtime.recorder import RecordedMarket, Recorder
from tradeplay.runtime.recovery import Recovery, SessionAccount
from tradeplay.runtime.runner import BarStep, Market
from tradeplay.runtime.safety import ALL, Breach, RiskBook, stored_risk_state
from tradeplay.runtime.worker import Flatten, HealthPolicy, PairWorker, flatten_outcome
from tradeplay.store import DeploymentState, EquitySnapshot, KeyRing, Records

__all__ = ["Supervisor", "SupervisorOptions", "SystemClock", "settle_heap"]

log = structlog.get_logger(__name__)

_S = DeploymentState
_FLATTEN_WAIT_S = 30.0
"""How long a pipeline move waits for a pair's orders to be cancelled and its close sent."""
_FLAT_WAIT_S = 2.0
"""How long a poll waits for a held pair to say whether it is flat (it asks again later)."""


def settle_heap() -> None:
    """For the process running a deployment, once it started: what it imported and built lives
    as long as the process (libraries, plays, sessions — hundreds of thousands of objects), so
    the garbage collector is told to leave it be. Otherwise each full collection walks all of
    it while every pair waits — a pause of 100 to 200 ms that lands on whatever bar is closing."""
    gc.collect()
    gc.freeze()


class SystemClock:
    """The wall clock, UTC: the one place the runtime reads it."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorOptions:
    """What the wiring decides besides the deployment itself."""

    environ: Mapping[str, str] = field(default_factory=dict)
    keys: KeyRing | None = None
    policy: HealthPolicy = field(default_factory=HealthPolicy)
    poll_s: float = 1.0
    decorate_market: Callable[[Pair, Market], Market] = lambda _pair, market: market
    """A hook around each pair's market (fault injection in tests, instrumentation)."""
    on_step: Callable[[Pair, BarStep], None] = lambda _pair, _step: None


class Supervisor:
    def __init__(
        self,
        deployment: Deployment,
        records: Records,
        bus: EventBus,
        clock: Clock,
        options: SupervisorOptions | None = None,
    ) -> None:
        self.deployment = deployment
        self.records = records
        self.bus = bus
        self.clock = clock
        self.options = options or SupervisorOptions()
        self.pairs = pairs_of(deployment)
        self.connections: dict[str, EnvironmentConnection] = {}
        self.workers: dict[PairKey, PairWorker] = {}
        self.lifecycle = Lifecycle(records, bus, clock)
        # Order ids, and a simulated account's own ids, of this run differ from every earlier
        # run's: 6 hex digits (one in 16 million), short enough for a 20-character id prefix
        # (10 of the play's name, the token, up to 4 digits of engine generation).
        self._token = secrets.token_hex(3)
        self.book = RiskBook.of(deployment)
        """Every environment's and the deployment's limits, shared by every pair's guard."""
        self.protocol = EmergencyProtocol(self.book, records, bus, clock, self._halt)
        self.market_data = MarketData(on_health=self._stream_health)
        """The bars every environment reads, shared where the source is the same."""
        self.guards: dict[PairKey, EnvironmentGuard] = {}
        self._flat_asked: dict[PairKey, Future[bool]] = {}
        """A held move's question to a pair not answered yet (see :meth:`flat`)."""
        self.graduation: Graduation | None = None
        """The pipeline of the plays that graduate (``environments: pipeline``), if any."""
        if any(deployment.graduates(spec) for spec in deployment.model.plays):
            self.graduation = Graduation(deployment, records, self.pairs, self)

    # -- start and stop ----------------------------------------------------------------------

    def start(self) -> None:
        """Register every pair, then start each environment; one that fails is stopped alone."""
        if self.graduation is not None:
            self.graduation.place()  # before any pair trades: each trades in its stage only
        for pair in self.pairs:
            self.records.deployments.register(
                pair.key.environment,
                pair.key.play,
                pair.play.name,
                pair.capital,
                self.clock.now(),
            )
        for name in self.deployment.model.environments:
            pairs = [p for p in self.pairs if p.key.environment == name]
            if pairs:
                self._start_environment(name, pairs)
        for name, connection in self.connections.items():  # from before a restart
            if not connection.kind.local_fills:  # a paper account starts afresh each run
                self.book.seed(name, stored_risk_state(self.records, name))
        self.watch_equity()  # the limits measure from here, before any bar is traded
        self.apply_panics()  # asked for while nothing ran: before the pairs can trade
        if self.graduation is not None:
            try:  # each graduating play trades in its stage once flat everywhere else
                self.graduation.follow()
            except TradeplayError:
                log.exception("pipeline_start_failed")

    def _start_environment(self, name: str, pairs: list[Pair]) -> None:
        halted = {pair.key for pair in pairs if self.lifecycle.state(pair) is _S.EMERGENCY}
        for pair in pairs:
            if pair.key not in halted:
                self.lifecycle.settle(pair)
                self.lifecycle.move(pair, _S.STARTING)
        try:
            spec = self.deployment.model.environments[name]
            keys = account_credentials(name, spec, self.options.keys, self.options.environ)
            connection = EnvironmentConnection(name, spec, pairs, keys, self.market_data)
            self.connections[name] = connection
            connection.check()
            recovery = self._recovery(connection)
            for pair in pairs:
                self._start_pair(connection, pair, recovery)
            if recovery is not None:
                recovery.agreed()  # before the first bar; until it agrees the pairs do not trade
            connection.stream(self._bar, enqueues=True)  # _bar only fills a pair's inbox
        except Exception as error:  # whatever it is, it stops this environment only
            log.exception("environment_failed", environment=name)
            self._fail_environment(name, pairs, f"{type(error).__name__}: {error}")
            return
        for pair in pairs:
            if pair.key in halted:  # an emergency outlives a restart: the operator resumes
                self.workers[pair.key].pause()
                self.lifecycle.applied[pair.key] = _S.EMERGENCY
            elif self.lifecycle.move(pair, _S.RUNNING):
                self.lifecycle.publish(notify.DeploymentStarted, pair)
                parked = self._parked(pair.key)
                if parked is not None and self.lifecycle.move(pair, _S.PAUSED, parked):
                    self.lifecycle.publish(notify.DeploymentPaused, pair, reason=parked)

    def _recovery(self, connection: EnvironmentConnection) -> Recovery | None:
        """A venue environment's crash recovery; shadow and paper pairs each start a
        simulated account afresh, with nothing to reconcile."""
        if connection.kind.local_fills:
            return None
        venue = SessionAccount(connection.session)
        return Recovery(connection.name, venue, self.records, self.bus, self.clock)

    def _start_pair(
        self, connection: EnvironmentConnection, pair: Pair, recovery: Recovery | None = None
    ) -> None:
        history = connection.history(pair)
        if recovery is not None:
            recovery.add(pair, history)
        market = self.options.decorate_market(pair, connection.market(pair, history, self._token))
        recorder = Recorder(pair.key, self.records, self.bus, self.clock, connection.origin)
        recorded = RecordedMarket(market, recorder)
        guard = EnvironmentGuard(
            recorded.exchange,
            pair,
            self.book,
            self.protocol.report,
            self.clock,
            shared=not connection.kind.local_fills,
        )
        worker = PairWorker(
            pair,
            recorded,
            engine_market=GuardedMarket(recorded, guard),
            policy=self.options.policy,
            on_health=self._health,
            on_step=self._stepped,
            run_token=self._token,
            reconciled=(lambda: True) if recovery is None else recovery.agreed,
        )
        self.guards[pair.key] = guard
        if self.graduation is not None:
            self.graduation.warmed(pair.key, history)
            if self._parked(pair.key) is not None:
                worker.pause()
            elif pair.key in self.graduation.pairs:
                guard.allot(self.graduation.capital(pair.key))
        worker.start(history)
        self.workers[pair.key] = worker

    def _parked(self, key: PairKey) -> str | None:
        return None if self.graduation is None else self.graduation.parked(key)

    def _fail_environment(self, name: str, pairs: list[Pair], reason: str) -> None:
        for pair in pairs:
            worker = self.workers.pop(pair.key, None)
            if worker is not None:
                worker.stop()
        connection = self.connections.pop(name, None)
        if connection is not None:
            connection.close()
        for pair in pairs:
            if self.lifecycle.state(pair) is _S.EMERGENCY:
                continue  # still halted: the operator resumes or stops it
            self.lifecycle.move(pair, _S.STOPPING, reason)
            self.lifecycle.move(pair, _S.STOPPED, reason)
            self.lifecycle.publish(notify.DeploymentStopped, pair, reason=reason)
        self.bus.publish(
            notify.HealthChanged(
                environment=name,
                time=self.clock.now(),
                component=name,
                health=Health.HALTED,
                detail=reason,
            )
        )

    def stop(self, reason: str = "") -> None:
        """Stop every pair and close every connection (orders and positions stay)."""
        for key, worker in list(self.workers.items()):
            self._stop_pair(worker.pair, reason)
            del self.workers[key]
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()
        self.market_data.close()

    def _stop_pair(self, pair: Pair, reason: str) -> None:
        self.workers[pair.key].stop()
        if self.lifecycle.applied.get(pair.key) is _S.EMERGENCY:
            return  # the next run starts it halted: only the operator's resume or stop ends it
        self.lifecycle.move(pair, _S.STOPPING, reason)
        if self.lifecycle.move(pair, _S.STOPPED, reason):
            self.lifecycle.publish(notify.DeploymentStopped, pair, reason=reason)

    def run(self, stop: threading.Event) -> None:
        """Start, apply the operator's requests every ``poll_s`` until ``stop`` or until every
        pair has stopped, then stop."""
        self.start()
        settle_heap()
        try:
            while self.workers and not stop.wait(self.options.poll_s):
                self.poll()
        finally:
            self.stop("the supervisor stopped")

    # -- while running -----------------------------------------------------------------------

    def poll(self) -> None:
        """Apply the operator's panics and the stored states asked for; snapshot each
        environment's equity and check it against the limits."""
        self.apply_panics()
        states = {(d.environment, d.name): d for d in self.records.deployments.all()}
        for key, worker in list(self.workers.items()):
            stored = states.get((key.environment, key.play))
            if stored is None:
                continue
            with self.lifecycle.lock:
                applied = self.lifecycle.applied.get(key)
                if stored.state is applied:
                    continue
                self.lifecycle.applied[key] = stored.state
            self._apply(worker, stored.state, stored.reason)
        self.watch_equity()
        if self.graduation is not None:
            try:
                self.graduation.judge_due()
            except TradeplayError:
                log.exception("pipeline_judgement_failed")

    def _apply(self, worker: PairWorker, state: DeploymentState, reason: str) -> None:
        pair = worker.pair
        log.info("deployment_requested", pair=str(pair.key), state=str(state))
        if state is _S.PAUSED:
            worker.pause()
            self.lifecycle.publish(notify.DeploymentPaused, pair, reason=reason)
        elif state is _S.RUNNING and (parked := self._parked(pair.key)) is not None:
            self.lifecycle.move(pair, _S.PAUSED, parked)  # the pipeline decides where a play trades
        elif state is _S.RUNNING:
            self.book.resume(pair.key.environment)
            worker.resume()
            self.lifecycle.publish(notify.DeploymentResumed, pair)
        elif state is _S.EMERGENCY:
            worker.pause()
        elif state in (_S.STOPPING, _S.STOPPED):
            worker.stop()
            del self.workers[pair.key]
            if self.lifecycle.move(pair, _S.STOPPED, reason):
                self.lifecycle.publish(notify.DeploymentStopped, pair, reason=reason)

    def panic(self, environment: str, reason: str = "panic", breach: Breach | None = None) -> str:
        """The emergency protocol for ``environment`` (``all``: every one): freeze its pairs,
        cancel its orders and close its positions, then notify; what was done. It stays in
        ``emergency`` until the operator resumes it. Other environments go on."""
        names = list(self.deployment.model.environments) if environment == ALL else [environment]
        workers = [w for k, w in list(self.workers.items()) if k.environment in names]
        return self.protocol.run(names, workers, reason, breach)

    def apply_panics(self) -> None:
        """Run the panics an operator stored for the environments running here."""
        for name in list(self.connections):
            for request in self.records.deployments.pending_panics(name):
                done = self.panic(name, OPERATOR_PANIC)
                self.records.deployments.panic_applied(request, self.clock.now(), done)

    def watch_equity(self) -> None:
        """Snapshot each environment's equity; a drawdown breach runs the emergency protocol
        (of the environment, or of all of them), a daily loss is reported."""
        breaches = [
            breach
            for name, equity in self.snapshot_equity().items()
            for breach in self.book.observe(name, equity, self.clock.now())
        ]
        for breach in [*breaches, *self.book.observe_all(self.clock.now())]:
            if breach.action != "emergency":
                self.protocol.report(breach)
            else:
                self.panic(breach.environment, breach.detail, breach)

    def _halt(self, pair: Pair, reason: str) -> None:
        if self.lifecycle.state(pair) is not _S.EMERGENCY:
            self.lifecycle.move(pair, _S.EMERGENCY, reason)
        with self.lifecycle.lock:
            self.lifecycle.applied[pair.key] = _S.EMERGENCY

    def snapshot_equity(self) -> dict[str, Decimal]:
        """Store each environment's equity now; the equity of each that answered."""
        seen: dict[str, Decimal] = {}
        for name, connection in list(self.connections.items()):
            try:
                found = connection.equity()
            except TradeplayError as error:
                log.warning("equity_unavailable", environment=name, error=str(error))
                continue
            if found is None:
                found = self._local_equity(name)
            equity, wallet, unrealized = found
            seen[name] = equity
            self.records.equity.record(
                name,
                EquitySnapshot(
                    time=self.clock.now(),
                    equity=equity,
                    wallet_balance=wallet,
                    unrealized_pnl=unrealized,
                ),
            )
        return seen

    def _local_equity(self, environment: str) -> tuple[Decimal, Decimal, Decimal]:
        wallet = unrealized = Decimal(0)
        for key, worker in list(self.workers.items()):
            if key.environment == environment:
                wallet += worker.market.exchange.account().wallet_balance
                unrealized += worker.unrealized_pnl()
        return wallet + unrealized, wallet, unrealized

    # -- callbacks from the pairs' threads ---------------------------------------------------

    def _bar(self, pair: Pair, row: NDArray[np.float64]) -> None:
        worker = self.workers.get(pair.key)
        if worker is None:
            return
        if self.graduation is not None:
            self.graduation.bar(pair.key, row, lambda: worker.bar(row))
        else:
            worker.bar(row)

    def _stepped(self, pair: Pair, step: BarStep) -> None:
        worker = self.workers.get(pair.key)
        if worker is not None and worker.market.recorded.changed:
            worker.market.recorded.changed = False
            position = worker.market.exchange.position(pair.symbol)
            environment = pair.key.environment
            self.records.post(lambda records: records.positions.save(environment, position))
        if self.graduation is not None:
            self.graduation.stepped(pair.key, step)
        self.options.on_step(pair, step)

    def _health(self, pair: Pair, health: Health, detail: str, crashes: int) -> None:
        self.bus.publish(
            notify.HealthChanged(
                environment=pair.key.environment,
                time=self.clock.now(),
                component=str(pair.key),
                health=health,
                detail=detail,
                restarts=crashes,
            )
        )
        if health is Health.HALTED:
            reason = f"halted after {crashes} crashes: {detail}"
            self.lifecycle.move(pair, _S.EMERGENCY, reason)
            self.bus.publish(
                notify.EmergencyDeclared(
                    environment=pair.key.environment,
                    time=self.clock.now(),
                    reason=reason,
                    deployment=pair.key.play,
                )
            )

    def _stream_health(self, report: StreamHealth) -> None:
        """A shared market data stream failed or recovered: told to each environment reading
        it (its pairs wait for the bars; the stream re-syncs by itself)."""
        self.bus.publish(
            notify.HealthChanged(
                environment=report.environment,
                time=self.clock.now(),
                component=report.component,
                health=report.health,
                detail=report.detail,
            )
        )

    # -- the pipeline's hands (see tradeplay.runtime.graduating) -----------------------------

    def park(self, key: PairKey, reason: str) -> Flatten:
        worker = self.workers.get(key)
        self._flat_asked.pop(key, None)  # an answer from before this flatten is stale
        if worker is None and self._simulated(key):
            done = Flatten("not running: its simulated account went with it", flat=True)
        elif worker is None:
            done = Flatten("not running: nothing could be flattened", flat=False)
        else:
            done = flatten_outcome(worker.panic(), _FLATTEN_WAIT_S)
            worker.pause()
            if self.lifecycle.move(worker.pair, _S.PAUSED, reason):
                self.lifecycle.publish(notify.DeploymentPaused, worker.pair, reason=reason)
        if not done.flat:  # the operator has to know: a move waits for this pair
            self.bus.publish(
                notify.HealthChanged(
                    environment=key.environment,
                    time=self.clock.now(),
                    component=str(key),
                    health=Health.DEGRADED,
                    detail=f"pipeline move held, not flattened: {done}",
                )
            )
        return done

    def flat(self, key: PairKey) -> bool:
        """Asked at every poll while a move is held: a worker that does not answer within
        ``_FLAT_WAIT_S`` is not flat yet, and is asked no more until it answers."""
        worker = self.workers.get(key)
        if worker is None:
            return self._simulated(key)
        asked = self._flat_asked.get(key)
        if asked is None:
            asked = self._flat_asked[key] = worker.flat()
        try:
            answer = asked.result(timeout=_FLAT_WAIT_S)
        except FutureTimeout:
            return False
        except Exception:  # it could not tell: not known to be flat
            log.warning("pair_flat_unknown", pair=str(key), exc_info=True)
            answer = False
        del self._flat_asked[key]
        return answer

    def allot(self, key: PairKey, capital: Decimal) -> None:
        if key in self.workers:  # running: its guard and its account are there
            self.guards[key].allot(capital)

    def _simulated(self, key: PairKey) -> bool:
        """Whether ``key``'s account is a simulated one, which lives only with its worker."""
        environment = self.deployment.model.environments.get(key.environment)
        return environment is not None and environment.kind.local_fills

    def activate(self, key: PairKey, reason: str) -> None:
        self._flat_asked.pop(key, None)
        worker = self.workers.get(key)
        if worker is None:
            log.error("pipeline_pair_not_running", pair=str(key))
            return
        if self.lifecycle.state(worker.pair) is _S.EMERGENCY:
            log.error("pipeline_pair_in_emergency", pair=str(key), reason=reason)
            return  # halted: the operator's resume lifts it, not a promotion
        if self.lifecycle.move(worker.pair, _S.RUNNING, reason):
            worker.resume(afresh=True)
            self.lifecycle.publish(notify.DeploymentResumed, worker.pair)
