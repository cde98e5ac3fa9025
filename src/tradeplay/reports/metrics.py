"""Performance statistics of one run: pure functions of the equity curve and the closed trades.

Conventions
    * **Returns** are simple per-bar returns of equity, ``e[i] / e[i-1] - 1``, over the points
      *starting capital, equity after bar 1, …, equity after bar n* (so *n* bars give *n*
      returns). A return out of a non-positive equity is undefined and left out.
    * **Annualisation**: crypto trades all year round, so a year is 365 days of 24 h and a
      bar-based figure is scaled by ``bars_per_year = 365 days / bar length``.
    * **Risk-free rate** 0.
    * **Volatility** = sample standard deviation (``ddof=1``) of the returns × √bars_per_year.
    * **Sharpe** = mean return / that same sample std × √bars_per_year.
    * **Sortino** = mean return / downside deviation × √bars_per_year, where the downside
      deviation is ``sqrt(mean(min(r, 0)²))`` over *all* returns (target 0, divided by *n*:
      Sortino & Price's target downside deviation).
    * **CAGR** = ``(final / start) ** (1 / years) - 1`` over the calendar span from the first
      bar's open to the last bar's close; ``-1`` when the final equity is not positive.
    * **Max drawdown** is a positive fraction below the running peak (the starting capital counts
      as a peak): ``0.25`` = 25 % below. **Calmar** = CAGR / max drawdown.
    * **Max drawdown duration** is the longest time under water: from the last point at a peak to
      the first point back at or above it, or to the end of the run if it never got back.
    * Point times: the starting capital sits at the first bar's open, every later point at the
      close of its bar (``ts + bar length``).
    * **Trades**: a win has net PnL > 0, a loss < 0; a break-even trade is neither (it counts in
      the win-rate denominator and ends a losing streak). Expectancy is the mean net PnL per
      trade, profit factor = sum of wins / |sum of losses|.

Not applicable is ``None``, never NaN and never a crash or a numpy warning: no trades → every
trade statistic ``None`` (counts 0); fewer than two returns or zero volatility → volatility-based
ratios ``None``; no losing bar → Sortino ``None``; no losing trade → profit factor ``None``
(it would be infinite); no drawdown → Calmar ``None``; a CAGR too large for a float (a
few hours of data with a big gain) → ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.values import utc_from_ms
from tradeplay.reports.model import EquityCurve, RunResult, TradeRecord

__all__ = [
    "YEAR_MS",
    "DrawdownStats",
    "Metrics",
    "ReturnStats",
    "TradeStats",
    "bar_returns",
    "cagr",
    "compute_metrics",
    "drawdown_series",
    "drawdown_stats",
    "equity_points",
    "monthly_returns",
    "return_stats",
    "trade_stats",
]

YEAR_MS: Final = 365 * 86_400_000
"""One year of a market that never closes, in milliseconds."""

# A constant-growth curve has returns equal up to float noise; a std that small is zero.
_FLAT_STD: Final = 1e-12


@dataclass(frozen=True, slots=True)
class ReturnStats:
    volatility: float | None
    sharpe: float | None
    sortino: float | None


@dataclass(frozen=True, slots=True)
class DrawdownStats:
    max_drawdown: float
    """Deepest fall below the running peak as a positive fraction; 0 without a drawdown."""
    peak: datetime | None
    """Last time at the peak before the deepest trough."""
    trough: datetime | None
    recovery: datetime | None
    """First time back at the peak after the trough; ``None`` if it never got back."""
    longest_underwater: timedelta


@dataclass(frozen=True, slots=True)
class TradeStats:
    """The trade statistics of :class:`Metrics`, computed apart so they can be tested apart."""

    trades: int
    wins: int
    losses: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    """Mean net PnL of the losing trades (a negative number)."""
    average_holding: timedelta | None
    longest_losing_streak: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Metrics:
    """Every statistic of a run; see the module docstring for definitions and conventions."""

    currency: str
    bars: int
    starting_capital: Decimal
    final_equity: float
    net_profit: float
    total_return: float
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float
    max_drawdown_duration: timedelta
    max_drawdown_peak: datetime | None
    max_drawdown_trough: datetime | None
    max_drawdown_recovery: datetime | None
    exposure: float | None
    """Share of bars that closed with a position open."""
    trades: int
    wins: int
    losses: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    average_holding: timedelta | None
    longest_losing_streak: int
    fees_paid: Decimal
    funding_paid: Decimal


# ------------------------------------------------------------------------------ equity


def equity_points(
    curve: EquityCurve, starting_capital: float, bar_ms: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Times (ms) and equity of the *n + 1* points: the start, then every bar's close."""
    if len(curve) == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    times = np.concatenate(([curve.ts[0]], curve.ts + bar_ms)).astype(np.int64)
    values = np.concatenate(([starting_capital], curve.equity)).astype(np.float64)
    return times, values


