"""Metrics: hand-computed tables on tiny runs, edge cases, and an independent recomputation."""

from __future__ import annotations

import math
import statistics
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from tests.reports.builders import T0, T0_MS, run, trade
from tradeplay.reports.metrics import (
    YEAR_MS,
    bar_returns,
    cagr,
    compute_metrics,
    drawdown_stats,
    equity_points,
    monthly_returns,
    return_stats,
    trade_stats,
)

D = Decimal
DAY = timedelta(days=1)

# Four bars of a quarter year each (131,400 minutes): the run spans exactly one year, so CAGR
# equals the total return and the annualisation factor is √4 = 2.
QUARTER = "131400m"
QUARTER_TD = timedelta(minutes=131_400)


def test_a_tiny_curve_matches_the_hand_computed_table() -> None:
    """Points 100 → 110 → 99 → 121 → 121: returns 10 %, −10 %, 2/9, 0."""
    result = run([110, 99, 121, 121], timeframe=QUARTER, position_value=[0, 5, -5, 0])
    m = compute_metrics(result)
    mean = 1 / 18  # (0.1 - 0.1 + 2/9 + 0) / 4
    # Deviations from the mean: 2/45, -7/45, 1/6, -1/18; squared they sum to 115.5 / 45².
    sample_std = math.sqrt(115.5 / 45**2 / 3)
    expected = {
        "total_return": 0.21,
        "cagr": 0.21,  # one year exactly
        "volatility": sample_std * 2,
        "sharpe": mean / sample_std * 2,
        "sortino": mean / 0.05 * 2,  # downside deviation sqrt(0.1² / 4) = 0.05
        "max_drawdown": 0.1,  # 110 → 99
        "calmar": 2.1,
        "exposure": 0.5,  # two of four bars closed with a position
        "final_equity": 121.0,
        "net_profit": 21.0,
    }
    for name, value in expected.items():
        assert getattr(m, name) == pytest.approx(value, rel=1e-12), name
    assert m.sortino == pytest.approx(20 / 9)
    assert m.max_drawdown_peak == T0 + QUARTER_TD  # close of the first bar
    assert m.max_drawdown_trough == T0 + 2 * QUARTER_TD
    assert m.max_drawdown_recovery == T0 + 3 * QUARTER_TD  # 121 ≥ 110
    assert m.max_drawdown_duration == 2 * QUARTER_TD
    assert m.bars == 4


def test_a_drawdown_that_never_recovers_lasts_until_the_end() -> None:
    m = compute_metrics(run([120, 90, 100, 110], timeframe="1d"))
    assert m.max_drawdown == pytest.approx(0.25)
    assert (m.max_drawdown_peak, m.max_drawdown_trough) == (T0 + DAY, T0 + 2 * DAY)
    assert m.max_drawdown_recovery is None
    assert m.max_drawdown_duration == 3 * DAY  # from the peak at day 1 to the last close, day 4


def test_the_longest_time_under_water_need_not_be_the_deepest_drawdown() -> None:
    # A deep, short fall (100 → 50 → 100) then a shallow, long one (100 → 95 … → 101).
    m = compute_metrics(run([50, 100, 99, 98, 97, 96, 95, 101], timeframe="1d"))
    assert m.max_drawdown == pytest.approx(0.5)
    assert (m.max_drawdown_peak, m.max_drawdown_trough) == (T0, T0 + DAY)  # the start is a peak
    assert m.max_drawdown_recovery == T0 + 2 * DAY
    assert m.max_drawdown_duration == 6 * DAY  # peak at day 2, back above it at day 8


def test_the_starting_capital_counts_as_the_first_peak() -> None:
    m = compute_metrics(run([90, 95], timeframe="1d"))
    assert m.max_drawdown == pytest.approx(0.1)
    assert m.max_drawdown_peak == T0


def test_trade_statistics_match_the_hand_computed_table() -> None:
    nets = [-10, -5, 0, -15, -1, 20, 30]
    held = [1, 2, 3, 4, 5, 6, 7]
    trades = [
        trade(str(net), held=timedelta(hours=h), opened=timedelta(hours=10 * i))
        for i, (net, h) in enumerate(zip(nets, held, strict=True))
    ]
    stats = trade_stats(trades)
    assert (stats.trades, stats.wins, stats.losses) == (7, 2, 4)
    assert stats.win_rate == pytest.approx(2 / 7)  # the break-even trade counts as a trade
    assert stats.profit_factor == pytest.approx(50 / 31)
    assert stats.expectancy == D(19) / 7
    assert stats.average_win == D(25)
    assert stats.average_loss == D("-7.75")
    assert stats.average_holding == timedelta(hours=4)
    assert stats.longest_losing_streak == 2  # the break-even trade ends the first streak


def test_a_run_without_trades_marks_trade_metrics_as_not_applicable() -> None:
    m = compute_metrics(run([100.0] * 24))
    assert (m.trades, m.wins, m.losses, m.longest_losing_streak) == (0, 0, 0, 0)
    for name in ("win_rate", "profit_factor", "expectancy", "average_win", "average_loss"):
        assert getattr(m, name) is None, name
    assert m.average_holding is None
    # A flat curve: no volatility, so no ratio built on it; no drawdown, so no Calmar.
    assert (m.volatility, m.sharpe, m.sortino, m.calmar) == (0.0, None, None, None)
    assert (m.total_return, m.cagr, m.max_drawdown, m.exposure) == (0.0, 0.0, 0.0, 0.0)
    assert m.max_drawdown_peak is None
    assert m.max_drawdown_duration == timedelta(0)


