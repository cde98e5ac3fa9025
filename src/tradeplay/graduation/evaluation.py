"""A play's record in one stage, measured against that stage's criteria: the verdict and why.

An evaluation is a pure function of the record and the criteria, so the audit trail that stores
both (numbers and thresholds) reproduces every verdict when the record is evaluated again.

Verdicts:

* ``demote`` — a limit was breached (the drawdown); wins over everything else;
* ``promote`` — every proof passed (and there is a stage above);
* ``hold`` — not yet proven: too little time or too few trades, or a proof failed. A losing play
  is held at its stage for as long as it keeps losing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tradeplay.graduation.criteria import Criteria, Stage
from tradeplay.graduation.psr import psr, sharpe_estimate
from tradeplay.reports.metrics import YEAR_MS, bar_returns, drawdown_series

__all__ = ["Check", "Evaluation", "StageRecord", "Verdict", "evaluate", "sampled_equity"]

DAY_MS = 86_400_000
MINUTE_MS = 60_000


class Verdict(StrEnum):
    PROMOTE = "promote"
    HOLD = "hold"
    DEMOTE = "demote"


@dataclass(frozen=True, slots=True, kw_only=True)
class StageRecord:
    """What a play did in a stage: its equity over time, its closed trades and, for venue
    stages, its costs against the simulator's expectation."""

    play: str
    stage: Stage
    entered_ms: int
    as_of_ms: int
    equity_ms: NDArray[np.int64]
    """Times of the equity points, ascending; the first is the stage's start."""
    equity: NDArray[np.float64]
    trade_pnls: Sequence[Decimal] = ()
    """Net PnL of every trade closed in the stage, in order."""
    slippage_bps: float | None = None
    """Mean slippage beyond the simulator's expectation, basis points (venue stages)."""
    fees_paid: Decimal | None = None
    fees_expected: Decimal | None = None
    traded_ms: int | None = None
    """The time the play traded in the stage: the length of the bars its engine ran on. Not
    the bars it took paused by its operator or waiting for its account to reconcile, nor a
    time its deployment was not running (its equity still moves meanwhile: a paused play keeps
    its position). ``None``: the whole span, ``entered_ms`` to ``as_of_ms``."""

    @property
    def days(self) -> float:
        """The days the play traded in the stage (see :attr:`traded_ms`)."""
        span = self.as_of_ms - self.entered_ms if self.traded_ms is None else self.traded_ms
        return span / DAY_MS


@dataclass(frozen=True, slots=True)
class Check:
    """One criterion: the measured value, the threshold and whether it held."""

    name: str
    value: float | None
    threshold: float
    at_least: bool
    """``True``: the value must reach the threshold; ``False``: it must not exceed it."""
    limit: bool = False
    """A limit (a breach demotes) rather than a proof (a failure holds)."""

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.threshold if self.at_least else self.value <= self.threshold

    def describe(self) -> str:
        shown = "n/a" if self.value is None else f"{self.value:.4g}"
        sign = "≥" if self.at_least else "≤"
        return f"{self.name} {shown} (needs {sign} {self.threshold:g})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    play: str
    stage: Stage
    as_of_ms: int
    verdict: Verdict
    checks: tuple[Check, ...]
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)

    def reason(self) -> str:
        if self.verdict is Verdict.PROMOTE:
            return "every criterion met"
        failed = [c for c in self.failed if c.limit] or list(self.failed)
        return "; ".join(check.describe() for check in failed)

    def thresholds(self) -> dict[str, Any]:
        return {
            check.name: {"threshold": check.threshold, "at_least": check.at_least}
            for check in self.checks
        }


def sampled_equity(
    times_ms: NDArray[np.int64], equity: NDArray[np.float64], period_ms: int
) -> NDArray[np.float64]:
    """Equity at every ``period_ms`` from the first point: the last value at or before each
    mark (the curve is a step function between its points), ending with the last point."""
    if len(times_ms) == 0:
        return np.empty(0, np.float64)
    marks = np.arange(int(times_ms[0]), int(times_ms[-1]), period_ms, dtype=np.int64)
    at = np.searchsorted(times_ms, marks, side="right") - 1
    sampled = np.append(equity[at], equity[-1])
    return sampled.astype(np.float64)


