"""CSV files and metrics.json: read back with the csv / json modules, every value intact."""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.reports.builders import fill as make_fill
from tests.reports.builders import run, trade
from tradeplay.domain.values import OrderType
from tradeplay.reports.fingerprint import fingerprint
from tradeplay.reports.model import ExitReason, RunResult
from tradeplay.reports.report import FILE_NAMES, ReportFiles, write_report
from tradeplay.reports.tables import EQUITY_COLUMNS, FILL_COLUMNS, ORDER_COLUMNS, TRADE_COLUMNS

D = Decimal


def _traded_run(*, generated: bool = False) -> RunResult:
    trades = [
        trade("12.5", fees="0.11", funding="0.02", mae="1.5", mfe="14", held=timedelta(hours=3)),
        trade(
            "-4.25",
            side="short",
            entry="110",
            qty="0.5",
            fees="0.05",
            funding="-0.01",  # a short collected funding
            opened=timedelta(hours=5),
            reason=ExitReason.END_OF_DATA,
        ),
    ]
    fills = [
        make_fill(1, "buy", "1", "100", fee="0.055", ms=0),
        make_fill(2, "sell", "1", "112.63", fee="0.055", ms=3 * 3_600_000),
        make_fill(3, "sell", "0.5", "110", fee="0.05", ms=5 * 3_600_000 + 1),
    ]
    equity = [100.1, 103.37, 107.77, 112.5, 112.5, 112.4, 108.25]
    exposure = [100.1, 103.4, 107.8, 0.0, 0.0, -55.0, -57.0]
    return run(
        equity,
        trades=trades,
        fills=fills,
        position_value=exposure,
        generated=generated,
        config={"fast": 12, "risk": D("0.01"), "threshold": float("nan"), "tags": ("a", "b")},
    )


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture
def written(tmp_path: Path) -> tuple[RunResult, ReportFiles]:
    result = _traded_run()
    return result, write_report(result, tmp_path / "report")


def test_every_file_is_written_into_the_folder(written: tuple[RunResult, ReportFiles]) -> None:
    _, files = written
    names = sorted(path.name for path in files.folder.iterdir())
    assert names == sorted(FILE_NAMES.values())  # and no temporary file left behind
    assert files.trades.name == "trades.csv"
    assert files.html.name == "report.html"


def test_trades_csv_round_trips(written: tuple[RunResult, ReportFiles]) -> None:
    result, files = written
    header, rows = _read(files.trades)
    assert header == list(TRADE_COLUMNS)
    assert len(rows) == len(result.trades)
    for number, (row, original) in enumerate(zip(rows, result.trades, strict=True), start=1):
        assert row["trade"] == str(number)
        assert row["side"] == original.side
        assert datetime.fromisoformat(row["entry_time"]) == original.entry_time
        assert datetime.fromisoformat(row["exit_time"]) == original.exit_time
        for name in ("entry_price", "exit_price", "qty", "gross_pnl", "fees", "funding"):
            assert D(row[name]) == getattr(original, name), name
        assert D(row["net_pnl"]) == original.net_pnl
        assert float(row["return_pct"]) == original.return_pct
        assert D(row["mae_price"]) == original.mae_price
        assert float(row["mfe_pct"]) == original.mfe_pct
        assert int(row["bars_held"]) == original.bars_held
        assert float(row["holding_seconds"]) == original.holding_time.total_seconds()
        assert row["exit_reason"] == original.exit_reason
        assert row["data"] == "real"
    assert rows[0]["entry_time"] == "2024-01-01T00:00:00.000Z"
    assert rows[1]["exit_reason"] == "end_of_data"
    assert rows[1]["funding"] == "-0.01"


def test_fills_and_orders_csv_round_trip(written: tuple[RunResult, ReportFiles]) -> None:
    result, files = written
    header, rows = _read(files.fills)
    assert header == list(FILL_COLUMNS)
    assert len(rows) == 3
    for row, original in zip(rows, result.fills, strict=True):
        assert row["trade_id"] == original.trade_id
        assert (row["side"], row["liquidity"]) == (original.side, original.liquidity)
        assert D(row["qty"]) == original.qty
        assert D(row["price"]) == original.price
        assert D(row["fee"]) == original.fee
        assert D(row["value"]) == original.value
        assert datetime.fromisoformat(row["time"]) == original.time
    assert rows[2]["time"] == "2024-01-01T05:00:00.001Z"
    header, rows = _read(files.orders)
    assert header == list(ORDER_COLUMNS)
    assert len(rows) == 3
    assert rows[0]["order_type"] == OrderType.MARKET
    assert rows[0]["price"] == ""  # a market order has no limit price
    assert rows[0]["reduce_only"] == "false"
    assert (rows[0]["status"], D(rows[0]["avg_fill_price"])) == ("filled", D(100))


