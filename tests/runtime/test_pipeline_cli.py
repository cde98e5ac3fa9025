"""``tradeplay pipeline``: status against the thresholds, the operator's moves, the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.runtime.test_pipeline import PASSED, WINNING, Clock, record
from tradeplay.cli import app
from tradeplay.data.sample import ensure_sample_market
from tradeplay.data.store import CandleStore
from tradeplay.domain.values import utc_from_ms
from tradeplay.graduation import Ladder, Stage
from tradeplay.runtime.pipeline import Pipeline
from tradeplay.settings import Settings
from tradeplay.store import Database, default_url

PLAYS = Path(__file__).resolve().parents[2] / "plays"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TRADEPLAY_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("TRADEPLAY_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["pipeline", *args])
    return result.exit_code, result.output


def test_status_promote_demote_and_history(home: Path) -> None:
    assert run("status") == (0, "no play in the pipeline yet\n")
    database = Database.open(default_url(home))
    clock = Clock()
    clock.time = datetime.now(UTC) - timedelta(days=1)
    pipeline = Pipeline(database.graduations, Ladder(), clock)
    pipeline.enter("ema", Stage.SHADOW)
    clock.time += timedelta(hours=20)
    pipeline.judge(record(Stage.SHADOW, clock, WINNING, 4), PASSED, live_safety=True)
    database.close()

    code, status = run("status")
    assert code == 0, status
    lines = status.splitlines()
    assert lines[0] == "ema  shadow  entered 1.0 days ago  share 100 %"
    assert lines[1].endswith(" UTC: days 2 (needs ≥ 7); trades 4 (needs ≥ 10)")
    assert lines[2:] == [
        "    days 2 (needs ≥ 7)",
        "    psr 0.996 (needs ≥ 0.6)",
        "    return_percent 2.424 (needs ≥ 0)",
        "    trades 4 (needs ≥ 10)",
        "    parity holds over 500 bars, 20 orders and 20 fills",
    ]

    code, moved = run("promote", "ema", "--reason", "seen enough")
    assert (code, moved) == (0, "ema: shadow → demo, share 100 %\n")
    database = Database.open(default_url(home))
    pipeline = Pipeline(database.graduations, Ladder(), clock)
    pipeline.hold("ema", "shadow", pipeline.stored("ema"))  # its flatten failed
    database.close()
    code, status = run("status")
    assert code == 0, status
    assert status.splitlines()[:2] == [
        "ema  demo  entered 0.0 days ago  share 100 %",
        "  held: not flat in shadow when it moved; trades nowhere until it is (close it at the "
        "venue, or `tradeplay panic shadow`: halts every play there)",
    ]
    code, released = run("release", "ema", "--reason", "closed at the venue")
    assert (code, released) == (
        0,
        "ema: released; it trades in demo from a running deployment's next bar\n",
    )
    code, status = run("status")
    assert code == 0, status
    assert status.splitlines()[0] == "ema  demo  entered 0.0 days ago  share 100 %"
    assert "held" not in status
    code, refused = run("release", "ema", "--reason", "again")
    assert code == 2
    assert "ema is not held: it trades in demo already" in refused
    code, history = run("history", "ema")
    assert code == 0
    held, promoted, released = history.splitlines()
    assert released.endswith(
        "  release  demo → demo, share 100 %: operator: closed at the venue (flat in shadow)"
    )
    assert held.endswith(
        "  hold  shadow → shadow, share 100 %: days 2 (needs ≥ 7); trades 4 (needs ≥ 10)"
    )
    assert promoted.endswith("  promote  shadow → demo, share 100 %: operator: seen enough")

    code, refused = run("demote", "rsi", "--reason", "no")
    assert code == 2
    assert "no play called 'rsi' is in the pipeline (in it: ema)" in refused
    code, missing = run("demote", "ema")
    assert code == 2
    assert "--reason" in missing


def test_the_backtest_stage_is_judged_on_bars_the_play_was_not_tuned_on(
    home: Path, tmp_path: Path
) -> None:
    """The default ladder starts at backtest: a graduating play is judged there on the stored
    (here: the generated sample) bars from ``--from`` on, and the decision is stored."""
    settings = Settings()
    market = ensure_sample_market(CandleStore(settings.store_root))
    first = utc_from_ms(int(market.first_ms))
    deployment = tmp_path / "deploy.yaml"
    deployment.write_text(
        f"""\
schema_version: 1
name: ladder
environments:
  shadow: {{kind: shadow, capital: 1000}}
plays:
  - {{play: {PLAYS / "ema_cross.yaml"}, name: ema, environments: pipeline}}
pipeline: {{stages: [backtest, shadow]}}
"""
    )
    start = (first + timedelta(days=45)).strftime("%Y-%m-%d")
    code, said = run("backtest", "ema", "--deployment", str(deployment), "--from", start)
    assert code == 0, said
    assert said.startswith("ema: "), said
    history = Database.open(default_url(home))
    try:
        decisions = history.graduations.history("ema")
    finally:
        history.close()
    assert [d.from_stage for d in decisions] == ["backtest"]
    assert decisions[0].metrics["days"] > 0
    assert decisions[0].metrics["parity"].startswith("parity holds")
    code, refused = run("backtest", "nope", "--deployment", str(deployment), "--from", start)
    assert code != 0
    assert "no graduating play called 'nope'" in refused
