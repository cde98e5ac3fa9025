"""Independent check: the engine reproduces a plain reference loop trade for trade, on real data.

The reference (tests/engine/reference.py) is a simple loop over bars with TA-Lib EMAs; the
engine runs the same workload as a play through the simulated exchange. Same entry and exit bars,
the same prices, the same exit reasons, and final equity within 1e-9 relative.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.engine.reference import reference_backtest
from tests.features.conftest import load_bars
from tradeplay.data.candles import Candles
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.play import load_play
from tradeplay.reports.model import DataLabel, RunResult

PLAYS = Path(__file__).resolve().parent / "plays"


@pytest.fixture(scope="module")
def btc_hours(shared_data: Path) -> NDArray[np.float64]:
    """The last 20,000 real BTCUSDT perpetual hourly bars (2024-2026)."""
    return load_bars(shared_data / "binance_BTCUSDT_1h.parquet", 20_000)


def _engine_run(play: str, bars: NDArray[np.float64]) -> RunResult:
    candles = Candles(bars[:, 0].astype(np.int64), *(bars[:, c] for c in range(1, 6)))
    backtest = Backtest(
        play=load_play(PLAYS / f"{play}.yaml"),
        symbol="BTCUSDT",
        instrument=bybit_linear("BTCUSDT"),
        candles=candles,
        data=DataLabel("binance BTCUSDT 1h (shared data)", generated=False),
        funding_rate=Decimal(0),  # the reference pays no funding
    )
    return run_backtest(backtest)


@pytest.mark.parametrize(
    ("play", "stop", "target"),
    [("ema_20_50_long", None, None), ("ema_20_50_bracket", 0.02, 0.04)],
)
def test_the_engine_reproduces_the_reference_trade_for_trade(
    play: str, stop: float | None, target: float | None, btc_hours: NDArray[np.float64]
) -> None:
    result = _engine_run(play, btc_hours)
    expected, final_cash = reference_backtest(btc_hours, 10_000.0, stop, target)
    assert len(result.trades) == len(expected) > 100
    opens = btc_hours[:, 0]
    for ours, theirs in zip(result.trades, expected, strict=True):
        entry_ms = int(ours.entry_time.timestamp() * 1000)
        exit_ms = int(ours.exit_time.timestamp() * 1000)
        assert int(np.searchsorted(opens, entry_ms)) == theirs.entry_bar
        assert int(np.searchsorted(opens, exit_ms, side="right")) - 1 == theirs.exit_bar
        assert float(ours.entry_price) == theirs.entry_price
        assert float(ours.exit_price) == pytest.approx(theirs.exit_price, rel=1e-12)
        assert float(ours.qty) == pytest.approx(theirs.qty, rel=1e-12)
        assert ours.exit_reason == theirs.reason
    final = result.final_equity
    assert abs(final - final_cash) <= 1e-9 * final_cash
    if stop is not None:
        reasons = {trade.exit_reason for trade in result.trades}
        assert {"stop_loss", "take_profit", "signal"} <= reasons
