"""The metrics as (label, value) text pairs: the CLI's summary table and the report's table."""

from __future__ import annotations

from tradeplay.reports import _format as fmt
from tradeplay.reports.metrics import Metrics
from tradeplay.reports.model import DataLabel

__all__ = ["summary_rows"]


def _drawdown_dates(metrics: Metrics) -> str:
    if metrics.max_drawdown_peak is None:
        return fmt.NOT_APPLICABLE
    return " → ".join(
        (
            fmt.moment(metrics.max_drawdown_peak),
            fmt.moment(metrics.max_drawdown_trough),
            fmt.moment(metrics.max_drawdown_recovery, missing="not recovered"),
        )
    )


def _streak(count: int) -> str:
    return f"{count} trade" if count == 1 else f"{count} trades"


def _performance_rows(m: Metrics) -> list[tuple[str, str]]:
    cur = m.currency
    return [
        ("Starting capital", fmt.money(m.starting_capital, cur)),
        ("Final equity", fmt.money(m.final_equity, cur)),
        ("Net profit", fmt.money(m.net_profit, cur, signed=True)),
        ("Total return", fmt.percent(m.total_return, signed=True)),
        ("CAGR", fmt.percent(m.cagr, signed=True)),
        ("Volatility (annualised)", fmt.percent(m.volatility)),
        ("Sharpe ratio", fmt.ratio(m.sharpe)),
        ("Sortino ratio", fmt.ratio(m.sortino)),
        ("Calmar ratio", fmt.ratio(m.calmar)),
        ("Max drawdown", fmt.percent(m.max_drawdown)),
        ("Max drawdown peak → trough → recovery", _drawdown_dates(m)),
        ("Longest time under water", fmt.duration(m.max_drawdown_duration)),
        ("Exposure (bars in a position)", fmt.percent(m.exposure)),
    ]


def _trade_rows(m: Metrics) -> list[tuple[str, str]]:
    cur = m.currency
    return [
        ("Trades", f"{m.trades} ({m.wins} won, {m.losses} lost)"),
        ("Win rate", fmt.percent(m.win_rate)),
        ("Profit factor", fmt.ratio(m.profit_factor)),
        ("Expectancy per trade", fmt.money(m.expectancy, cur, signed=True)),
        ("Average win", fmt.money(m.average_win, cur, signed=True)),
        ("Average loss", fmt.money(m.average_loss, cur, signed=True)),
        ("Average holding time", fmt.duration(m.average_holding)),
        ("Longest losing streak", _streak(m.longest_losing_streak)),
        ("Fees paid", fmt.money(m.fees_paid, cur)),
        ("Funding paid", fmt.money(m.funding_paid, cur)),
    ]


def summary_rows(metrics: Metrics, data: DataLabel | None = None) -> list[tuple[str, str]]:
    """Every metric formatted for a trader: %, currency, durations; "n/a" where not applicable.

    With ``data``, the first row says where the bars came from (``GENERATED`` when synthetic).
    """
    rows = [("Data", data.text)] if data is not None else []
    return rows + _performance_rows(metrics) + _trade_rows(metrics)
