"""The emergency protocol and ``tradeplay panic`` through the real adapter: two environments on
two accounts of one emulator. An emergency or a panic in one leaves the other's account and
records untouched; it outlives a restart; a panic asked for while nothing runs is applied by
the next start, before anything trades.

``demo`` has a drawdown limit of 0.001 %, so the fee of its first fill breaches it; ``live`` has
no limit. The emulator is stepped one bar at a time; the test polls the supervisor after each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import structlog
from click.testing import Result
from typer.testing import CliRunner

from tests.emulator.conftest import START_MS, wave_candles
from tests.runtime.emulated import Steps, deployment_on, wait_for_topics
from tests.runtime.test_supervisor_isolation import (
    EPOCH,
    account,
    stored_orders,
    wait_until,
)
from tradeplay.cli import app
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.notify import EmergencyDeclared, Event, LocalBus, RiskBreached
from tradeplay.runtime.deployment import Deployment
from tradeplay.runtime.pairs import PairKey
from tradeplay.runtime.supervisor import Supervisor, SupervisorOptions, SystemClock
from tradeplay.store import Database, DeploymentState, default_url

HISTORY = 240
DEPLOYMENT = """\
schema_version: 1
name: safety
environments:
  demo: {kind: demo, api_key: "${DEMO_KEY}", api_secret: "${DEMO_SECRET}",
         emulator: "${EMULATOR}", capital: 10000, risk: {max_drawdown_percent: 0.001}}
  live: {kind: live, api_key: "${LIVE_KEY}", api_secret: "${LIVE_SECRET}",
         emulator: "${EMULATOR}", capital: 5000}
plays:
  - {play: btc.yaml, name: btc, environments: all}
