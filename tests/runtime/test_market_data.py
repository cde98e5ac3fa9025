"""Market data shared read-only: environments reading one source share one kline stream.

Demo, live (two accounts of one emulator) and paper all read the emulator's public stream: the
emulator sees one kline subscription per symbol, and every pair of every environment gets every
closed bar exactly once, in order — across a dropped socket, a silent stream, an environment
that fails to start and a panic.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.emulator.conftest import MINUTE, START_MS, wave_candles
from tests.runtime.emulated import deployment_on, wait_for_topics
from tradeplay.domain.events import OrderEvent
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.notify import Event, Health, HealthChanged, LocalBus
from tradeplay.ports import Exchange
from tradeplay.runtime.live import RunEnvironment
from tradeplay.runtime.market_data import MarketData, PublicSource, Reader, StreamHealth
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.runtime.runner import Market as PairMarket
from tradeplay.runtime.supervisor import Supervisor, SupervisorOptions, SystemClock
from tradeplay.store import Database, DeploymentState, default_url
from tradeplay.venues.bybit.config import BybitEndpoints, BybitEnvironment, VenueConfig
from tradeplay.venues.bybit.streams import Backoff

HISTORY = 240
SYMBOLS = ("BTCUSDT", "ETHUSDT")
KLINES = ["kline.1.BTCUSDT", "kline.1.ETHUSDT"]
PRIVATE = {"order", "execution", "position", "wallet"}
WAIT_S = 30.0
DEPLOYMENT = """\
schema_version: 1
name: shared
environments:
  demo: {kind: demo, api_key: "${DEMO_KEY}", api_secret: "${DEMO_SECRET}",
         emulator: "${EMULATOR}", capital: 10000}
  live: {kind: live, api_key: "${LIVE_KEY}", api_secret: "${LIVE_SECRET}",
         emulator: "${EMULATOR}", capital: 5000}
  paper: {kind: paper, emulator: "${EMULATOR}", capital: 10000}
plays:
  - {play: btc.yaml, name: btc, environments: all}
  - {play: eth.yaml, name: eth, environments: all}
"""
PAIRS = [PairKey(env, play) for env in ("demo", "live", "paper") for play in ("btc", "eth")]


def opens(count: int, first: int = 0) -> list[int]:
    """Open times of the live bars ``first`` … ``first + count - 1`` (0: the first after the
    history)."""
    return [START_MS + (HISTORY + i) * MINUTE for i in range(first, first + count)]


@pytest.fixture
def handle() -> Iterator[EmulatorThread]:
    candles = {bybit_linear(s): wave_candles(HISTORY + 40) for s in SYMBOLS}
    emulator = Emulator(
        Market.from_candles(candles, Timeframe.parse("1m")),
        [
            AccountSpec(name="demo", api_key="demo-key", secret="demo-secret"),
            AccountSpec(
                name="live", api_key="live-key", secret="live-secret", balance=Decimal(5000)
            ),
        ],
        EmulatorOptions(start_ms=START_MS + HISTORY * MINUTE, enforce_rate_limits=False),
    )
    with EmulatorThread(emulator) as running:
        yield running


class Bars:
    """The open time of every bar each pair's market took, in order; lets the test wait."""

    def __init__(self) -> None:
        self.taken: dict[PairKey, list[int]] = defaultdict(list)
        self.writable: list[bool] = []
        self._changed = threading.Condition()

    def took(self, key: PairKey, row: NDArray[np.float64]) -> None:
        if row[0] < opens(1)[0]:
            return  # a warm-up bar (a simulated account sees the history too)
        with self._changed:
            self.taken[key].append(int(row[0]))
            self.writable.append(bool(row.flags.writeable))
            self._changed.notify_all()

    def wait(self, keys: Sequence[PairKey], count: int) -> None:
        with self._changed:
            done = self._changed.wait_for(
                lambda: all(len(self.taken[k]) >= count for k in keys), WAIT_S
            )
        assert done, f"not every pair took {count} bars: {dict(self.taken)}"


class SeenMarket:
    """A pair's market that tells :class:`Bars` of each bar (``fail`` instead: it cannot even
    be built, like a pair whose start fails)."""

    def __init__(self, inner: PairMarket, key: PairKey, bars: Bars) -> None:
        self._inner, self._key, self._bars = inner, key, bars

    @property
    def exchange(self) -> Exchange:
        return self._inner.exchange

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        self._bars.took(self._key, row)
        return self._inner.on_bar(row)


def supervisor_for(
    tmp_path: Path,
    handle: EmulatorThread,
    bars: Bars,
    seen: list[Event],
    failing: PairKey | None = None,
) -> tuple[Supervisor, Database]:
    deployment = deployment_on(tmp_path, handle.url, DEPLOYMENT, SYMBOLS)

    def decorate(pair: Pair, market: PairMarket) -> PairMarket:
        if pair.key == failing:
            raise RuntimeError("injected: this environment cannot start")
        return SeenMarket(market, pair.key, bars)

    bus = LocalBus()
    bus.subscribe(seen.append, HealthChanged)
    database = Database.open(default_url(tmp_path))
    options = SupervisorOptions(decorate_market=decorate)
    return Supervisor(deployment, database, bus, SystemClock(), options), database


