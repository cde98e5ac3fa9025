"""``tradeplay up`` with ``TRADEPLAY_REDIS_URL``: the deployment's events reach another
process's subscriber through Redis; an unreachable Redis stops it at once, saying where —
without the password."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.emulator.conftest import MINUTE, START_MS, wave_candles
from tests.notify.test_redis_bus import Collector
from tests.runtime.emulated import wave_play
from tradeplay import services
from tradeplay.cli import app
from tradeplay.domain.errors import TemporaryError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.notify import DeploymentStarted, DeploymentStopped, Event
from tradeplay.notify.redis_bus import RedisBus
from tradeplay.settings import Settings

HISTORY = 240
UNREACHABLE = "redis://:s3cret@127.0.0.1:1/0"
DEPLOYMENT = """\
schema_version: 1
name: redis
environments:
  {environment}: {{kind: paper, emulator: "{url}", capital: 10000}}
plays:
  - {{play: wave.yaml, name: wave, environments: all}}
"""


@pytest.fixture
def emulator_url() -> Iterator[str]:
    candles = {bybit_linear("BTCUSDT"): wave_candles(HISTORY + 20)}
    emulator = Emulator(
        Market.from_candles(candles, Timeframe.parse("1m")),
        [],
        EmulatorOptions(start_ms=START_MS + HISTORY * MINUTE, enforce_rate_limits=False),
    )
    with EmulatorThread(emulator) as handle:
        yield handle.url


def deployment_file(folder: Path, environment: str, url: str) -> Path:
    (folder / "wave.yaml").write_text(wave_play())
    path = folder / "deploy.yaml"
    path.write_text(DEPLOYMENT.format(environment=environment, url=url))
    return path


def test_up_publishes_its_lifecycle_to_redis(
    tmp_path: Path, redis_url: str, emulator_url: str
) -> None:
    """Another process's bus (its own connection) hears the pair start and stop. The
    environment's name is this run's own: the channel is shared with every other run."""
    environment = f"paper-{uuid.uuid4().hex[:8]}"
    path = deployment_file(tmp_path, environment, emulator_url)
    settings = Settings(data_home=tmp_path / "home", redis_url=redis_url)
    heard = Collector()
    stop = threading.Event()
    failed: list[BaseException] = []

    def up() -> None:
        try:
            services.up_deployment(settings, path, {}, confirm=False, stop=stop)
        except BaseException as error:  # reported by the test below
            failed.append(error)

    with RedisBus.connect(redis_url) as listener:
        listener.subscribe(
            lambda e: heard(e) if e.environment == environment else None,
            DeploymentStarted,
            DeploymentStopped,
        )
        runner = threading.Thread(target=up, daemon=True)
        runner.start()
        heard.wait_for(1)  # running: now stop it
        stop.set()
        runner.join(timeout=30)
        events = heard.wait_for(2)
    assert not runner.is_alive(), "up did not stop"
    assert failed == []
    assert [lifecycle(e) for e in events] == [
        ("DeploymentStarted", environment, "wave", ""),
        ("DeploymentStopped", environment, "wave", "the supervisor stopped"),
    ]


def lifecycle(event: Event) -> tuple[str, str, str, str]:
    assert isinstance(event, DeploymentStarted | DeploymentStopped)
    reason = event.reason if isinstance(event, DeploymentStopped) else ""
    return type(event).__name__, event.environment, event.deployment, reason


def test_up_stops_at_once_when_its_redis_is_unreachable(tmp_path: Path) -> None:
    path = deployment_file(tmp_path, "paper", "http://127.0.0.1:9")
    settings = Settings(data_home=tmp_path / "home", redis_url=UNREACHABLE)
    with pytest.raises(TemporaryError) as raised:
        services.up_deployment(settings, path, {}, confirm=False, stop=threading.Event())
    assert str(raised.value) == (
        "the event bus's Redis at redis://:***@127.0.0.1:1/0 is not reachable "
        "(ConnectionError); start it, or unset TRADEPLAY_REDIS_URL to keep the events in this "
        "process"
    )
    assert not (tmp_path / "home").exists(), "nothing may start before the bus is there"


def test_the_up_command_names_the_unreachable_redis_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = deployment_file(tmp_path, "paper", "http://127.0.0.1:9")
    monkeypatch.setenv("TRADEPLAY_REDIS_URL", UNREACHABLE)
    monkeypatch.setenv("TRADEPLAY_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["up", str(path)])
    assert result.exit_code == 3, result.output
    assert "redis://:***@127.0.0.1:1/0 is not reachable" in result.output
    assert "s3cret" not in result.output
