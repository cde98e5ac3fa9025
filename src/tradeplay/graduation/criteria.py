"""The ladder's stages and what a play must show in each to move up.

A stage's :class:`Criteria` are of two kinds. **Proof** — minimum time and trades in the stage,
return, Sharpe ratio, probabilistic Sharpe ratio, profit factor, and in live stages slippage and
fees against what the backtest expected — must all pass for a promotion; until they do the play
stays where it is. **Limits** — the maximum drawdown — are breaches: crossing one demotes the
play to the previous stage (a live play is also flattened and halted by the runtime).

The defaults are deliberately demanding for real money and lenient where nothing is at stake;
a deployment overrides any of them per stage. Ratios are annualised; percentages are percent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_CRITERIA", "DEFAULT_LADDER", "Criteria", "Stage"]


class Stage(StrEnum):
    """A rung of the ladder. ``live_pilot`` trades live with the pilot share of the capital."""

    BACKTEST = "backtest"
    SHADOW = "shadow"
    PAPER = "paper"
    DEMO = "demo"
    TESTNET = "testnet"
    LIVE_PILOT = "live_pilot"
    LIVE = "live"

    @property
    def is_live(self) -> bool:
        return self in {Stage.LIVE_PILOT, Stage.LIVE}


DEFAULT_LADDER: Final = (Stage.BACKTEST, Stage.SHADOW, Stage.DEMO, Stage.LIVE_PILOT, Stage.LIVE)

Percent = Annotated[float, Field(gt=0)]
Probability = Annotated[float, Field(ge=0, le=1)]


class Criteria(BaseModel):
    """What one stage asks of a play's record in it; a criterion left out is not checked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_days: float = Field(default=0.0, ge=0)
    """Time the play traded in the stage, in days of the bars its engine ran on: paused, or
    waiting for its account to reconcile, or not running, it proves nothing (for the backtest
    stage: the out-of-sample span)."""
    min_trades: int = Field(default=0, ge=0)
    min_return_percent: float | None = None
    min_sharpe: float | None = None
    min_psr: Probability | None = None
    """Least probability that the true Sharpe ratio exceeds ``psr_benchmark_sharpe``."""
    psr_benchmark_sharpe: float = 0.0
    min_profit_factor: float | None = Field(default=None, ge=0)
    max_slippage_bps: float | None = Field(default=None, ge=0)
    """Most mean slippage beyond what the simulator expected, in basis points of price."""
    max_fee_excess_percent: float | None = Field(default=None, ge=0)
    """Most fees paid beyond those the simulator expected, in percent of them."""
    max_drawdown_percent: Percent | None = None
    """A limit, not a proof: a deeper fall from the stage's equity peak demotes."""
    return_period_minutes: int = Field(default=60, gt=0)
    """Equity is sampled at this period for the Sharpe ratio and its PSR."""


DEFAULT_CRITERIA: Final[dict[Stage, Criteria]] = {
    Stage.BACKTEST: Criteria(
        min_days=30,
        min_trades=30,
        min_return_percent=0.0,
        min_sharpe=0.5,
        min_psr=0.9,
        min_profit_factor=1.1,
        max_drawdown_percent=30,
    ),
    Stage.SHADOW: Criteria(min_days=7, min_trades=10, min_return_percent=0.0, min_psr=0.6),
    Stage.PAPER: Criteria(
        min_days=14, min_trades=20, min_return_percent=0.0, min_psr=0.7, max_drawdown_percent=25
    ),
    Stage.DEMO: Criteria(
        min_days=14,
        min_trades=20,
        min_return_percent=0.0,
        min_psr=0.7,
        min_profit_factor=1.05,
        max_drawdown_percent=25,
    ),
    Stage.TESTNET: Criteria(
        min_days=14, min_trades=20, min_return_percent=0.0, min_psr=0.7, max_drawdown_percent=25
    ),
    Stage.LIVE_PILOT: Criteria(
        min_days=30,
        min_trades=30,
        min_return_percent=0.0,
        min_psr=0.8,
        min_profit_factor=1.05,
        max_slippage_bps=10,
        max_fee_excess_percent=25,
        max_drawdown_percent=15,
    ),
    Stage.LIVE: Criteria(min_days=7, min_trades=10, max_drawdown_percent=20),
}
"""Per stage. In the top stage the proofs pace the capital ramp: each step needs a record of
their length at the share before it."""
