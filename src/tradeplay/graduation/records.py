"""Stage records from what a stage produced: the backtest stage's out-of-sample run, and a
running stage's bars and fills.

The backtest stage judges a play on bars it was **not tuned on**: everything before the
out-of-sample start only warms the features up (the engine places no order there), so the
record — equity, trades, days — covers the out-of-sample window alone.

A running stage (shadow, paper, demo, live …) is judged from what the deployment stored: the
bars its play traded and its fills. Its equity is its position from those fills alone, marked at
each bar's close — so plays sharing one venue account each have a record of their own — starting
from the capital the stage gave the play. Funding is not in it (a venue books funding to the
account, not to a play); fees are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import InputError
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.position import Position
from tradeplay.domain.values import Symbol, TradeId, ms_from_utc, to_decimal, utc_from_ms
from tradeplay.engine.backtest import Backtest, exit_reason_of, run_backtest
from tradeplay.engine.trades import build_trades
from tradeplay.graduation.criteria import Stage
from tradeplay.graduation.evaluation import StageRecord
from tradeplay.play import CompiledPlay
from tradeplay.reports.metrics import equity_points
from tradeplay.reports.model import DataLabel, RunResult

__all__ = ["backtest_out_of_sample", "record_of_run", "record_of_stage"]


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
    minutes: Candles | None = None,
) -> tuple[RunResult, StageRecord]:
    """Backtest ``play`` trading only from ``out_of_sample_from`` (the bars before warm it up)
    and its backtest-stage record. :class:`InputError` when no bar lies in the window."""
    start_ms = ms_from_utc(out_of_sample_from)
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
        minutes=minutes,
        warm_up=warm_up,
    )
    result = run_backtest(backtest)
    return result, record_of_run(result, Stage.BACKTEST, warm_up=warm_up)


def record_of_stage(  # a stage's record is made of all of these
    play: str,
    stage: Stage,
    *,
    symbol: Symbol,
    bars: NDArray[np.float64],
    bar_ms: int,
    fills: list[Fill],
    capital: Decimal,
    entered_ms: int,
    traded: Sequence[bool] | None = None,
) -> StageRecord:
    """The record of a running stage from the bars it took (``(n, 6)``, oldest first) and
    its fills: an equity point at the stage's start and at each bar's close, the position
    booked as the exchange books it (:meth:`Position.apply_fill`), and its round trips.
    ``traded``: whether the play's engine ran on each bar (every bar when not given): its days
    are the bars it traded (:attr:`StageRecord.traded_ms`)."""
    if traded is not None and len(traded) != len(bars):
        raise ValueError(f"{len(traded)} traded flags for {len(bars)} bars")
    ordered = sorted(fills, key=lambda fill: fill.time)
    position = Position(symbol=symbol)
    realized: dict[TradeId, Decimal] = {}
    times = [entered_ms]
    equity = [float(capital)]
    at = 0
    for row in bars:
        close_ms = int(row[0]) + bar_ms
        while at < len(ordered) and _ms(ordered[at]) < close_ms:
            fill = ordered[at]
            before = position.realized_pnl
            position = position.apply_fill(fill)
            realized[fill.trade_id] = position.realized_pnl - before
            at += 1
        close = to_decimal(float(row[4]), "close")
        net = position.realized_pnl - position.fees_paid + position.unrealized_pnl(close)
        times.append(close_ms)
        equity.append(float(capital + net))
    trades = build_trades(
        symbol,
        ordered[:at],
        bars=bars,
        funding=lambda _entry, _exit: Decimal(0),  # a venue books funding to the account
        reason_of=exit_reason_of,
        realized_of=lambda fill: realized[fill.trade_id],
    )
    return StageRecord(
        play=play,
        stage=stage,
        entered_ms=entered_ms,
        as_of_ms=times[-1],
        equity_ms=np.asarray(times, np.int64),
        equity=np.asarray(equity, np.float64),
        trade_pnls=tuple(trade.net_pnl for trade in trades),
        traded_ms=bar_ms * (len(bars) if traded is None else sum(1 for ran in traded if ran)),
    )


def _ms(fill: Fill) -> int:
    return ms_from_utc(fill.time)


def _shown(ms: int) -> str:
    return f"{utc_from_ms(ms):%Y-%m-%d %H:%M} UTC"
