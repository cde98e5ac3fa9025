"""From a play file to a :class:`CompiledPlay`: everything checked, nothing left to guess.

Three stages, each reporting every problem it finds with file and line:

1. YAML → plain data with the line of every field (:mod:`~tradeplay.play.document`);
2. schema: types, ranges, known fields and symbols (:mod:`~tradeplay.play.validation`);
3. meaning: feature kinds, parameters and timeframes against the feature registry; rules parsed
   and type-checked; references of stops and targets; fields that depend on each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import NamedTuple

from tradeplay.features import REGISTRY
from tradeplay.play import semantics, summary
from tradeplay.play.checker import BAR_FIELDS, Checked, Namespace, compile_rule
from tradeplay.play.document import Document, read_document
from tradeplay.play.errors import ExpressionError, PlayFileError, Problem
from tradeplay.play.feature_refs import FeatureRef, resolve_features
from tradeplay.play.levels import protection_levels
from tradeplay.play.nodes import Expr, Logic, names
from tradeplay.play.risk import VolatilityTarget
from tradeplay.play.schema import Play
from tradeplay.play.validation import validate_play


class ColumnRef(NamedTuple):
    """Where a rule column comes from: a feature's output, or the bar itself (feature None)."""

    feature: str | None
    output: str


@dataclass(frozen=True, slots=True)
class CompiledPlay:
    """A validated play, ready for the engine."""

    source: str
    play: Play
    features: tuple[FeatureRef, ...]
    """Every feature to compute, including those the compiler added for ATR distances."""
    columns: Mapping[str, ColumnRef]
    """Every column the rules and protections read, by canonical name."""
    rules: Mapping[str, Expr]
    """Checked rules by ``long.entry``, ``long.exit``, ``short.entry``, ``short.exit``."""
    rule_texts: Mapping[str, str]
    rule_lookbacks: Mapping[str, int]
    levels: Mapping[str, str]
    """Protection columns: ``stop_loss.atr``, ``stop_loss.below`` … → column name."""
    max_holding_bars: int | None
    warmup_bars: int
    """Trading-timeframe bars before the first signal can be trusted: the slowest feature's
    warm-up (scaled for higher timeframes), plus the deepest rule look-back, at least the
    sizing look-back."""

    @property
    def name(self) -> str:
        return self.play.name

    @property
    def max_lookback(self) -> int:
        """The deepest ``x[n]`` / window any rule reads, in trading bars."""
        return max(self.rule_lookbacks.values(), default=0)

    @property
    def feature_warmup_bars(self) -> int:
        trading = self.play.timeframe
        return max((ref.warmup_bars(trading) for ref in self.features), default=0)

    def describe(self) -> str:
        """A readable summary of the play, as ``tradeplay play show`` prints it."""
        return summary.describe(self)


def load_play(path: str | Path) -> CompiledPlay:
    """Read and compile a play file; PlayFileError (an InputError) naming file and line."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start} cannot be read); save the play as UTF-8"
        raise PlayFileError(source, [Problem("", message)]) from None
    except OSError as error:
        message = f"cannot read the play: {error.strerror or error}"
        raise PlayFileError(source, [Problem("", message)]) from None
    return compile_play(text, source)


def compile_play(text: str, source_name: str = "<play>") -> CompiledPlay:
    """Compile the text of a play; ``source_name`` names it in messages (usually the path)."""
    document = read_document(text, source_name)
    play = validate_play(document)
    return _compile(play, document)


def _compile(play: Play, document: Document) -> CompiledPlay:
    problems: list[Problem] = []
    semantics.check_market(play, document, problems)
    refs = resolve_features(play, document, problems)
    resolved = {ref.name for ref in refs}
    namespace = Namespace(
        {ref.name: ref.outputs for ref in refs},
        pending=[name for name in play.features if name not in resolved],
        kinds=REGISTRY.kinds(),
        flags={ref.name: REGISTRY.get(ref.kind).flags for ref in refs},
    )
    rules = _compile_rules(play, namespace, document, problems)
    levels = protection_levels(play, refs, namespace, document, problems)
    semantics.check_sides(play, document, problems)
    semantics.check_sizing(play, document, problems)
    holding = semantics.holding_bars(play, document, problems)
    if problems:
        ordered = sorted(problems, key=lambda p: math.inf if p.line is None else p.line)
        raise PlayFileError(document.source, ordered)
    features = (*refs, *levels.added)
    lookbacks = {key: checked.lookback for key, checked in rules.items()}
    return CompiledPlay(
        source=document.source,
        play=play,
        features=features,
        columns=_columns(features, [c.expr for c in rules.values()], levels.columns.values()),
        rules={key: checked.expr for key, checked in rules.items()},
        rule_texts=_rule_texts(play),
        rule_lookbacks=lookbacks,
        levels=dict(levels.columns),
        max_holding_bars=holding,
        warmup_bars=_warmup_bars(play, features, lookbacks),
    )


def _compile_rules(
    play: Play, namespace: Namespace, document: Document, problems: list[Problem]
) -> dict[str, Checked]:
    compiled: dict[str, Checked] = {}
    for key, texts in _rule_sources(play).items():
        side, part = key.split(".")
        checked: list[Checked] = []
        for index, text in enumerate(texts):
            single = len(texts) == 1
            where = key if single else f"{key}[{index}]"
            path = (side, part) if single else (side, part, index)
            try:
                checked.append(compile_rule(text, namespace, where))
            except ExpressionError as error:
                problems.append(error.problem(document.line(path)))
        if len(checked) == len(texts):
            compiled[key] = reduce(_both, checked)
    return compiled


def _both(first: Checked, second: Checked) -> Checked:
    joined = Logic("and", first.expr, second.expr, second.expr.at)
    return Checked(joined, max(first.lookback, second.lookback))


def _rule_sources(play: Play) -> dict[str, tuple[str, ...]]:
    sources: dict[str, tuple[str, ...]] = {}
    for side in semantics.SIDES:
        rules = getattr(play, side)
        for part in ("entry", "exit"):
            texts = None if rules is None else getattr(rules, part)
            if texts:
                sources[f"{side}.{part}"] = texts
    return sources


def _rule_texts(play: Play) -> dict[str, str]:
    return {
        key: texts[0] if len(texts) == 1 else " and ".join(f"({text})" for text in texts)
        for key, texts in _rule_sources(play).items()
    }


def _columns(
    features: tuple[FeatureRef, ...], exprs: list[Expr], extra: Iterable[str]
) -> dict[str, ColumnRef]:
    known: dict[str, ColumnRef] = {name: ColumnRef(None, name) for name in BAR_FIELDS}
    for ref in features:
        known.update({name: ColumnRef(*where) for name, where in ref.columns.items()})
    wanted = [name for expr in exprs for name in names(expr)]
    wanted.extend(extra)
    return {name: known[name] for name in dict.fromkeys(wanted)}


def _warmup_bars(play: Play, features: tuple[FeatureRef, ...], lookbacks: Mapping[str, int]) -> int:
    slowest = max((ref.warmup_bars(play.timeframe) for ref in features), default=0)
    sizing = play.sizing.lookback if isinstance(play.sizing, VolatilityTarget) else 0
    return max(slowest + max(lookbacks.values(), default=0), sizing)
