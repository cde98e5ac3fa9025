"""Two environments on two accounts of one emulator, in one process: what happens in one
leaves the other's account and records untouched.

``demo`` runs a BTC and an ETH play, ``live`` the BTC play. The emulator is stepped one bar at
a time; after each step the test waits until every healthy pair took it. The ETH play's market
fails at every bar from the 20th on: it is rebuilt twice and then halted alone. Then ``demo``
panics: its orders are cancelled and its position closed, while ``live`` keeps its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.emulator.conftest import MINUTE, START_MS, wave_candles
from tests.runtime.emulated import Steps, deployment_on, wait_for_topics
from tradeplay.domain.events import OrderEvent
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.notify import Event, HealthChanged, LocalBus
from tradeplay.notify import Health as HealthState
from tradeplay.ports import Exchange
from tradeplay.runtime.pairs import PairKey
from tradeplay.runtime.runner import DECISIONS_KEPT
from tradeplay.runtime.runner import Market as PairMarket
from tradeplay.runtime.supervisor import Supervisor, SupervisorOptions, SystemClock
from tradeplay.runtime.worker import HealthPolicy
from tradeplay.store import Database, DeploymentState, default_url

HISTORY = 240
LIVE_BARS = 70
CRASH_FROM = 20
DEPLOYMENT = """\
schema_version: 1
name: isolation
environments:
  demo: {kind: demo, api_key: "${DEMO_KEY}", api_secret: "${DEMO_SECRET}",
         emulator: "${EMULATOR}", capital: 10000}
  live: {kind: live, api_key: "${LIVE_KEY}", api_secret: "${LIVE_SECRET}",
         emulator: "${EMULATOR}", capital: 5000}
plays:
  - {play: btc.yaml, name: btc, environments: all}
  - {play: eth.yaml, name: eth, environments: demo}