"""
TOPICS = {"kline.1.BTCUSDT", "order", "execution", "position", "wallet"}
DEMO, LIVE = PairKey("demo", "btc"), PairKey("live", "btc")


@pytest.fixture
def emulator() -> Iterator[tuple[EmulatorThread, Emulator]]:
    candles = {bybit_linear("BTCUSDT"): wave_candles(HISTORY + 200)}
    emulator = Emulator(
        Market.from_candles(candles, Timeframe.parse("1m")),
        [
            AccountSpec(name="demo", api_key="demo-key", secret="demo-secret"),
            AccountSpec(name="live", api_key="live-key", secret="live-secret", balance=5000),
        ],
        EmulatorOptions(start_ms=START_MS + HISTORY * 60_000, enforce_rate_limits=False),
    )
    with EmulatorThread(emulator) as handle:
        yield handle, emulator


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TRADEPLAY_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("TRADEPLAY_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "300")
    return tmp_path / "home"


def deployment(folder: Path, handle: EmulatorThread, text: str = DEPLOYMENT) -> Deployment:
    return deployment_on(folder, handle.url, text, ("BTCUSDT",))


def started(plan: Deployment, database: Database, bus: LocalBus, steps: Steps) -> Supervisor:
    supervisor = Supervisor(plan, database, bus, SystemClock(), SupervisorOptions(on_step=steps))
    supervisor.start()
    return supervisor


def state(database: Database, key: PairKey) -> DeploymentState:
    stored = database.deployments.get(key.environment, key.play)
    assert stored is not None
    return stored.state


def test_a_drawdown_emergency_in_demo_leaves_live_trading_and_outlives_a_restart(
    home: Path, emulator: tuple[EmulatorThread, Emulator]
) -> None:
    handle, venue = emulator
    plan = deployment(home.parent, handle)
    database = Database.open(default_url(home))
    bus, seen = LocalBus(), list[Event]()
    bus.subscribe(seen.append)
    steps = Steps()
    supervisor = started(plan, database, bus, steps)
    try:
        wait_for_topics(handle, TOPICS)
        for bar in range(1, 120):
            assert handle.step() == 1
            steps.wait([DEMO, LIVE], bar)
            live_before = account(handle, venue, "live-key")
            live_orders = stored_orders(database, "live")
            supervisor.poll()
            if state(database, DEMO) is DeploymentState.EMERGENCY:
                break
        else:
            pytest.fail("demo never breached its drawdown limit")
        # The protocol ran inside that poll: live's account and records did not move.
        assert account(handle, venue, "live-key") == live_before
        assert stored_orders(database, "live") == live_orders
        assert state(database, LIVE) is DeploymentState.RUNNING
        (event,) = database.risk_events.since("demo", EPOCH)
        assert (event.rule, event.action, event.threshold) == (
            "max_drawdown",
            "emergency",
            Decimal("0.001"),
        )
        told = [type(e).__name__ for e in seen if isinstance(e, RiskBreached | EmergencyDeclared)]
        assert told == ["RiskBreached", "EmergencyDeclared"]
        (declared,) = [e for e in seen if isinstance(e, EmergencyDeclared)]
        assert "closing " in declared.reason, declared.reason  # demo held a position to close
        assert database.risk_events.since("live", EPOCH) == []
        handle.step()
        wait_until(lambda: demo_is_flat(handle, venue), "demo was not flattened at the next bar")
        frozen = account(handle, venue, "demo-key")
        halted_at = bar + 1
        for later in range(halted_at + 1, halted_at + 11):  # demo stays halted, live trades on
            assert handle.step() == 1
            steps.wait([LIVE], later)
            supervisor.poll()
        assert account(handle, venue, "demo-key") == frozen
        assert stored_orders(database, "live") != live_orders, "live stopped trading"
    finally:
        supervisor.stop("test over")
    again = started(plan, database, bus, steps)
    try:
        assert state(database, DEMO) is DeploymentState.EMERGENCY
        assert again.workers[DEMO].trading is False
        assert state(database, LIVE) is DeploymentState.RUNNING
    finally:
        again.stop("test over")
        database.close()


def demo_is_flat(handle: EmulatorThread, venue: Emulator) -> bool:
    slot = venue.venue.books["demo-key"].slots["BTCUSDT"]
    return handle.call(
        lambda: not slot.sim.open_orders() and slot.sim.position("BTCUSDT").size == 0
    )


def test_tradeplay_panic_is_applied_by_the_running_deployment_or_else_by_the_next_start(
    home: Path, emulator: tuple[EmulatorThread, Emulator]
) -> None:
    handle, venue = emulator
    plan = deployment(
        home.parent, handle, DEPLOYMENT.replace(", risk: {max_drawdown_percent: 0.001}", "")
    )
    database = Database.open(default_url(home))
    steps = Steps()
    supervisor = started(plan, database, LocalBus(), steps)
    done = threading.Event()
    try:
        wait_for_topics(handle, TOPICS)
        bar = 0
        while not live_position(handle, venue):
            bar += 1
            assert bar < 120, "live never opened a position: the test proves nothing"
            assert handle.step() == 1
            steps.wait([DEMO, LIVE], bar)
        demo_before = account(handle, venue, "demo-key")
        poller = threading.Thread(target=poll_until, args=(supervisor, done), daemon=True)
        poller.start()
        result = command("panic", "live", "--wait", "20")
        done.set()
        poller.join()
        assert result.exit_code == 0, result.output
        # The supervisor's threads log into the same captured stdout: the command's lines.
        lines = [line for line in result.output.splitlines() if not line.startswith("{")]
        assert lines[0] == (
            "panic requested for live: the running deployment applies it within about 1 s "
            "(waiting up to 20 s)"
        )
        size = live_position(handle, venue)
        assert lines[1].startswith("live: applied at ")
        assert lines[1].endswith(f"btc@live: 0 orders cancelled, closing {abs(size)} BTCUSDT")
        assert account(handle, venue, "demo-key") == demo_before
        assert state(database, LIVE) is DeploymentState.EMERGENCY
        assert state(database, DEMO) is DeploymentState.RUNNING
    finally:
        done.set()
        supervisor.stop("test over")

    result = command("panic", "demo", "--wait", "0.4")
    assert result.exit_code == 3
    assert "demo: not applied within 0.4 s: no running deployment took it" in result.output
    assert state(database, DEMO) is DeploymentState.EMERGENCY
    again = started(plan, database, LocalBus(), steps)
    try:
        (request,) = database.deployments.panics("demo")
        assert request.applied_at is not None
        assert request.detail.startswith("btc@demo: ")
        assert again.workers[DEMO].trading is False
    finally:
        again.stop("test over")
        database.close()


def command(*args: str) -> Result:
    """A CLI command in this process. It logs errors only, to a stream closed once it is done;
    logging is then reset, since the supervisor's threads go on logging."""
    try:
        return CliRunner().invoke(app, ["--log-level", "error", *args])
    finally:
        structlog.reset_defaults()


def live_position(handle: EmulatorThread, venue: Emulator) -> Decimal:
    slot = venue.venue.books["live-key"].slots["BTCUSDT"]
    return handle.call(lambda: slot.sim.position("BTCUSDT").size)


def poll_until(supervisor: Supervisor, done: threading.Event) -> None:
    while not done.wait(0.2):
        supervisor.poll()
