"""The run as files: ``trades.csv``, ``orders.csv``, ``fills.csv``, ``equity.csv``, metrics JSON.

Every file is written atomically (a reader sees it complete or not at all) and keeps every digit:
``Decimal`` values without exponent or trailing zeros, floats as their shortest round-tripping
text, times ISO-8601 UTC with milliseconds (``2024-05-01T13:00:00.000Z``), empty cells for
nothing. Every CSV ends with a ``data`` column, ``GENERATED`` or ``real`` on each row, so a
spreadsheet of synthetic trades cannot pass for real ones.

Columns (one row per item, in the run's order):

``trades.csv``
    ``trade`` (1-based number), ``symbol``, ``side`` (long / short), ``entry_time``,
    ``exit_time``, ``entry_price``, ``exit_price``, ``qty``, ``gross_pnl``, ``fees``,
    ``funding``, ``net_pnl`` (fees and funding positive = paid), ``return_pct`` (net PnL over
    entry notional, a fraction), ``mae_price``, ``mae_pct``, ``mfe_price``, ``mfe_pct``
    (excursions as non-negative distances and fractions of the entry price), ``bars_held``,
    ``holding_seconds``, ``exit_reason``, ``data``.
``orders.csv``
    ``client_order_id``, ``order_id``, ``symbol``, ``side``, ``order_type``, ``qty``, ``price``
    (limit price), ``trigger_price``, ``time_in_force``, ``reduce_only``, ``status``,
    ``filled_qty``, ``avg_fill_price``, ``fees``, ``created_at``, ``updated_at``, ``reason``,
    ``data``.
``fills.csv``
    ``trade_id``, ``order_id``, ``client_order_id``, ``symbol``, ``side``, ``qty``, ``price``,
    ``value`` (qty × price), ``fee`` (positive = paid), ``fee_currency``, ``liquidity``,
    ``time``, ``data``.
``equity.csv``
    ``bar_time`` (the bar's open time), then the values marked at that bar's close: ``equity``,
    ``cash``, ``position_value`` (signed notional, 0 when flat), ``drawdown`` (positive
    fraction below the running peak), ``data``.
``metrics.json``
    ``format``, ``play``, ``symbol``, ``timeframe``, ``start``, ``end``, ``currency``,
    ``starting_capital``, ``data`` (``source``, ``generated``, ``label``), ``fingerprint``,
    ``counts`` (bars, trades, orders, fills), ``metrics`` (every field of
    :class:`~tradeplay.reports.metrics.Metrics`), ``config``. Decimals are strings, NaN and
    "not applicable" are ``null``, durations are seconds, times ISO-8601 UTC.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Final

import numpy as np

from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order
from tradeplay.reports import _format as fmt
from tradeplay.reports._atomic import atomic_text
from tradeplay.reports.metrics import Metrics, drawdown_series
from tradeplay.reports.model import RunResult, TradeRecord

__all__ = [
    "EQUITY_COLUMNS",
    "FILL_COLUMNS",
    "METRICS_FORMAT",
    "ORDER_COLUMNS",
    "TRADE_COLUMNS",
    "jsonable",
    "write_equity",
    "write_fills",
    "write_metrics_json",
    "write_orders",
    "write_trades",
]

METRICS_FORMAT: Final = "tradeplay-metrics/1"

TRADE_COLUMNS: Final = (
    "trade", "symbol", "side", "entry_time", "exit_time", "entry_price", "exit_price", "qty",
    "gross_pnl", "fees", "funding", "net_pnl", "return_pct", "mae_price", "mae_pct", "mfe_price",
    "mfe_pct", "bars_held", "holding_seconds", "exit_reason", "data",
)  # fmt: skip
ORDER_COLUMNS: Final = (
    "client_order_id", "order_id", "symbol", "side", "order_type", "qty", "price",
    "trigger_price", "time_in_force", "reduce_only", "status", "filled_qty", "avg_fill_price",
    "fees", "created_at", "updated_at", "reason", "data",
)  # fmt: skip
FILL_COLUMNS: Final = (
    "trade_id", "order_id", "client_order_id", "symbol", "side", "qty", "price", "value", "fee",
    "fee_currency", "liquidity", "time", "data",
)  # fmt: skip
EQUITY_COLUMNS: Final = ("bar_time", "equity", "cash", "position_value", "drawdown", "data")


def _data_word(result: RunResult) -> str:
    return "GENERATED" if result.data.generated else "real"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    # newline="" as the csv module asks; it writes \r\n line ends, as RFC 4180 says.
    with atomic_text(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _trade_row(number: int, trade: TradeRecord, data: str) -> list[str]:
    values: list[object] = [
        number, trade.symbol, trade.side, trade.entry_time, trade.exit_time, trade.entry_price,
        trade.exit_price, trade.qty, trade.gross_pnl, trade.fees, trade.funding, trade.net_pnl,
        trade.return_pct, trade.mae_price, trade.mae_pct, trade.mfe_price, trade.mfe_pct,
        trade.bars_held, trade.holding_time.total_seconds(), trade.exit_reason, data,
    ]  # fmt: skip
    return [fmt.exact_text(value) for value in values]


def write_trades(result: RunResult, path: Path) -> Path:
    data = _data_word(result)
    rows = (_trade_row(n, trade, data) for n, trade in enumerate(result.trades, start=1))
    return _write_csv(path, TRADE_COLUMNS, rows)


def _order_row(order: Order, data: str) -> list[str]:
    values: list[object] = [
        order.client_order_id, order.order_id, order.symbol, order.side, order.order_type,
        order.qty, order.price, order.trigger_price, order.time_in_force, order.reduce_only,
        order.status, order.filled_qty, order.avg_fill_price, order.fees, order.created_at,
        order.updated_at, order.reason, data,
    ]  # fmt: skip
    return [fmt.exact_text(value) for value in values]


def write_orders(result: RunResult, path: Path) -> Path:
    data = _data_word(result)
    return _write_csv(path, ORDER_COLUMNS, (_order_row(order, data) for order in result.orders))


def _fill_row(fill: Fill, data: str) -> list[str]:
    values: list[object] = [
        fill.trade_id, fill.order_id, fill.client_order_id, fill.symbol, fill.side, fill.qty,
        fill.price, fill.value, fill.fee, fill.fee_currency, fill.liquidity, fill.time, data,
    ]  # fmt: skip
    return [fmt.exact_text(value) for value in values]


def write_fills(result: RunResult, path: Path) -> Path:
    data = _data_word(result)
    return _write_csv(path, FILL_COLUMNS, (_fill_row(fill, data) for fill in result.fills))


def write_equity(result: RunResult, path: Path) -> Path:
    """One row per bar; built column-wise, a million bars take a couple of seconds."""
    curve = result.equity
    start = float(result.starting_capital)
    # Drawdown against the running peak, the starting capital included (as in the metrics).
    drawdown = drawdown_series(np.concatenate(([start], curve.equity)))[1:]
    columns = (
        fmt.iso_times(curve.ts),
        map(repr, curve.equity.tolist()),  # finite: EquityCurve checks it
        map(fmt.exact_text, curve.cash.tolist()),
        map(fmt.exact_text, curve.position_value.tolist()),
        map(repr, drawdown.tolist()),
        [_data_word(result)] * len(curve),
    )
    return _write_csv(path, EQUITY_COLUMNS, zip(*columns, strict=False))


# ------------------------------------------------------------------------------ JSON


# How each kind of scalar becomes JSON, checked in order.
_JSON_SCALARS: Final[tuple[tuple[type | tuple[type, ...], Callable[[Any], Any]], ...]] = (
    ((bool, int, str, type(None)), lambda value: value),
    (float, lambda value: value if math.isfinite(value) else None),
    (Decimal, lambda value: fmt.exact_text(value) if value.is_finite() else None),
    (datetime, fmt.iso_time),
    (timedelta, lambda value: value.total_seconds()),
)


def jsonable(value: object) -> Any:
    """``value`` as plain JSON types: Decimal → string, NaN / inf → null, durations → seconds.

    Enums become their value, numpy scalars and arrays their Python values, anything else
    unknown its ``str()``.
    """
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    for kinds, convert in _JSON_SCALARS:
        if isinstance(value, kinds):
            return convert(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return jsonable(value.tolist())
    return str(value)


def metrics_document(result: RunResult, metrics: Metrics, fingerprint: str) -> dict[str, Any]:
    """What ``metrics.json`` holds (see the module docstring)."""
    counts = {
        "bars": len(result.bars),
        "trades": len(result.trades),
        "orders": len(result.orders),
        "fills": len(result.fills),
    }
    data = {"source": result.data.source, "generated": result.data.generated}
    document = {
        "format": METRICS_FORMAT,
        "play": result.play,
        "symbol": result.symbol,
        "timeframe": result.timeframe,
        "start": result.start,
        "end": result.end,
        "currency": result.currency,
        "starting_capital": result.starting_capital,
        "data": {**data, "label": result.data.text},
        "fingerprint": fingerprint,
        "counts": counts,
        "metrics": asdict(metrics),
        "config": result.config,
    }
    converted: dict[str, Any] = jsonable(document)
    return converted


def write_metrics_json(result: RunResult, metrics: Metrics, fingerprint: str, path: Path) -> Path:
    document = metrics_document(result, metrics, fingerprint)
    with atomic_text(path) as handle:
        # allow_nan=False: jsonable() already turned every NaN into null; this proves it.
        json.dump(document, handle, indent=2, ensure_ascii=False, allow_nan=False)
        handle.write("\n")
    return path