def test_equity_csv_round_trips_every_float(written: tuple[RunResult, ReportFiles]) -> None:
    result, files = written
    header, rows = _read(files.equity)
    assert header == list(EQUITY_COLUMNS)
    assert len(rows) == len(result.bars)
    assert [float(row["equity"]) for row in rows] == result.equity.equity.tolist()
    assert [float(row["position_value"]) for row in rows] == result.equity.position_value.tolist()
    assert rows[0]["bar_time"] == "2024-01-01T00:00:00.000Z"
    assert rows[1]["bar_time"] == "2024-01-01T01:00:00.000Z"
    assert float(rows[-1]["drawdown"]) == pytest.approx(1 - 108.25 / 112.5)
    assert float(rows[0]["drawdown"]) == 0.0


def _metrics_json(files: ReportFiles) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(files.metrics_json.read_text(encoding="utf-8"))
    return document


def test_metrics_json_holds_metrics_fingerprint_config_and_label(
    written: tuple[RunResult, ReportFiles],
) -> None:
    result, files = written
    document = _metrics_json(files)
    assert document["format"] == "tradeplay-metrics/1"
    assert document["fingerprint"] == fingerprint(result.fills) == files.fingerprint
    assert document["data"] == {
        "source": "download: bybit",
        "generated": False,
        "label": "real data — download: bybit",
    }
    assert (document["play"], document["symbol"], document["timeframe"]) == (
        "ema-cross",
        "BTCUSDT",
        "1h",
    )
    assert document["start"] == "2024-01-01T00:00:00.000Z"
    assert document["starting_capital"] == "100"
    assert document["counts"] == {"bars": 7, "trades": 2, "orders": 3, "fills": 3}
    # Decimals as strings, NaN as null, tuples as lists.
    assert document["config"] == {"fast": 12, "risk": "0.01", "threshold": None, "tags": ["a", "b"]}
    metrics = document["metrics"]
    assert metrics["trades"] == 2
    assert D(metrics["expectancy"]) == files.metrics.expectancy
    assert metrics["fees_paid"] == "0.16"
    assert metrics["average_holding"] == 2 * 3600.0  # seconds
    assert metrics["max_drawdown"] == pytest.approx(files.metrics.max_drawdown)


def test_an_empty_run_writes_valid_files_with_metrics_marked_not_applicable(
    tmp_path: Path,
) -> None:
    files = write_report(run([100.0] * 5), tmp_path)
    for path, columns in (
        (files.trades, TRADE_COLUMNS),
        (files.orders, ORDER_COLUMNS),
        (files.fills, FILL_COLUMNS),
    ):
        header, rows = _read(path)
        assert (header, rows) == (list(columns), [])
    assert len(_read(files.equity)[1]) == 5
    metrics = _metrics_json(files)["metrics"]
    for name in ("win_rate", "profit_factor", "expectancy", "average_holding", "sharpe"):
        assert metrics[name] is None, name
    assert metrics["trades"] == 0


def test_generated_data_is_marked_on_every_csv_row_and_in_the_json(tmp_path: Path) -> None:
    files = write_report(_traded_run(generated=True), tmp_path)
    for path in (files.trades, files.orders, files.fills, files.equity):
        _, rows = _read(path)
        assert rows, path.name
        assert {row["data"] for row in rows} == {"GENERATED"}, path.name
    document = _metrics_json(files)
    assert document["data"]["generated"] is True
    assert document["data"]["label"].startswith("GENERATED data")


def test_rewriting_a_report_replaces_the_old_files(tmp_path: Path) -> None:
    write_report(_traded_run(), tmp_path)
    files = write_report(run([100.0, 101.0]), tmp_path)
    assert _read(files.trades)[1] == []
    assert len(_read(files.equity)[1]) == 2


def test_same_run_same_bytes(tmp_path: Path) -> None:
    first = write_report(_traded_run(), tmp_path / "a")
    second = write_report(_traded_run(), tmp_path / "b")
    for name in FILE_NAMES.values():
        assert (first.folder / name).read_bytes() == (second.folder / name).read_bytes(), name
    assert not math.isnan(first.metrics.total_return)
