"""The Play file: schema, expression language, compilation, validation errors.

What the rest of tradeplay calls:

* :func:`load_play` / :func:`compile_play` → :class:`CompiledPlay` (features to compute, checked
  rules, columns, warm-up);
* :func:`signals` / :func:`evaluate` → rule values over columns, the same in backtest and live;
* :func:`check_play` / :func:`show_play` for the command line.

Every mistake in a play raises :class:`PlayError` (an ``InputError``) naming file, line and, in
rules, the column.
"""

from tradeplay.play.compiler import ColumnRef, CompiledPlay, compile_play, load_play
from tradeplay.play.errors import ExpressionError, PlayError, PlayFileError, Problem
from tradeplay.play.evaluate import evaluate, signals
from tradeplay.play.feature_refs import FeatureRef
from tradeplay.play.parser import parse
from tradeplay.play.report import CheckReport, check_play, show_play
from tradeplay.play.schema import Environment, Play

__all__ = [
    "CheckReport",
    "ColumnRef",
    "CompiledPlay",
    "Environment",
    "ExpressionError",
    "FeatureRef",
    "Play",
    "PlayError",
    "PlayFileError",
    "Problem",
    "check_play",
    "compile_play",
    "evaluate",
    "load_play",
    "parse",
    "show_play",
    "signals",
]
