"""The graduation pipeline: plays earn their way up the ladder, backtest → shadow → demo →
live pilot → live, on their own record in each stage (see :mod:`.criteria`, :mod:`.evaluation`
and the probabilistic Sharpe ratio in :mod:`.psr`)."""

from tradeplay.graduation.criteria import DEFAULT_CRITERIA, DEFAULT_LADDER, Criteria, Stage
from tradeplay.graduation.evaluation import Check, Evaluation, StageRecord, Verdict, evaluate
from tradeplay.graduation.psr import probabilistic_sharpe

__all__ = [
    "DEFAULT_CRITERIA",
    "DEFAULT_LADDER",
    "Check",
    "Criteria",
    "Evaluation",
    "Stage",
    "StageRecord",
    "Verdict",
    "evaluate",
    "probabilistic_sharpe",
]