def kline_subscriptions(handle: EmulatorThread) -> list[str]:
    """Every public topic subscription the emulator holds, one entry per socket and topic."""
    connections = handle.emulator.streams.connections
    return handle.call(lambda: sorted(t for c in connections if not c.private for t in c.topics))


def wait_until(condition: Callable[[], bool], message: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def stream_health(seen: list[Event]) -> dict[tuple[str, str], list[Health]]:
    """What each environment was told of each shared stream, in order."""
    told: dict[tuple[str, str], list[Health]] = defaultdict(list)
    for event in list(seen):
        if isinstance(event, HealthChanged) and event.component.startswith("market data"):
            told[event.environment, event.component].append(event.health)
    return dict(told)


def told_recovered(seen: list[Event]) -> bool:
    told = stream_health(seen)
    topics = {component for _, component in told}
    everyone = {
        (env, topic): [Health.DEGRADED, Health.OK]
        for env in ("demo", "live", "paper")
        for topic in topics
    }
    return bool(topics) and told == everyone


def test_demo_live_shadow_and_paper_read_mainnet_and_testnet_reads_its_own() -> None:
    def source(kind: RunEnvironment, emulator: str | None = None) -> PublicSource:
        endpoints = None if emulator is None else BybitEndpoints.local(emulator)
        return PublicSource.of(VenueConfig(environment=kind.venue, endpoints=endpoints))

    mainnet = PublicSource("https://api.bybit.com", "wss://stream.bybit.com/v5/public/linear")
    testnet = PublicSource(
        "https://api-testnet.bybit.com", "wss://stream-testnet.bybit.com/v5/public/linear"
    )
    assert {kind: source(kind) for kind in RunEnvironment} == {
        RunEnvironment.SHADOW: mainnet,
        RunEnvironment.PAPER: mainnet,
        RunEnvironment.DEMO: mainnet,
        RunEnvironment.TESTNET: testnet,
        RunEnvironment.LIVE: mainnet,
    }
    local = "http://127.0.0.1:8080"
    emulated = PublicSource("http://127.0.0.1:8080", "ws://127.0.0.1:8080/v5/public/linear")
    assert {source(kind, local) for kind in RunEnvironment} == {emulated}  # one server
    assert source(RunEnvironment.DEMO).config(60.0).credentials is None


def test_three_environments_share_one_kline_stream_per_symbol_across_a_dropped_socket(
    tmp_path: Path, handle: EmulatorThread
) -> None:
    bars, seen = Bars(), list[Event]()
    supervisor, database = supervisor_for(tmp_path, handle, bars, seen)
    supervisor.start()
    try:
        wait_for_topics(handle, set(KLINES) | PRIVATE)
        assert kline_subscriptions(handle) == KLINES  # not one per environment: six
        for count in range(1, 4):
            assert handle.step() == 1
            bars.wait(PAIRS, count)
        assert handle.drop_connections() > 0
        assert handle.step() == 1  # while every socket is down: the re-sync brings it
        bars.wait(PAIRS, 4)
        wait_for_topics(handle, set(KLINES) | PRIVATE)
        for count in range(5, 8):
            assert handle.step() == 1
            bars.wait(PAIRS, count)
        assert kline_subscriptions(handle) == KLINES
        # A topic whose socket dropped while it was not waiting for a message just
        # resubscribes on its next read (and fills its gap from REST): only the topics that
        # noticed are reported — to every environment reading them, drop and recovery.
        wait_until(lambda: told_recovered(seen), f"not told: {stream_health(seen)}")
    finally:
        supervisor.stop("test over")
        database.close()
    assert {key: bars.taken[key] for key in PAIRS} == {key: opens(7) for key in PAIRS}
    assert not any(bars.writable), "a shared bar must be read-only"


def test_an_environment_that_fails_and_one_that_panics_leave_the_others_bars_flowing(
    tmp_path: Path, handle: EmulatorThread
) -> None:
    """``live`` fails to start after its BTC pair joined the shared streams (which already
    run for ``demo``): it leaves them, and they go on. Then ``demo`` panics: its pairs are
    frozen but still take every bar, and so does ``paper``."""
    bars, seen = Bars(), list[Event]()
    failing = PairKey("live", "eth")
    supervisor, database = supervisor_for(tmp_path, handle, bars, seen, failing)
    supervisor.start()
    flowing = [key for key in PAIRS if key.environment != "live"]
    try:
        assert sorted(supervisor.connections) == ["demo", "paper"]
        wait_for_topics(handle, set(KLINES) | PRIVATE)
        assert kline_subscriptions(handle) == KLINES
        for count in range(1, 4):
            assert handle.step() == 1
            bars.wait(flowing, count)
        supervisor.panic("demo")
        for count in range(4, 7):
            assert handle.step() == 1
            bars.wait(flowing, count)
        states = {(d.environment, d.name): d.state for d in database.deployments.all()}
    finally:
        supervisor.stop("test over")
        database.close()
    assert {key: bars.taken[key] for key in PAIRS} == {
        key: [] if key.environment == "live" else opens(6) for key in PAIRS
    }
    assert states == {
        ("demo", "btc"): DeploymentState.EMERGENCY,
        ("demo", "eth"): DeploymentState.EMERGENCY,
        ("live", "btc"): DeploymentState.STOPPED,
        ("live", "eth"): DeploymentState.STOPPED,
        ("paper", "btc"): DeploymentState.RUNNING,
        ("paper", "eth"): DeploymentState.RUNNING,
    }
    assert stream_health(seen) == {}  # the shared streams never failed


class Rows:
    """What one reader of the hub received, in order."""

    def __init__(self) -> None:
        self.opens: list[int] = []
        self._changed = threading.Condition()

    def __call__(self, row: NDArray[np.float64]) -> None:
        with self._changed:
            self.opens.append(int(row[0]))
            self._changed.notify_all()

    def wait(self, count: int) -> None:
        with self._changed:
            done = self._changed.wait_for(lambda: len(self.opens) >= count, WAIT_S)
        assert done, f"only {self.opens} arrived"


def emulator_source(handle: EmulatorThread) -> PublicSource:
    endpoints = BybitEndpoints.local(handle.url)
    return PublicSource.of(VenueConfig(environment=BybitEnvironment.DEMO, endpoints=endpoints))


def test_a_reader_joining_a_running_stream_continues_its_own_history(
    handle: EmulatorThread,
) -> None:
    """``late`` joins when the stream has passed on three bars and its socket swallowed a
    fourth that REST already knows: its warm-up ends with that bar, and it gets only the bars
    after it — while ``early`` gets the swallowed bar from the gap fill."""
    minute = Timeframe.parse("1m")
    hub = MarketData()
    source = emulator_source(handle)
    faults = handle.emulator.faults
    try:
        first, second = Rows(), Rows()
        early = hub.subscribe(source, "BTCUSDT", minute, Reader(environment="a", name="early"))
        warm = early.history(5)
        early.start(first)
        wait_for_topics(handle, {"kline.1.BTCUSDT"})
        for count in range(1, 4):
            assert handle.step() == 1
            first.wait(count)
        faults.set_stale(True)
        assert handle.step() == 1
        late = hub.subscribe(source, "BTCUSDT", minute, Reader(environment="b", name="late"))
        caught_up = late.history(5)
        late.start(second)
        faults.set_stale(False)
        for count in range(5, 7):
            assert handle.step() == 1
            first.wait(count)
            second.wait(count - 4)
        assert hub.topics() == {source: ["kline.1.BTCUSDT"]}
        assert kline_subscriptions(handle) == ["kline.1.BTCUSDT"]
    finally:
        hub.close()
    assert [int(t) for t in warm[:, 0]] == opens(5, first=-5)
    assert [int(t) for t in caught_up[:, 0]] == opens(5, first=-1)
    assert first.opens == opens(6)
    assert second.opens == opens(2, first=4)


def test_a_silent_stream_is_reconnected_and_every_reader_is_told(handle: EmulatorThread) -> None:
    """The heartbeat: bars published while the socket swallowed everything are re-read over
    REST once the stream has been silent for ``stale_after_s``; each environment reading it
    hears of the loss and of the recovery."""
    minute = Timeframe.parse("1m")
    told: list[StreamHealth] = []
    hub = MarketData(on_health=told.append, stale_after_s=1.0, backoff=Backoff(0.05, 0.2))
    source = emulator_source(handle)
    readers = {env: Rows() for env in ("demo", "live")}
    try:
        for env, rows in readers.items():
            shared = hub.subscribe(source, "ETHUSDT", minute, Reader(environment=env, name=env))
            shared.history(3)
            shared.start(rows)
        wait_for_topics(handle, {"kline.1.ETHUSDT"})
        assert handle.step() == 1
        handle.emulator.faults.set_stale(True)
        assert handle.step(2) == 2  # swallowed: the socket stays open and says nothing
        handle.emulator.faults.set_stale(False)
        for rows in readers.values():
            rows.wait(3)
        wait_until(lambda: len(told) >= 4, f"not told: {told}")
    finally:
        hub.close()
    assert {env: rows.opens for env, rows in readers.items()} == {
        "demo": opens(3),
        "live": opens(3),
    }
    assert [(t.environment, t.component, t.health) for t in told[:4]] == [
        ("demo", "market data kline.1.ETHUSDT", Health.DEGRADED),
        ("live", "market data kline.1.ETHUSDT", Health.DEGRADED),
        ("demo", "market data kline.1.ETHUSDT", Health.OK),
        ("live", "market data kline.1.ETHUSDT", Health.OK),
    ]
