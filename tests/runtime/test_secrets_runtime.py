"""No secret leaves the runtime: a whole ``tradeplay up`` at debug level, with one environment
trading on a stored key and another refused for a wrong secret, shows neither an API secret nor
a full API key in its logs, its errors, its database files or the operator's CLI output.

The deployment runs in a process of its own (as an operator runs it) against a stepped emulator
in this one; it stops on SIGINT, as on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.emulator.conftest import MINUTE, START_MS, wave_candles
from tests.runtime.emulated import wait_for_topics, wave_play
from tradeplay.cli import app
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.store import SecretCipher

DEMO_KEY, DEMO_SECRET = "AKdemo7f3Q9xLm2Rz8Kp", "SKdemo-p4W8nB2vQ7zX1cR5tY9uJ3hL6"
LIVE_KEY, LIVE_SECRET = "AKlive5e1T7yHn4Wq2Zs", "SKlive-m8D2kF6gH1jK9lZ3xC5vB7nM4"
WRONG_SECRET = "SKwrong-q1W2e3R4t5Y6u7I8o9P0aSdF"
SECRETS = (DEMO_SECRET, LIVE_SECRET, WRONG_SECRET, DEMO_KEY, LIVE_KEY)
HISTORY, LIVE_BARS = 240, 70
DEPLOYMENT = """\
schema_version: 1
name: secrets
environments:
  demo: {{kind: demo, credentials: demo-keys, emulator: "{url}", capital: 10000}}
  testnet: {{kind: testnet, api_key: "${{T_KEY}}", api_secret: "${{T_SECRET}}",
            emulator: "{url}", capital: 1000}}
plays:
  - {{play: wave.yaml, name: wave, environments: all}}
"""


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    candles = {bybit_linear("BTCUSDT"): wave_candles(HISTORY + LIVE_BARS + 20)}
    emulator = Emulator(
        Market.from_candles(candles, Timeframe.parse("1m")),
        [
            AccountSpec(name="demo", api_key=DEMO_KEY, secret=DEMO_SECRET),
            AccountSpec(name="live", api_key=LIVE_KEY, secret=LIVE_SECRET),
        ],
        EmulatorOptions(start_ms=START_MS + HISTORY * MINUTE, enforce_rate_limits=False),
    )
    with EmulatorThread(emulator) as handle:
        yield handle


@pytest.fixture
def environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "TRADEPLAY_DATA_HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TRADEPLAY_SECRET_KEY": SecretCipher.generate_key(),
        "T_KEY": LIVE_KEY,
        "T_SECRET": WRONG_SECRET,  # the key of another account with a wrong secret: refused
        "COLUMNS": "200",
    }
    monkeypatch.delenv("TRADEPLAY_CONFIG", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **values}


def cli(*args: str, given: str | None = None) -> str:
    result = CliRunner().invoke(app, list(args), input=given)
    assert result.exit_code == 0, result.output
    return result.output


def test_secrets_never_leave_the_runtime(
    emulator: EmulatorThread, environ: dict[str, str], tmp_path: Path
) -> None:
    said = [cli("keys", "add", "demo-keys", given=f"{DEMO_KEY}\n{DEMO_SECRET}\n")]
    (tmp_path / "wave.yaml").write_text(wave_play())
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(DEPLOYMENT.format(url=emulator.url))
    command = [sys.executable, "-m", "tradeplay", "--log-level", "debug", "--log-format"]
    runtime = subprocess.Popen(
        [*command, "json", "up", str(deployment)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_topics(emulator, {"kline.1.BTCUSDT", "order", "execution", "position"})
        for _ in range(LIVE_BARS):
            emulator.step()
            time.sleep(0.03)
        time.sleep(1.0)
        runtime.send_signal(signal.SIGINT)
        logs, _ = runtime.communicate(timeout=60)
    finally:
        runtime.kill()
    said += [cli("status"), cli("keys", "list")]

    # The run did what it is meant to: the demo pair traded, the testnet environment was refused.
    demo_orders = emulator.call(lambda: emulator.emulator.venue.books[DEMO_KEY].slots)
    assert any(slot.sim.orders() for slot in demo_orders.values()), logs[-3000:]
    assert "environment_failed" in logs
    assert '"path": "/v5/order/create", "ret_code": 0' in logs  # requests logged at debug
    assert "****" in said[-1]

    stored = b"".join(
        path.read_bytes() for path in (tmp_path / "home").rglob("*") if path.is_file()
    )
    assert stored, "the runtime wrote nothing under its data home"
    for secret in SECRETS:
        assert secret not in logs, f"{secret[:6]}… in the runtime's logs"
        assert all(secret not in text for text in said), f"{secret[:6]}… in CLI output"
        assert secret.encode() not in stored, f"{secret[:6]}… in the data home in clear"
