"""The graduation pipeline: plays earn their way up the ladder, backtest → shadow → demo →
live pilot → live, on their own record in each stage (see :mod:`.criteria`, :mod:`.evaluation`
the probabilistic Sharpe ratio in :mod:`.psr`, the parity gate in :mod:`.parity` and the rule
book in :mod:`.ladder`)."""

from tradeplay.graduation.criteria import DEFAULT_CRITERIA, DEFAULT_LADDER, Criteria, Stage
from tradeplay.graduation.evaluation import Check, Evaluation, StageRecord, Verdict, evaluate
from tradeplay.graduation.ladder import Action, Decision, Ladder, Placement, decide
from tradeplay.graduation.psr import probabilistic_sharpe

__all__ = [
    "DEFAULT_CRITERIA",
    "DEFAULT_LADDER",
    "Action",
    "Check",
    "Criteria",
    "Decision",
    "Evaluation",
    "Ladder",
    "Placement",
    "Stage",
    "StageRecord",
    "Verdict",
    "decide",
    "evaluate",
    "probabilistic_sharpe",
]