"""
BTC_ETH = ("BTCUSDT", "ETHUSDT")


class FailingMarket:
    """A market whose every bar from ``from_ms`` on raises (a bug in one pair's step)."""

    def __init__(self, inner: PairMarket, from_ms: int) -> None:
        self._inner = inner
        self._from_ms = from_ms

    @property
    def exchange(self) -> Exchange:
        return self._inner.exchange

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        if row[0] >= self._from_ms:
            raise RuntimeError("injected fault")
        return self._inner.on_bar(row)


@pytest.fixture
def emulator() -> Iterator[tuple[EmulatorThread, Emulator]]:
    candles = {bybit_linear(s): wave_candles(HISTORY + LIVE_BARS + 20) for s in BTC_ETH}
    eth = candles[bybit_linear("ETHUSDT")]
    scaled = type(eth).from_columns(
        ts=eth.ts,
        open=eth.open / 20,
        high=eth.high / 20,
        low=eth.low / 20,
        close=eth.close / 20,
        volume=eth.volume,
    )
    candles[bybit_linear("ETHUSDT")] = scaled
    emulator = Emulator(
        Market.from_candles(candles, Timeframe.parse("1m")),
        [
            AccountSpec(name="demo", api_key="demo-key", secret="demo-secret"),
            AccountSpec(name="live", api_key="live-key", secret="live-secret", balance=5000),
        ],
        EmulatorOptions(start_ms=START_MS + HISTORY * MINUTE, enforce_rate_limits=False),
    )
    with EmulatorThread(emulator) as handle:
        yield handle, emulator


def account(handle: EmulatorThread, emulator: Emulator, key: str) -> tuple[object, ...]:
    """What the emulator holds for one account: every order and fill, and each position."""

    def read() -> tuple[object, ...]:
        slots = emulator.venue.books[key].slots
        return tuple(
            (
                s,
                tuple(slots[s].sim.orders()),
                tuple(slots[s].sim.fills()),
                slots[s].sim.position(s).size,
            )
            for s in sorted(slots)
        )

    return handle.call(read)


def test_a_crash_and_a_panic_in_demo_leave_live_untouched(
    tmp_path: Path, emulator: tuple[EmulatorThread, Emulator]
) -> None:
    handle, venue = emulator
    deployment = deployment_on(tmp_path, handle.url, DEPLOYMENT, BTC_ETH)
    database = Database.open(default_url(tmp_path))
    bus, seen = LocalBus(), []
    bus.subscribe(seen.append)
    steps = Steps()
    options = SupervisorOptions(
        policy=HealthPolicy(max_crashes=3, backoff_s=0.0),
        decorate_market=lambda pair, market: (
            FailingMarket(market, START_MS + (HISTORY + CRASH_FROM) * MINUTE)
            if pair.key.play == "eth"
            else market
        ),
        on_step=steps,
    )
    supervisor = Supervisor(deployment, database, bus, SystemClock(), options)
    supervisor.start()
    try:
        run(supervisor, handle, steps, seen)
        panic_demo(supervisor, handle, venue, database)
    finally:
        supervisor.stop("test over")
        database.close()
    states = {(d.environment, d.name): d.state for d in database.deployments.all()}
    assert states == {  # an emergency outlives the run: the operator resumes or stops it
        ("demo", "btc"): DeploymentState.EMERGENCY,
        ("demo", "eth"): DeploymentState.EMERGENCY,
        ("live", "btc"): DeploymentState.STOPPED,
    }


def run(supervisor: Supervisor, handle: EmulatorThread, steps: Steps, seen: list[Event]) -> None:
    topics = {f"kline.1.{s}" for s in BTC_ETH} | {"order", "execution", "position", "wallet"}
    wait_for_topics(handle, topics)
    healthy = [PairKey("demo", "btc"), PairKey("live", "btc")]
    for bar in range(1, LIVE_BARS + 1):
        assert handle.step() == 1
        steps.wait(healthy, bar)
    health = [(e.component, e.health) for e in seen if isinstance(e, HealthChanged)]
    assert health.count(("eth@demo", HealthState.RESTARTING)) == 2
    assert ("eth@demo", HealthState.HALTED) in health
    stored = {(d.environment, d.name): d for d in supervisor.records.deployments.all()}
    assert stored["demo", "eth"].state is DeploymentState.EMERGENCY
    assert "halted after 3 crashes" in stored["demo", "eth"].reason
    assert stored["demo", "btc"].state is DeploymentState.RUNNING
    assert stored["live", "btc"].state is DeploymentState.RUNNING


def panic_demo(
    supervisor: Supervisor, handle: EmulatorThread, venue: Emulator, database: Database
) -> None:
    """Demo's panic cancels its orders at once and closes its position at the next bar (a
    market order meets the next bar in the stepped emulator); live's account and records are
    exactly as they were, and the next bar only brings live what its own orders do."""
    live_before = account(handle, venue, "live-key")
    live_orders = stored_orders(database, "live")
    assert live_orders, "the live play never traded: the test proves nothing"
    assert database.fills.since("live", EPOCH)
    demo_btc = supervisor.workers[PairKey("demo", "btc")]
    # A deployment runs for months: its engines keep a window of their decisions, not all.
    assert demo_btc.runner is not None
    assert demo_btc.runner.engine.config.keep_decisions == DECISIONS_KEPT
    closing = demo_btc.market.exchange.position("BTCUSDT").size
    assert closing != 0, "demo holds no position to close: the test proves nothing"
    assert not supervisor.flat(PairKey("demo", "btc"))  # what a held pipeline move asks
    supervisor.panic("demo")
    wait_until(lambda: closes_demo(handle, venue, closing), "demo's orders were not cancelled")
    assert account(handle, venue, "live-key") == live_before
    assert stored_orders(database, "live") == live_orders
    handle.step()
    wait_until(lambda: demo_flat(handle, venue), "demo was not flattened at the next bar")
    wait_until(lambda: supervisor.flat(PairKey("demo", "btc")), "demo's pair does not see it flat")
    cancelled = [o for o in stored_orders(database, "live") if o.status is OrderStatus.CANCELLED]
    assert cancelled == [o for o in live_orders if o.status is OrderStatus.CANCELLED]
    stored = {(d.environment, d.name): d.state for d in database.deployments.all()}
    assert stored["demo", "btc"] is DeploymentState.EMERGENCY
    assert stored["live", "btc"] is DeploymentState.RUNNING


EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def stored_orders(database: Database, environment: str) -> list[Order]:
    return database.orders.changed_since(environment, EPOCH)


def closes_demo(handle: EmulatorThread, venue: Emulator, size: Decimal) -> bool:
    """Only the reduce-only close of the whole position is open in demo."""
    slot = venue.venue.books["demo-key"].slots["BTCUSDT"]
    working = handle.call(lambda: list(slot.sim.open_orders()))
    return [(o.reduce_only, o.qty) for o in working] == [(True, abs(size))]


def demo_flat(handle: EmulatorThread, venue: Emulator) -> bool:
    slots = venue.venue.books["demo-key"].slots
    return handle.call(
        lambda: all(
            not s.sim.open_orders() and s.sim.position(name).size == 0 for name, s in slots.items()
        )
    )


def wait_until(condition: Callable[[], bool], message: str) -> None:
    pause = threading.Event()
    for _ in range(100):
        if condition():
            return
        pause.wait(0.1)
    pytest.fail(message)
