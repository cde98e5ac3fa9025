"""The canonical run: the EMA-cross example play on a year of real BTCUSDT hours, pinned.

Every statistic below was produced by this engine and checked for plausibility when it was
pinned; a change to any of them means the engine, the simulator or a feature changed behaviour.
If that was intended, re-pin the numbers in the same commit and say why.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.features.conftest import load_bars
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.play import load_play
from tradeplay.reports.fingerprint import fingerprint
from tradeplay.reports.metrics import compute_metrics
from tradeplay.reports.model import DataLabel, RunResult

PLAY = Path(__file__).resolve().parents[2] / "plays" / "ema_cross.yaml"


@pytest.fixture(scope="module")
def canonical(shared_data: Path) -> RunResult:
    bars = load_bars(shared_data / "binance_BTCUSDT_1h.parquet", 8_760)
    funding = pq.read_table(shared_data / "binance_BTCUSDT_funding.parquet")
    return run_backtest(
        Backtest(
            play=load_play(PLAY),
            symbol="BTCUSDT",
            instrument=bybit_linear("BTCUSDT"),
            candles=Candles(bars[:, 0].astype(np.int64), *(bars[:, c] for c in range(1, 6))),
            data=DataLabel("binance BTCUSDT 1h, last 8,760 bars", generated=False),
            funding=FundingRates(
                funding.column("ts").to_numpy(), funding.column("rate").to_numpy()
            ),
        )
    )


def test_the_canonical_run_reproduces_its_pinned_statistics(canonical: RunResult) -> None:
    metrics = compute_metrics(canonical)
    assert metrics.trades == 321
    assert (metrics.wins, metrics.losses) == (88, 233)
    assert round(canonical.final_equity, 2) == 5794.41
    assert canonical.fees_total.quantize(Decimal("0.01")) == Decimal("2493.16")
    assert canonical.funding_total.quantize(Decimal("0.01")) == Decimal("-0.97")
    assert metrics.total_return == pytest.approx(-0.4205594376, rel=1e-9)
    assert metrics.max_drawdown == pytest.approx(0.4597092095, rel=1e-9)
    assert metrics.profit_factor == pytest.approx(0.7129162294, rel=1e-9)
    assert {trade.exit_reason for trade in canonical.trades} == {
        "signal",
        "stop_loss",
        "take_profit",
        "end_of_data",
    }


def test_the_canonical_run_reproduces_its_fills_exactly(canonical: RunResult) -> None:
    assert fingerprint(canonical.fills) == (
        "76a332dc59e1cc908170b25d8fd81926847eb971edd705433ea7773d4354f3f3"
    )


def test_the_canonical_ledger_balances_to_the_cent(canonical: RunResult) -> None:
    trades_net = sum((trade.net_pnl for trade in canonical.trades), Decimal(0))
    final = Decimal(str(canonical.final_equity))
    assert abs(final - (Decimal(10_000) + trades_net)) < Decimal("0.01")


def test_the_equity_curve_is_cash_when_flat_and_cash_moves_only_on_fills_and_funding(
    canonical: RunResult,
) -> None:
    curve = canonical.equity
    flat = curve.position_value == 0.0
    assert 0 < flat.sum() < len(flat)
    np.testing.assert_allclose(curve.cash[flat], curve.equity[flat], rtol=1e-12)
    assert curve.position_value[-1] == 0.0
    # A fill belongs to the last bar opened at or before it (the end-of-data close is stamped
    # at the last bar's close).
    fill_ms = [int(fill.time.timestamp() * 1000) for fill in canonical.fills]
    fill_bars = set((np.searchsorted(curve.ts, fill_ms, side="right") - 1).tolist())
    changed = np.flatnonzero(np.abs(np.diff(curve.cash)) > 1e-6) + 1
    assert len(changed) > len(canonical.trades)
    for bar in changed:
        settles = int(curve.ts[bar]) % (8 * 3_600_000) == 0  # funding: 00, 08, 16 UTC
        assert bar in fill_bars or settles, f"cash moved at bar {bar} with no fill or funding"