def evaluate(record: StageRecord, criteria: Criteria, *, has_next: bool = True) -> Evaluation:
    """Measure ``record`` against ``criteria``; ``has_next``: whether there is a stage above
    (at the top a play can only be held or demoted)."""
    metrics = _measure(record, criteria)
    checks = _checks(metrics, criteria)
    if any(check.limit and not check.passed for check in checks):
        verdict = Verdict.DEMOTE
    elif has_next and all(check.passed for check in checks if not check.limit):
        verdict = Verdict.PROMOTE
    else:
        verdict = Verdict.HOLD
    return Evaluation(
        play=record.play,
        stage=record.stage,
        as_of_ms=record.as_of_ms,
        verdict=verdict,
        checks=checks,
        metrics=metrics,
    )


def _measure(record: StageRecord, criteria: Criteria) -> dict[str, Any]:
    period_ms = criteria.return_period_minutes * MINUTE_MS
    returns = bar_returns(sampled_equity(record.equity_ms, record.equity, period_ms))
    per_year = YEAR_MS / period_ms
    estimate = sharpe_estimate(returns)
    first, last = _ends(record.equity)
    wins = sum((p for p in record.trade_pnls if p > 0), Decimal(0))
    losses = -sum((p for p in record.trade_pnls if p < 0), Decimal(0))
    return {
        "days": record.days,
        "trades": len(record.trade_pnls),
        "return_percent": (last / first - 1.0) * 100 if first > 0 else None,
        "sharpe": None if estimate is None else estimate.sharpe * math.sqrt(per_year),
        "psr": None if estimate is None else psr(estimate, criteria.psr_benchmark_sharpe, per_year),
        "returns": len(returns),
        "profit_factor": float(wins / losses) if losses > 0 else None,
        "max_drawdown_percent": _max_drawdown(record.equity) * 100,
        "slippage_bps": record.slippage_bps,
        "fee_excess_percent": _fee_excess(record),
    }


def _checks(metrics: dict[str, Any], criteria: Criteria) -> tuple[Check, ...]:
    proofs: list[tuple[str, float | None]] = [
        ("days", criteria.min_days),
        ("trades", float(criteria.min_trades)),
        ("return_percent", criteria.min_return_percent),
        ("sharpe", criteria.min_sharpe),
        ("psr", criteria.min_psr),
        ("profit_factor", criteria.min_profit_factor),
    ]
    caps: list[tuple[str, float | None]] = [
        ("slippage_bps", criteria.max_slippage_bps),
        ("fee_excess_percent", criteria.max_fee_excess_percent),
    ]
    checks = [
        Check(metric, _number(metrics[metric]), threshold, at_least=True)
        for metric, threshold in proofs
        if threshold is not None
    ]
    checks += [
        Check(metric, _number(metrics[metric]), threshold, at_least=False)
        for metric, threshold in caps
        if threshold is not None
    ]
    if criteria.max_drawdown_percent is not None:
        drawdown = float(metrics["max_drawdown_percent"])
        limit = criteria.max_drawdown_percent
        checks.append(Check("max_drawdown_percent", drawdown, limit, at_least=False, limit=True))
    return tuple(checks)


def _number(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _ends(equity: NDArray[np.float64]) -> tuple[float, float]:
    if len(equity) == 0:
        return 0.0, 0.0
    return float(equity[0]), float(equity[-1])


def _max_drawdown(equity: NDArray[np.float64]) -> float:
    if len(equity) == 0 or equity[0] <= 0:
        return 0.0
    return float(np.max(drawdown_series(equity)))


def _fee_excess(record: StageRecord) -> float | None:
    if record.fees_paid is None or record.fees_expected is None or record.fees_expected <= 0:
        return None
    return float((record.fees_paid / record.fees_expected - 1) * 100)