def test_a_run_without_bars_reports_without_dividing_by_zero() -> None:
    m = compute_metrics(run([]))
    assert (m.bars, m.total_return, m.final_equity) == (0, 0.0, 100.0)
    assert (m.cagr, m.volatility, m.sharpe, m.exposure) == (None, None, None, None)


def test_only_winning_trades_have_no_profit_factor_and_no_average_loss() -> None:
    stats = trade_stats([trade("5"), trade("7")])
    assert (stats.profit_factor, stats.average_loss, stats.longest_losing_streak) == (None, None, 0)
    assert stats.win_rate == 1.0


def test_a_curve_that_only_rises_has_no_sortino_ratio() -> None:
    m = compute_metrics(run([101, 103, 104, 108]))
    assert m.sortino is None
    assert m.sharpe is not None
    assert m.sharpe > 0
    assert m.calmar is None  # no drawdown


def test_constant_growth_has_zero_volatility_despite_float_noise() -> None:
    stats = return_stats(bar_returns(100.0 * 1.01 ** np.arange(50.0)), 8760)
    assert (stats.volatility, stats.sharpe) == (0.0, None)


def test_returns_out_of_a_wiped_out_account_are_left_out() -> None:
    returns = bar_returns(np.array([100.0, 50.0, 0.0, 10.0]))
    assert returns.tolist() == [-0.5, -1.0]  # 0 → 10 is no return at all
    assert cagr(100.0, 0.0, YEAR_MS) == -1.0


def test_cagr_of_a_huge_gain_over_minutes_is_not_applicable_rather_than_an_overflow() -> None:
    assert cagr(100.0, 200.0, 60_000) is None
    assert cagr(100.0, 200.0, 0) is None


def test_monthly_returns_count_a_midnight_close_in_the_month_that_ends() -> None:
    # 1d bars opening Jan 30, Jan 31, Feb 1, Feb 2; the Jan 31 bar closes at Feb 1 00:00.
    start = T0_MS + 29 * 86_400_000
    result = run([110, 121, 133.1, 121], timeframe="1d", start_ms=start)
    times, equity = equity_points(result.equity, 100.0, 86_400_000)
    months, returns = monthly_returns(times, equity)
    assert [str(month) for month in months] == ["2024-01", "2024-02"]
    assert returns.tolist() == pytest.approx([0.21, 0.0])


def test_fees_and_funding_are_the_run_totals() -> None:
    result = run([100.0, 100.0])
    m = compute_metrics(result)
    assert (m.fees_paid, m.funding_paid) == (result.fees_total, result.funding_total)


# ------------------------------------------------------------------ independent recomputation


def _loop_metrics(equity: list[float], bars_per_year: float) -> dict[str, float]:
    """The textbook definitions written as plain loops, sharing no code with the module."""
    returns = [equity[i] / equity[i - 1] - 1 for i in range(1, len(equity))]
    mean = sum(returns) / len(returns)
    std = statistics.stdev(returns)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    peak, deepest = equity[0], 0.0
    for value in equity:
        peak = max(peak, value)
        deepest = max(deepest, (peak - value) / peak)
    return {
        "volatility": std * math.sqrt(bars_per_year),
        "sharpe": mean / std * math.sqrt(bars_per_year),
        "sortino": mean / downside * math.sqrt(bars_per_year),
        "max_drawdown": deepest,
        "total_return": equity[-1] / equity[0] - 1,
    }


def test_metrics_agree_with_a_plain_loop_computation_on_a_random_curve() -> None:
    rng = np.random.default_rng(42)
    equity = 1000.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, 2000)))
    m = compute_metrics(run(equity, timeframe="15m", capital="1000"))
    expected = _loop_metrics([1000.0, *equity.tolist()], YEAR_MS / (15 * 60_000))
    for name, value in expected.items():
        assert getattr(m, name) == pytest.approx(value, rel=1e-9), name


def test_drawdown_dates_agree_with_a_plain_loop_on_a_random_curve() -> None:
    rng = np.random.default_rng(3)
    equity = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.02, 500)))
    times = T0_MS + 60_000 * np.arange(501, dtype=np.int64)
    values = np.concatenate(([100.0], equity))
    stats = drawdown_stats(times, values)
    peak_at = trough_at = 0
    best, running_peak_at, deepest = values[0], 0, 0.0
    longest, underwater_since = 0, None
    for i, value in enumerate(values):
        if value >= best:
            if underwater_since is not None:
                longest = max(longest, int(times[i] - times[underwater_since]))
            best, running_peak_at, underwater_since = value, i, None
        elif underwater_since is None:
            underwater_since = running_peak_at
        if (best - value) / best > deepest:
            deepest, peak_at, trough_at = (best - value) / best, running_peak_at, i
    if underwater_since is not None:
        longest = max(longest, int(times[-1] - times[underwater_since]))
    assert stats.max_drawdown == pytest.approx(deepest)
    assert stats.peak is not None
    assert stats.trough is not None
    assert int(stats.peak.timestamp() * 1000) == times[peak_at]
    assert int(stats.trough.timestamp() * 1000) == times[trough_at]
    assert stats.longest_underwater == timedelta(milliseconds=longest)
