"""Write everything a trader gets after a run into one folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tradeplay.reports import tables
from tradeplay.reports.fingerprint import fingerprint
from tradeplay.reports.html import write_html
from tradeplay.reports.metrics import Metrics, compute_metrics
from tradeplay.reports.model import RunResult

__all__ = ["FILE_NAMES", "ReportFiles", "write_report"]

FILE_NAMES: Final = {
    "trades": "trades.csv",
    "orders": "orders.csv",
    "fills": "fills.csv",
    "equity": "equity.csv",
    "metrics": "metrics.json",
    "html": "report.html",
}


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where :func:`write_report` put each file, and what it computed on the way."""

    folder: Path
    trades: Path
    orders: Path
    fills: Path
    equity: Path
    metrics_json: Path
    html: Path
    metrics: Metrics
    """The statistics in the files; pass them to ``summary_rows`` for a terminal table."""
    fingerprint: str
    """SHA-256 of the run's fills (see :mod:`tradeplay.reports.fingerprint`)."""


def write_report(result: RunResult, out_dir: Path) -> ReportFiles:
    """Write the four CSV files, ``metrics.json`` and ``report.html`` into ``out_dir``.

    The folder is created if needed; files of an earlier report there are replaced, each
    atomically (a reader never sees half a file).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = compute_metrics(result)
    digest = fingerprint(result.fills)
    return ReportFiles(
        folder=out_dir,
        trades=tables.write_trades(result, out_dir / FILE_NAMES["trades"]),
        orders=tables.write_orders(result, out_dir / FILE_NAMES["orders"]),
        fills=tables.write_fills(result, out_dir / FILE_NAMES["fills"]),
        equity=tables.write_equity(result, out_dir / FILE_NAMES["equity"]),
        metrics_json=tables.write_metrics_json(
            result, metrics, digest, out_dir / FILE_NAMES["metrics"]
        ),
        html=write_html(result, metrics, digest, out_dir / FILE_NAMES["html"]),
        metrics=metrics,
        fingerprint=digest,
    )
