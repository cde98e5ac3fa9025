"""summary_rows: every metric formatted for a trader, "n/a" where it does not apply."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.reports.builders import run, trade
from tradeplay.reports import _format as fmt
from tradeplay.reports.metrics import compute_metrics
from tradeplay.reports.model import DataLabel
from tradeplay.reports.summary import summary_rows


def test_a_traded_run_reads_like_a_trader_writes_it() -> None:
    trades = [trade("30", held=timedelta(hours=2)), trade("-10", held=timedelta(hours=4))]
    result = run([110, 99, 121, 121], timeframe="1d", trades=trades)
    rows = dict(summary_rows(compute_metrics(result)))
    assert rows["Starting capital"] == "100.00 USDT"
    assert rows["Final equity"] == "121.00 USDT"
    assert rows["Net profit"] == "+21.00 USDT"
    assert rows["Total return"] == "+21.00 %"
    assert rows["Max drawdown"] == "10.00 %"
    assert rows["Max drawdown peak → trough → recovery"] == (
        "2024-01-02 00:00 UTC → 2024-01-03 00:00 UTC → 2024-01-04 00:00 UTC"
    )
    assert rows["Longest time under water"] == "2d 00h 00m"
    assert rows["Trades"] == "2 (1 won, 1 lost)"
    assert rows["Win rate"] == "50.00 %"
    assert rows["Profit factor"] == "3.00"
    assert rows["Expectancy per trade"] == "+10.00 USDT"
    assert rows["Average loss"] == "-10.00 USDT"
    assert rows["Average holding time"] == "3h 00m"
    assert rows["Longest losing streak"] == "1 trade"
    assert "Data" not in rows


def test_an_empty_run_shows_not_applicable_instead_of_numbers() -> None:
    rows = dict(summary_rows(compute_metrics(run([100.0] * 10))))
    for label in ("Win rate", "Profit factor", "Expectancy per trade", "Average holding time"):
        assert rows[label] == "n/a", label
    assert (rows["Sharpe ratio"], rows["Sortino ratio"], rows["Calmar ratio"]) == ("n/a",) * 3
    assert rows["Total return"] == "+0.00 %"
    assert rows["Max drawdown peak → trough → recovery"] == "n/a"
    assert rows["Trades"] == "0 (0 won, 0 lost)"
    assert rows["Longest losing streak"] == "0 trades"


def test_the_data_label_comes_first_when_given() -> None:
    metrics = compute_metrics(run([100.0, 101.0], generated=True))
    rows = summary_rows(metrics, DataLabel("generated sample market (seed 7)", generated=True))
    assert rows[0] == ("Data", "GENERATED data — generated sample market (seed 7)")


def test_an_unrecovered_drawdown_says_so() -> None:
    rows = dict(summary_rows(compute_metrics(run([120, 90], timeframe="1d"))))
    assert rows["Max drawdown peak → trough → recovery"].endswith("→ not recovered")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(seconds=42), "42s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=5, seconds=30), "5m 30s"),
        (timedelta(hours=4, minutes=5), "4h 05m"),
        (timedelta(days=3, hours=4, minutes=5), "3d 04h 05m"),
        (None, "n/a"),
    ],
)
def test_durations(value: timedelta | None, text: str) -> None:
    assert fmt.duration(value) == text


def test_percent_and_money() -> None:
    assert fmt.percent(0.123456) == "12.35 %"
    assert fmt.percent(-0.05, signed=True) == "-5.00 %"
    assert fmt.percent(float("nan")) == "n/a"
    assert fmt.money(1234.5, "USDT") == "1,234.50 USDT"
    assert fmt.ratio(None) == "n/a"