def bar_returns(equity: NDArray[np.float64]) -> NDArray[np.float64]:
    """Simple returns between consecutive points, leaving out those from a non-positive equity."""
    previous, current = equity[:-1], equity[1:]
    defined = previous > 0
    result: NDArray[np.float64] = current[defined] / previous[defined] - 1.0
    return result


def return_stats(returns: NDArray[np.float64], bars_per_year: float) -> ReturnStats:
    """Annualised volatility, Sharpe and Sortino of per-bar returns (risk-free 0)."""
    if len(returns) < 2:
        return ReturnStats(None, None, None)
    scale = math.sqrt(bars_per_year)
    mean = float(np.mean(returns))
    std = float(np.std(returns, ddof=1))
    if std <= _FLAT_STD * abs(mean):
        std = 0.0
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    return ReturnStats(
        volatility=std * scale,
        sharpe=mean / std * scale if std > 0 else None,
        sortino=mean / downside * scale if downside > 0 else None,
    )


def cagr(start_value: float, end_value: float, span_ms: int) -> float | None:
    """Compound annual growth rate over ``span_ms``; ``None`` for no span or a float overflow."""
    if span_ms <= 0 or start_value <= 0:
        return None
    if end_value <= 0:
        return -1.0
    try:
        return math.exp(math.log(end_value / start_value) * YEAR_MS / span_ms) - 1.0
    except OverflowError:
        return None


