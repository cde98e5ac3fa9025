"""Stage records from what a stage produced: the backtest stage's out-of-sample run, and a
running stage's bars and fills.

The backtest stage judges a play on bars it was **not tuned on**: everything before the
out-of-sample start only warms the features up (the engine places no order there), so the
record — equity, trades, days — covers the out-of-sample window alone.

A running stage (shadow, paper, demo, live …) is judged from what the deployment stored: the
bars its play traded and its fills. Its equity is a ledger of those fills alone, marked at each
bar's close — so plays sharing one venue account each have a record of their own — starting
from the capital the stage gave the play. Funding is not in it (a venue books funding to the
account, not to a play); fees are.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import InputError
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.values import utc_from_ms
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.graduation.criteria import Stage
from tradeplay.graduation.evaluation import StageRecord
from tradeplay.play import CompiledPlay
from tradeplay.reports.metrics import equity_points
from tradeplay.reports.model import DataLabel, RunResult

__all__ = ["StageLedger", "backtest_out_of_sample", "record_of_run", "record_of_stage"]


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


class StageLedger:
    """A play's fills in a stage, booked at average cost: its cash, position and trades."""

    def __init__(self) -> None:
        self.cash = Decimal(0)
        """Realized PnL less fees so far."""
        self.size = Decimal(0)
        self.entry = Decimal(0)
        self.trades: list[Decimal] = []
        """Net PnL of each round trip closed (flat to flat; a reversal closes one, opens one)."""
        self._trade = Decimal(0)

    def add(self, fill: Fill) -> None:
        qty, sign = fill.qty, fill.side.sign
        fee_share = fill.fee / fill.qty
        if self.size != 0 and (self.size > 0) != (sign > 0):
            closing = min(qty, abs(self.size))
            pnl = closing * (fill.price - self.entry) * (1 if self.size > 0 else -1)
            booked = pnl - closing * fee_share
            self.cash += booked
            self._trade += booked
            self.size += sign * closing
            qty -= closing
            if self.size == 0:
                self.trades.append(self._trade)
                self._trade = Decimal(0)
        if qty > 0:
            held = abs(self.size)
            self.entry = (held * self.entry + qty * fill.price) / (held + qty)
            self.size += sign * qty
            self.cash -= qty * fee_share
            self._trade -= qty * fee_share

    def equity(self, capital: Decimal, mark: float) -> float:
        return float(capital + self.cash) + float(self.size) * (mark - float(self.entry))


def record_of_stage(  # a stage's record is made of all of these
    play: str,
    stage: Stage,
    *,
    bars: NDArray[np.float64],
    bar_ms: int,
    fills: list[Fill],
    capital: Decimal,
    entered_ms: int,
) -> StageRecord:
    """The record of a running stage from the bars it traded (``(n, 6)``, oldest first) and
    its fills: an equity point at the stage's start and at each bar's close."""
    ledger = StageLedger()
    ordered = sorted(fills, key=lambda fill: fill.time)
    times = [entered_ms]
    equity = [float(capital)]
    at = 0
    for row in bars:
        close_ms = int(row[0]) + bar_ms
        while at < len(ordered) and _ms(ordered[at]) < close_ms:
            ledger.add(ordered[at])
            at += 1
        times.append(close_ms)
        equity.append(ledger.equity(capital, float(row[4])))
    return StageRecord(
        play=play,
        stage=stage,
        entered_ms=entered_ms,
        as_of_ms=times[-1],
        equity_ms=np.asarray(times, np.int64),
        equity=np.asarray(equity, np.float64),
        trade_pnls=tuple(ledger.trades),
    )


def _ms(fill: Fill) -> int:
    return int(fill.time.timestamp() * 1000)


def _shown(ms: int) -> str:
    return f"{utc_from_ms(ms):%Y-%m-%d %H:%M} UTC"
