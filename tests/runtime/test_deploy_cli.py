"""The operator's commands around a deployment: keys, status, pause / resume / stop."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradeplay.cli import app
from tradeplay.store import Database, DeploymentState, EquitySnapshot, SecretCipher, default_url

SECRET = "s3cr3t-VALUE-never-shown-0123456789"
API_KEY = "AKEY-0123456789-WXYZ"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TRADEPLAY_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("TRADEPLAY_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADEPLAY_SECRET_KEY", SecretCipher.generate_key())
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def run(*args: str, given: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=given)
    return result.exit_code, result.output


def test_keys_are_added_listed_and_removed_without_showing_the_secret(home: Path) -> None:
    code, output = run("keys", "add", "bybit-demo", given=f"{API_KEY}\n{SECRET}\n")
    assert code == 0, output
    code, listed = run("keys", "list")
    assert code == 0
    assert "bybit-demo  ****WXYZ" in listed
    assert run("keys", "remove", "bybit-demo")[0] == 0
    code, missing = run("keys", "remove", "bybit-demo")
    assert code == 2
    assert "no API key named 'bybit-demo'" in missing
    for text in (output, listed, missing):
        assert SECRET not in text
        assert API_KEY not in text


def test_pause_moves_the_stored_state_and_status_shows_it(home: Path) -> None:
    now = datetime.now(UTC)
    database = Database.open(default_url(home))
    for env, play in (("demo", "ema"), ("demo", "rsi"), ("live", "ema")):
        database.deployments.register(env, play, play, Decimal(1000), now)
        database.deployments.move(env, play, DeploymentState.STARTING, now)
        database.deployments.move(env, play, DeploymentState.RUNNING, now)
    database.equity.record(
        "demo",
        EquitySnapshot(
            time=now, equity=Decimal(1010), wallet_balance=Decimal(1000), unrealized_pnl=Decimal(10)
        ),
    )
    database.close()
    code, output = run("pause", "demo")
    assert code == 0, output
    assert "ema@demo: paused" in output
    assert "rsi@demo: paused" in output
    assert "live" not in output
    code, status = run("status")
    assert code == 0, status
    assert "demo  equity 1010.00" in status
    assert "ema: paused" in status
    code, output = run("stop", "nothing")
    assert code == 2
    assert "no deployed play or environment is called 'nothing'" in output


def test_a_panic_with_nothing_running_is_kept_and_the_plays_are_halted(home: Path) -> None:
    now = datetime.now(UTC)
    database = Database.open(default_url(home))
    for env, play in (("demo", "ema"), ("live", "ema")):
        database.deployments.register(env, play, play, Decimal(1000), now)
    database.close()
    code, output = run("panic", "nowhere")
    assert code == 2
    assert "no deployed environment is called 'nowhere' (deployed: demo, live)" in output
    code, output = run("panic", "all", "--wait", "0.2")
    assert code == 3
    lines = output.splitlines()
    assert lines[0] == (
        "panic requested for demo, live: the running deployment applies it within about 1 s "
        "(waiting up to 0.2 s)"
    )
    assert lines[1].startswith("demo: not applied within 0.2 s: no running deployment took it.")
    assert "the next `tradeplay up` starts them halted" in output
    assert "\nlive: not applied within 0.2 s" in output
    database = Database.open(default_url(home))
    for env in ("demo", "live"):
        stored = database.deployments.get(env, "ema")
        assert stored is not None
        assert (stored.state, stored.reason) == (
            DeploymentState.EMERGENCY,
            "panic requested by the operator",
        )
        assert len(database.deployments.pending_panics(env)) == 1
    database.close()
    code, status = run("status")
    assert "ema: emergency (panic requested by the operator)" in status