def drawdown_series(equity: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fall below the running peak at every point, as a positive fraction (0 at a peak).

    The first point (the starting capital) must be positive, so the peak always is.
    """
    if len(equity) == 0:
        return np.empty(0, np.float64)
    peak = np.maximum.accumulate(equity)
    result: NDArray[np.float64] = 1.0 - equity / peak
    return np.maximum(result, 0.0)


def drawdown_stats(times: NDArray[np.int64], equity: NDArray[np.float64]) -> DrawdownStats:
    """The deepest drawdown with its dates, and the longest time under water."""
    drawdown = drawdown_series(equity)
    if len(drawdown) == 0 or not bool(np.any(drawdown > 0)):
        return DrawdownStats(0.0, None, None, None, timedelta(0))
    trough = int(np.argmax(drawdown))
    peak_value = float(np.max(equity[: trough + 1]))
    peak = int(np.flatnonzero(equity[: trough + 1] >= peak_value)[-1])
    back = np.flatnonzero(equity[trough:] >= peak_value)
    recovery = trough + int(back[0]) if len(back) else None
    return DrawdownStats(
        max_drawdown=float(drawdown[trough]),
        peak=utc_from_ms(int(times[peak])),
        trough=utc_from_ms(int(times[trough])),
        recovery=None if recovery is None else utc_from_ms(int(times[recovery])),
        longest_underwater=_longest_underwater(times, drawdown > 0),
    )


def _longest_underwater(times: NDArray[np.int64], underwater: NDArray[np.bool_]) -> timedelta:
    # A spell of underwater points [s, e] starts at the peak point s - 1 (point 0, the starting
    # capital, is never under water) and ends at e + 1, back at the peak, or at the last point.
    flags = np.concatenate(([False], underwater, [False])).astype(np.int8)
    edges = np.diff(flags)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # one past the last underwater point
    ends = np.minimum(ends, len(times) - 1)
    longest = int(np.max(times[ends] - times[starts - 1]))
    return timedelta(milliseconds=longest)


def monthly_returns(
    times: NDArray[np.int64], equity: NDArray[np.float64]
) -> tuple[NDArray[np.datetime64], NDArray[np.float64]]:
    """Calendar-month (UTC) returns of the equity points: ``(months, returns)``.

    A month's return is its last equity over the previous month's last equity (the starting
    capital for the first month), minus 1. A point stamped exactly at midnight closes the bar
    that ended then, so it belongs to the month before. Months without a point are left out;
    a return out of a non-positive equity is NaN.
    """
    if len(times) < 2:
        return np.empty(0, "datetime64[M]"), np.empty(0, np.float64)
    month = (times[1:] - 1).astype("datetime64[ms]").astype("datetime64[M]")
    last = np.flatnonzero(np.append(month[1:] != month[:-1], True)) + 1  # index into equity
    base = np.concatenate(([equity[0]], equity[last[:-1]]))
    ends = equity[last]
    returns = np.full(len(last), np.nan)
    positive = base > 0
    returns[positive] = ends[positive] / base[positive] - 1.0
    return month[last - 1], returns


# ------------------------------------------------------------------------------ trades


def trade_stats(trades: Sequence[TradeRecord]) -> TradeStats:
    """Counts, win rate, profit factor, averages and the longest losing streak of the trades."""
    if not trades:
        return TradeStats(0, 0, 0, None, None, None, None, None, None, 0)
    wins = [t.net_pnl for t in trades if t.is_win]
    losses = [t.net_pnl for t in trades if t.is_loss]
    gross_loss = -sum(losses, Decimal(0))
    return TradeStats(
        trades=len(trades),
        wins=len(wins),
        losses=len(losses),
        win_rate=len(wins) / len(trades),
        profit_factor=float(sum(wins, Decimal(0)) / gross_loss) if gross_loss > 0 else None,
        expectancy=sum((t.net_pnl for t in trades), Decimal(0)) / len(trades),
        average_win=sum(wins, Decimal(0)) / len(wins) if wins else None,
        average_loss=sum(losses, Decimal(0)) / len(losses) if losses else None,
        average_holding=sum((t.holding_time for t in trades), timedelta(0)) / len(trades),
        longest_losing_streak=_longest_losing_streak(trades),
    )


def _longest_losing_streak(trades: Sequence[TradeRecord]) -> int:
    longest = current = 0
    for trade in trades:
        current = current + 1 if trade.is_loss else 0
        longest = max(longest, current)
    return longest


# ------------------------------------------------------------------------------ a run


def compute_metrics(result: RunResult) -> Metrics:
    """Every statistic of ``result`` (see the module docstring)."""
    bar_ms = result.timeframe.ms
    start = float(result.starting_capital)
    times, equity = equity_points(result.equity, start, bar_ms)
    final = float(equity[-1]) if len(equity) else start
    span_ms = int(times[-1] - times[0]) if len(times) else 0
    returns = return_stats(bar_returns(equity), YEAR_MS / bar_ms)
    drawdown = drawdown_stats(times, equity)
    growth = cagr(start, final, span_ms)
    depth = drawdown.max_drawdown
    calmar = growth / depth if growth is not None and depth > 0 else None
    exposed = result.equity.exposed
    return Metrics(
        currency=result.currency,
        bars=len(result.equity),
        starting_capital=result.starting_capital,
        final_equity=final,
        net_profit=final - start,
        total_return=final / start - 1.0,
        cagr=growth,
        volatility=returns.volatility,
        sharpe=returns.sharpe,
        sortino=returns.sortino,
        calmar=calmar,
        max_drawdown=drawdown.max_drawdown,
        max_drawdown_duration=drawdown.longest_underwater,
        max_drawdown_peak=drawdown.peak,
        max_drawdown_trough=drawdown.trough,
        max_drawdown_recovery=drawdown.recovery,
        exposure=float(np.mean(exposed)) if len(exposed) else None,
        **asdict(trade_stats(result.trades)),
        fees_paid=result.fees_total,
        funding_paid=result.funding_total,
    )
