"""The command line: tables for data, one clear line and an exit code for every expected error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tradeplay.cli import app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TRADEPLAY_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("TRADEPLAY_DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "home"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _real_csv(shared_data: Path, name: str, target: Path) -> Path:
    table = pq.read_table(shared_data / f"{name}.parquet")
    columns = [
        table.column(c).to_pylist() for c in ("ts", "open", "high", "low", "close", "volume")
    ]
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [",".join(str(v) for v in row) for row in zip(*columns, strict=True)]
    target.write_text("\n".join(lines) + "\n")
    return target


def test_an_empty_store_says_how_to_get_data(home: Path) -> None:
    code, output = run("data", "list")
    assert code == 0
    assert "No market data" in output
    assert "tradeplay quickstart" in output


def test_offline_quickstart_generates_the_sample_market_and_says_so(home: Path) -> None:
    code, output = run("quickstart", "--offline")
    assert code == 0, output
    assert "generated sample market" in output
    assert "not real" in output
    code, listing = run("data", "list")
    assert code == 0
    assert "sample" in listing
    assert "BTCUSDT" in listing
    assert "GENERATED" in listing
    assert "funding" in listing


def test_resample_and_info_work_on_the_sample_market(home: Path) -> None:
    run("quickstart", "--offline")
    code, output = run("data", "resample", "BTCUSDT", "--exchange", "sample", "--to", "1h")
    assert code == 0, output
    assert "1h" in output
    code, output = run("data", "info", "BTCUSDT", "--exchange", "sample", "-t", "1h")
    assert code == 0, output
    assert "2,160" in output  # 90 days of hourly bars
    assert "YES: synthetic prices" in output


def test_import_refuses_gaps_by_default_then_fills_on_request(
    home: Path, tmp_path: Path, shared_data: Path
) -> None:
    csv = _real_csv(shared_data, "binancespot_BTCUSDT_1h", tmp_path / "spot.csv")
    common = ("data", "import", str(csv), "--symbol", "BTCUSDT", "--exchange", "binancespot")
    code, output = run(*common, "-t", "1h")
    assert code == 2
    assert "spot.csv" in output
    assert "no_gaps" in output
    assert "Traceback" not in output
    code, output = run(*common, "-t", "1h", "--gaps", "leave")
    assert code == 0, output
    code, output = run("data", "gaps", "BTCUSDT", "--exchange", "binancespot", "-t", "1h")
    assert code == 0, output
    assert "27 gaps" in output


def test_a_broken_file_is_refused_with_file_row_and_rule(home: Path, tmp_path: Path) -> None:
    csv = tmp_path / "broken.csv"
    csv.write_text(
        "timestamp,open,high,low,close,volume\n"
        "1704067200000,100,101,99,100.5,3\n"
        "1704067260000,100.5,100.0,99,100.8,2\n"
    )
    code, output = run("data", "import", str(csv), "--symbol", "BTCUSDT", "-t", "1m")
    assert code == 2
    assert "broken.csv" in output
    assert "row 2" in output
    assert "high" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("data", "info", "BTCUSDT", "-t", "1x"), "timeframe '1x' is not understood"),
        (("data", "info", "BTCUSDT", "--exchange", "nowhere"), "nowhere"),
        (("data", "import", "missing.csv", "--symbol", "BTCUSDT"), "missing.csv: no such file"),
        (("data", "download", "BTCUSDT", "--since", "yesterday"), "--since 'yesterday' is not"),
    ],
)
def test_bad_input_is_one_clear_error_line(
    home: Path, args: tuple[str, ...], expected: str
) -> None:
    code, output = run(*args)
    assert code == 2
    assert "error:" in output
    assert expected in output
    assert "Traceback" not in output


def test_the_console_script_module_starts_and_shows_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tradeplay", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "quickstart" in result.stdout
    assert "data" in result.stdout


PLAYS = Path(__file__).resolve().parent.parent / "plays"


def test_play_check_explains_what_was_validated(home: Path) -> None:
    code, output = run("play", "check", str(PLAYS / "ema_cross.yaml"))
    assert code == 0, output
    assert "ok — EMA cross" in output
    assert "warm-up: 26 bars of 1h" in output


def test_play_show_prints_features_warmup_and_rules(home: Path) -> None:
    code, output = run("play", "show", str(PLAYS / "multi_timeframe.yaml"))
    assert code == 0, output
    assert "ema(period=50, source=close) on 4h" in output
    assert "crosses_above(fast, slow)" in output


def test_a_broken_play_is_every_problem_with_line_and_column_and_exit_code_2(
    home: Path, tmp_path: Path
) -> None:
    play = tmp_path / "bad.yaml"
    play.write_text(
        "schema_version: 1\nsymbol: BTCUSDT\ntimeframe: 1h\n"
        "features:\n  fast: {kind: emaa, period: 12}\n"
        "long:\n  entry: crosses_above(fast, close[1]\n  exit: close < 0\n"
    )
    code, output = run("play", "check", str(play))
    assert code == 2
    assert "bad.yaml, line 5: features.fast.kind: unknown feature 'emaa' (did you mean 'ema'?)" in (
        output
    )
    assert "line 7: long.entry, column 29: expected ')'" in output
    assert "close[1]" in output  # quoted as written, not eaten as markup
    assert "Traceback" not in output


NEVER = """\
schema_version: 1
name: never
symbol: BTCUSDT
timeframe: 1h
features:
  fast: {kind: ema, period: 5}
long:
  entry: fast < 0
  exit: fast > 0
"""


def test_quickstart_backtests_the_example_play_and_writes_the_report(home: Path) -> None:
    code, output = run("quickstart", "--offline")
    assert code == 0, output
    assert "EMA cross — BTCUSDT 1h" in output
    assert "GENERATED data" in output
    folder = home / "runs" / "ema_cross"
    for name in ("trades.csv", "orders.csv", "fills.csv", "equity.csv", "metrics.json"):
        assert (folder / name).is_file(), name
    html = (folder / "report.html").read_text()
    assert "GENERATED" in html
    # The sample market is 1-minute bars: the hourly run follows each hour's exact path.
    assert "exact path of its 1-minute candles" in (folder / "metrics.json").read_text()
    assert '<script src="http' not in html


def test_a_backtest_that_never_trades_fails_the_quality_gate_unless_allowed(
    home: Path, tmp_path: Path
) -> None:
    run("quickstart", "--offline")
    play = tmp_path / "never.yaml"
    play.write_text(NEVER)
    code, output = run("backtest", str(play), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "quality gate failed: the play never traded" in output
    code, output = run("backtest", str(play), "--allow-no-trades", "--out", str(tmp_path / "o2"))
    assert code == 0, output


def test_a_backtest_with_no_capital_fails_the_quality_gate(home: Path) -> None:
    run("quickstart", "--offline")
    code, output = run("backtest", str(PLAYS / "ema_cross.yaml"), "--capital", "0")
    assert code == 2
    assert "quality gate failed: starting capital 0 is not positive" in output


def test_two_runs_of_the_same_backtest_have_the_same_fingerprint(
    home: Path, tmp_path: Path
) -> None:
    run("quickstart", "--offline")
    prints = []
    for folder in ("a", "b"):
        code, output = run(
            "backtest",
            str(PLAYS / "rsi_mean_reversion.yaml"),
            "--symbol",
            "BTCUSDT",
            "--out",
            str(tmp_path / folder),
        )
        assert code == 0, output
        prints.append(next(line for line in output.splitlines() if line.startswith("fingerprint")))
    assert prints[0] == prints[1]
