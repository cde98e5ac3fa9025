"""The play's features checked against the feature registry, as :class:`FeatureRef` values.

Kinds, parameters and outputs come from :data:`tradeplay.features.REGISTRY`, never from a list
kept here, so a kind added to the registry is usable in plays at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.features import REGISTRY, Feature, FeatureSpec, ParamSpec
from tradeplay.play.checker import BAR_FIELDS
from tradeplay.play.document import Document, Path
from tradeplay.play.errors import Problem, did_you_mean
from tradeplay.play.functions import FUNCTIONS
from tradeplay.play.lexer import KEYWORDS
from tradeplay.play.schema import FeatureDecl, Play
from tradeplay.play.sections import shown

_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_SANITY_CAP: Final = 100_000
"""Parameter maxima at or above this are sanity caps, left out of the expected range."""


@dataclass(frozen=True, slots=True)
class FeatureRef:
    """One feature the play computes: kind, checked parameters, timeframe, outputs."""

    name: str
    kind: str
    params: Mapping[str, Any]
    """Every parameter of the kind, defaults filled in."""
    timeframe: Timeframe
    outputs: tuple[str, ...]
    warmup: int
    """Bars of its own timeframe before the first value."""

    @property
    def columns(self) -> dict[str, tuple[str, str]]:
        """Canonical rule column → (feature name, output)."""
        if len(self.outputs) == 1:
            return {self.name: (self.name, self.outputs[0])}
        return {f"{self.name}.{out}": (self.name, out) for out in self.outputs}

    def feature(self) -> Feature:
        """The computable feature (batch or streaming)."""
        return Feature.of(self.kind, self.params)

    def warmup_bars(self, trading: Timeframe) -> int:
        """Trading-timeframe bars before this feature's first value is visible to a rule.

        A higher-timeframe value is visible once its bar has closed. History may start in the
        middle of a higher bar, which is then incomplete and dropped: the worst case costs one
        higher bar more, less one trading bar.
        """
        ratio = self.timeframe.ms // trading.ms
        return self.warmup if ratio <= 1 else (self.warmup + 2) * ratio - 2

    def describe(self) -> str:
        params = ", ".join(f"{key}={value}" for key, value in self.params.items())
        return f"{self.kind}({params}) on {self.timeframe}"


def resolve_features(play: Play, document: Document, problems: list[Problem]) -> list[FeatureRef]:
    """A reference for every feature that checks out; a problem for every one that does not."""
    refs: list[FeatureRef] = []
    for name, decl in play.features.items():
        found = _check_name(name)
        if found is None:
            ref = _resolve(play, name, decl, document, problems)
            refs.extend([ref] if ref is not None else [])
        else:
            problems.append(document.problem(("features", name), found))
    return refs


def generated_feature(
    kind: str, params: Mapping[str, Any], name: str, timeframe: Timeframe
) -> FeatureRef:
    """A feature the compiler adds itself (e.g. the ATR of an ATR stop); InputError if unknown."""
    spec = REGISTRY.get(kind)
    resolved = spec.resolve(params)
    return FeatureRef(name, kind, resolved, timeframe, spec.outputs, spec.warmup(resolved))


def _check_name(name: str) -> str | None:
    if not _NAME.fullmatch(name):
        return (
            f"'{name}' cannot name a feature: start with a letter, then letters, digits or _ "
            "(at most 64 characters)"
        )
    if name in BAR_FIELDS:
        return f"'{name}' is a bar field; give the feature another name"
    if name in KEYWORDS or name in FUNCTIONS:
        return f"'{name}' is a word of the rule language; give the feature another name"
    return None


def _resolve(
    play: Play, name: str, decl: FeatureDecl, document: Document, problems: list[Problem]
) -> FeatureRef | None:
    here: Path = ("features", name)
    try:
        spec = REGISTRY.get(decl.kind)
    except InputError as error:
        problems.append(document.problem((*here, "kind"), str(error)))
        return None
    timeframe = decl.timeframe or play.timeframe
    count = len(problems)
    _check_timeframe(play, timeframe, document, (*here, "timeframe"), problems)
    for key, value in decl.params.items():
        message = _param_problem(spec, key, value)
        if message is not None:
            problems.append(document.problem((*here, key), message))
    if len(problems) > count:
        return None
    try:
        resolved = spec.resolve(decl.params)
    except InputError as error:
        problems.append(document.problem(here, str(error)))
        return None
    return FeatureRef(name, spec.kind, resolved, timeframe, spec.outputs, spec.warmup(resolved))


def _check_timeframe(
    play: Play, timeframe: Timeframe, document: Document, path: Path, problems: list[Problem]
) -> None:
    loaded = play.loaded_timeframes
    if timeframe in loaded:
        return
    if timeframe < play.timeframe:
        message = (
            f"{timeframe} is shorter than the trading timeframe {play.timeframe}; features run "
            "on the trading timeframe or a larger one listed in timeframes"
        )
    else:
        listed = ", ".join(str(tf) for tf in (*play.timeframes, timeframe))
        message = f"{timeframe} is not loaded by this play; add it: timeframes: [{listed}]"
    problems.append(document.problem(path, message))


def _param_problem(spec: FeatureSpec, key: str, value: object) -> str | None:
    params = {param.name: param for param in spec.params}
    param = params.get(key)
    if param is None:
        takes = ", ".join(params) or "no parameters"
        inline = "; write parameters inline, e.g. fast: {kind: ema, period: 12}"
        return (
            f"feature kind '{spec.kind}' has no parameter '{key}'{did_you_mean(key, params)}; "
            f"it takes {takes}{inline if key == 'params' else ''}"
        )
    if param.kind is str:
        return _text_problem(param, value)
    return _number_problem(param, value)


def _text_problem(param: ParamSpec, value: object) -> str | None:
    if isinstance(value, str) and (not param.choices or value in param.choices):
        return None
    if not param.choices:
        return f"expected text, got {shown(value)}"
    hint = did_you_mean(value, param.choices) if isinstance(value, str) else ""
    return f"expected one of {', '.join(param.choices)}, got {shown(value)}{hint}"


def _number_problem(param: ParamSpec, value: object) -> str | None:
    what = "a whole number" if param.kind is int else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"expected {what}{_bounds(param, None)}, got {shown(value)}"
    low_ok = param.minimum is None or value >= param.minimum
    high_ok = param.maximum is None or value <= param.maximum
    if (param.kind is int and not float(value).is_integer()) or not (low_ok and high_ok):
        return f"expected {what}{_bounds(param, value)}, got {shown(value)}"
    return None


def _bounds(param: ParamSpec, value: float | None) -> str:
    low, high = param.minimum, param.maximum
    if high is not None and value is not None and value > high:
        return f" ≤ {high:g}"
    if low is not None and high is not None and high < _SANITY_CAP:
        return f" between {low:g} and {high:g}"
    if low is not None:
        return f" ≥ {low:g}"
    return f" ≤ {high:g}" if high is not None else ""
