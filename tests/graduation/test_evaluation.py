"""A stage's record against its criteria: promote, hold or demote, and why."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from tradeplay.graduation import Criteria, Stage, StageRecord, Verdict, evaluate
from tradeplay.graduation.evaluation import DAY_MS, sampled_equity

HOUR_MS = 3_600_000
START_MS = 1_704_067_200_000
CRITERIA = Criteria(
    min_days=7,
    min_trades=10,
    min_return_percent=0.0,
    min_sharpe=1.0,
    min_psr=0.9,
    min_profit_factor=1.2,
    max_drawdown_percent=10,
)


def record(hourly_returns: list[float], days: float, trades: list[str]) -> StageRecord:
    """Equity every hour from 10,000 along ``hourly_returns`` (repeated to cover ``days``)."""
    hours = int(days * 24)
    steps = np.resize(np.array(hourly_returns, dtype=np.float64), hours)
    equity = 10_000 * np.cumprod(np.concatenate(([1.0], 1.0 + steps)))
    return StageRecord(
        play="ema",
        stage=Stage.DEMO,
        entered_ms=START_MS,
        as_of_ms=START_MS + hours * HOUR_MS,
        equity_ms=START_MS + HOUR_MS * np.arange(hours + 1, dtype=np.int64),
        equity=equity,
        trade_pnls=[Decimal(t) for t in trades],
    )


WINNING = [0.002, -0.001, 0.0015, -0.0005]
LOSING = [-0.002, 0.001, -0.0015, 0.0005]
GOOD_TRADES = ["30", "-10", "25", "-5"] * 3


@pytest.mark.parametrize(
    ("returns", "days", "trades", "verdict", "failed"),
    [
        (WINNING, 8, GOOD_TRADES, Verdict.PROMOTE, set()),
        (WINNING, 3, GOOD_TRADES, Verdict.HOLD, {"days"}),
        (WINNING, 8, GOOD_TRADES[:4], Verdict.HOLD, {"trades"}),
        (
            LOSING,
            8,
            ["-30", "10", "-25", "5"] * 3,
            Verdict.HOLD,
            {"return_percent", "sharpe", "psr", "profit_factor"},
        ),
        (
            [0.01] * 24 + [-0.02] * 12 + [0.0005] * 200,
            8,
            GOOD_TRADES,
            Verdict.DEMOTE,
            {"max_drawdown_percent", "psr"},
        ),
    ],
    ids=["proven", "too early", "too few trades", "losing", "drawdown breach"],
)
def test_verdicts(
    returns: list[float],
    days: float,
    trades: list[str],
    verdict: Verdict,
    failed: set[str],
) -> None:
    evaluation = evaluate(record(returns, days, trades), CRITERIA)
    assert evaluation.verdict is verdict, evaluation.reason()
    assert {check.name for check in evaluation.failed} == failed


def test_a_breach_is_named_in_the_reason_before_anything_else() -> None:
    evaluation = evaluate(record([0.01] * 24 + [-0.02] * 12, 2, []), CRITERIA)
    assert evaluation.verdict is Verdict.DEMOTE
    assert evaluation.reason().startswith("max_drawdown_percent 2")
    assert "needs ≤ 10" in evaluation.reason()


def test_only_the_time_the_play_traded_counts_as_days_in_the_stage() -> None:
    """Eight days in the stage, four of them paused (or not running): four days of proof."""
    idle = replace(record(WINNING, 8, GOOD_TRADES), traded_ms=4 * 24 * HOUR_MS)
    evaluation = evaluate(idle, CRITERIA)
    assert evaluation.metrics["days"] == 4
    assert evaluation.verdict is Verdict.HOLD
    assert {check.name for check in evaluation.failed} == {"days"}


def test_at_the_top_stage_a_proven_play_is_held_not_promoted() -> None:
    evaluation = evaluate(record(WINNING, 8, GOOD_TRADES), CRITERIA, has_next=False)
    assert evaluation.verdict is Verdict.HOLD
    assert evaluation.failed == ()


def test_the_audit_numbers_reproduce_the_verdict() -> None:
    """Metrics and thresholds are plain numbers; evaluating the same record again gives the
    same verdict, metrics and checks."""
    first = evaluate(record(WINNING, 8, GOOD_TRADES), CRITERIA)
    again = evaluate(record(WINNING, 8, GOOD_TRADES), CRITERIA)
    assert (again.verdict, again.metrics, again.checks) == (
        first.verdict,
        first.metrics,
        first.checks,
    )
    assert first.thresholds()["psr"] == {"threshold": 0.9, "at_least": True}
    assert first.metrics["trades"] == 12
    assert first.metrics["days"] == 8
    assert first.metrics["profit_factor"] == pytest.approx(165 / 45)


def test_venue_costs_are_checked_against_expectation() -> None:
    criteria = Criteria(max_slippage_bps=5, max_fee_excess_percent=20)
    base = record(WINNING, 1, [])
    costly = StageRecord(
        play=base.play,
        stage=Stage.LIVE_PILOT,
        entered_ms=base.entered_ms,
        as_of_ms=base.as_of_ms,
        equity_ms=base.equity_ms,
        equity=base.equity,
        slippage_bps=7.5,
        fees_paid=Decimal("130"),
        fees_expected=Decimal("100"),
    )
    evaluation = evaluate(costly, criteria)
    assert evaluation.verdict is Verdict.HOLD
    assert {c.name: c.value for c in evaluation.failed} == {
        "slippage_bps": 7.5,
        "fee_excess_percent": 30.0,
    }


def test_equity_is_sampled_as_a_step_function() -> None:
    """Points at 0, 90 and 250 minutes, sampled hourly: the value in force at 0, 60, 120,
    180 and 240 minutes, then the last point."""
    minute = 60_000
    times = np.array([0, 90, 250], dtype=np.int64) * minute
    equity = np.array([100.0, 110.0, 120.0])
    assert sampled_equity(times, equity, 60 * minute).tolist() == [
        100.0,
        100.0,
        110.0,
        110.0,
        110.0,
        120.0,
    ]
    assert DAY_MS == 24 * HOUR_MS
