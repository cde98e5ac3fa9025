"""Stage records from what a stage produced: the backtest stage's out-of-sample run.

The backtest stage judges a play on bars it was **not tuned on**: everything before the
out-of-sample start only warms the features up (the engine places no order there), so the
record — equity, trades, days — covers the out-of-sample window alone.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import InputError
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.values import utc_from_ms
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.graduation.criteria import Stage
from tradeplay.graduation.evaluation import StageRecord
from tradeplay.play import CompiledPlay
from tradeplay.reports.metrics import equity_points
from tradeplay.reports.model import DataLabel, RunResult

__all__ = ["backtest_out_of_sample", "record_of_run"]


def record_of_run(result: RunResult, stage: Stage, *, warm_up: int = 0) -> StageRecord:
    """The record of ``result`` from bar ``warm_up`` on (the bars before only warmed up)."""
    bar_ms = result.timeframe.ms
    times, equity = equity_points(result.equity, float(result.starting_capital), bar_ms)
    times, equity = times[warm_up:], equity[warm_up:]
    return StageRecord(
        play=result.play,
        stage=stage,
        entered_ms=int(times[0]) if len(times) else 0,
        as_of_ms=int(times[-1]) if len(times) else 0,
        equity_ms=times,
        equity=equity,
        trade_pnls=tuple(trade.net_pnl for trade in result.trades),
    )


def backtest_out_of_sample(
    play: CompiledPlay,
    instrument: Instrument,
    candles: Candles,
    *,
    out_of_sample_from: datetime,
    data: DataLabel,
    capital: Decimal | None = None,
    funding: FundingRates | None = None,
) -> tuple[RunResult, StageRecord]:
    """Backtest ``play`` trading only from ``out_of_sample_from`` (the bars before warm it up)
    and its backtest-stage record. :class:`InputError` when no bar lies in the window."""
    start_ms = int(out_of_sample_from.timestamp() * 1000)
    warm_up = int(np.searchsorted(candles.ts, start_ms, side="left"))
    if warm_up >= len(candles):
        last = "no bars" if len(candles) == 0 else f"bars until {_shown(int(candles.ts[-1]))}"
        raise InputError(
            f"{play.play.name}: no out-of-sample bars from {out_of_sample_from:%Y-%m-%d %H:%M} "
            f"UTC on (the data has {last}); the backtest stage needs bars the play was not "
            "tuned on"
        )
    backtest = Backtest(
        play=play,
        symbol=instrument.symbol,
        instrument=instrument,
        candles=candles,
        data=data,
        capital=capital,
        funding=funding,
        warm_up=warm_up,
    )
    result = run_backtest(backtest)
    return result, record_of_run(result, Stage.BACKTEST, warm_up=warm_up)


def _shown(ms: int) -> str:
    return f"{utc_from_ms(ms):%Y-%m-%d %H:%M} UTC"
