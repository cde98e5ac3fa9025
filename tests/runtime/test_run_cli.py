"""``tradeplay run``: the guard rails a trader meets before a play trades, and a short paper run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.emulator.conftest import KEY, MINUTE, SECRET, START_MS, make_emulator
from tests.runtime.emulated import wait_for_topics
from tradeplay.cli import app
from tradeplay.emulator import EmulatorThread

PLAY = Path(__file__).resolve().parents[2] / "bench" / "plays" / "ema_20_50_long_1m.yaml"


@pytest.fixture
def quiet_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DEMO", "TESTNET", "LIVE"):
        for part in ("API_KEY", "API_SECRET", "SECRET"):
            monkeypatch.delenv(f"BYBIT_{name}_{part}", raising=False)
    monkeypatch.delenv("CONFIRM_LIVE_TRADING", raising=False)
    monkeypatch.setenv("TRADEPLAY_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    # 300 bars of history: enough to warm the play up (the preflight asks for 200).
    with EmulatorThread(make_emulator(start_ms=START_MS + 300 * MINUTE)) as handle:
        yield handle


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", str(PLAY), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.usefixtures("quiet_env")
def test_live_needs_the_flag_and_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = invoke("--env", "live")
    assert code == 2
    assert "pass --confirm and set CONFIRM_LIVE_TRADING=true" in output
    monkeypatch.setenv("CONFIRM_LIVE_TRADING", "true")
    code, output = invoke("--env", "live")  # the variable alone is not enough
    assert code == 2
    assert "pass --confirm" in output


@pytest.mark.usefixtures("quiet_env")
def test_a_venue_environment_without_keys_says_which_variables_to_set() -> None:
    code, output = invoke("--env", "demo")
    assert code == 2
    assert "BYBIT_DEMO_API_KEY and BYBIT_DEMO_API_SECRET" in output


@pytest.mark.usefixtures("quiet_env")
def test_keys_of_another_account_fail_the_preflight(
    emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BYBIT_DEMO_API_KEY", "not-a-key-here")
    monkeypatch.setenv("BYBIT_DEMO_API_SECRET", "whatever")
    code, output = invoke("--env", "demo", "--emulator", emulator.url, "--bars", "1")
    assert code == 2
    assert "✓ venue reachable" in output
    assert "✗ keys valid for demo" in output
    assert "is it another environment's key?" in output
    assert "- warm-up history: not checked" in output


@pytest.mark.usefixtures("quiet_env")
@pytest.mark.parametrize("env", ["paper", "shadow", "demo"])
def test_a_short_run_prints_its_checklist_and_its_bars(
    env: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BYBIT_DEMO_API_KEY", KEY)
    monkeypatch.setenv("BYBIT_DEMO_API_SECRET", SECRET)
    stepper = threading.Thread(target=step_when_listening, args=(emulator, 3))
    stepper.start()
    code, output = invoke("--env", env, "--emulator", emulator.url, "--bars", "3")
    stepper.join(timeout=30)
    assert code == 0, output
    assert "✓ warm-up history: 200 bars of 1m" in output
    assert ("✓ keys valid for demo" in output) == (env == "demo")
    assert "stopped after 3 bars" in output
    assert output.count(" bar ") == 3


def step_when_listening(emulator: EmulatorThread, bars: int) -> None:
    wait_for_topics(emulator, {"kline.1.BTCUSDT"})
    time.sleep(0.3)  # a venue account's private topics subscribe alongside
    for _ in range(bars):
        emulator.step()
        time.sleep(0.2)
