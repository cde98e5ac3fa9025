"""Columns the protective orders read: the ATR of ATR distances, the levels of structure stops.

An ATR distance names an ``atr`` feature of the play, or gets one the compiler adds on the
trading timeframe (named ``_atr<period>``, a name no play can write). A play feature with the
same parameters on the trading timeframe is reused instead of computing it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from tradeplay.domain.errors import InputError
from tradeplay.play.checker import Namespace
from tradeplay.play.document import Document
from tradeplay.play.errors import Problem, did_you_mean
from tradeplay.play.feature_refs import FeatureRef, generated_feature
from tradeplay.play.risk import AtrDistance, StructureStop
from tradeplay.play.schema import Play

ATR_KIND: Final = "atr"
PROTECTIONS: Final = ("stop_loss", "take_profit", "trailing_stop")


@dataclass(slots=True)
class Levels:
    """What the protective orders need: added features and ``section.field`` → column."""

    added: list[FeatureRef] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)


def protection_levels(
    play: Play,
    refs: list[FeatureRef],
    namespace: Namespace,
    document: Document,
    problems: list[Problem],
) -> Levels:
    """The columns of every protection; problems for references that do not hold."""
    finder = _Finder(play, refs, document, problems)
    for section_name in PROTECTIONS:
        section = getattr(play, section_name)
        if isinstance(section, AtrDistance):
            column = finder.atr_column(section_name, section)
            if column is not None:
                finder.levels.columns[f"{section_name}.atr"] = column
    if isinstance(play.stop_loss, StructureStop):
        for side in ("below", "above"):
            name = getattr(play.stop_loss, side)
            if name is None:
                continue
            try:
                finder.levels.columns[f"stop_loss.{side}"] = namespace.resolve(name)
            except LookupError as error:
                problems.append(document.problem(("stop_loss", side), str(error.args[0])))
    return finder.levels


@dataclass(slots=True)
class _Finder:
    play: Play
    refs: list[FeatureRef]
    document: Document
    problems: list[Problem]
    levels: Levels = field(default_factory=Levels)

    def report(self, path: tuple[str, str], message: str) -> None:
        self.problems.append(self.document.problem(path, message))

    def atr_column(self, section_name: str, section: AtrDistance) -> str | None:
        if section.atr is not None:
            if section.period is not None:
                self.report((section_name, "period"), "give either atr or period, not both")
                return None
            return self.named_atr(section_name, section.atr)
        period = section.atr_period
        try:
            wanted = generated_feature(
                ATR_KIND, {"period": period}, f"_atr{period}", self.play.timeframe
            )
        except InputError as error:
            message = f"ATR distances need the '{ATR_KIND}' feature kind: {error}"
            self.report((section_name, "method"), message)
            return None
        for ref in (*self.refs, *self.levels.added):
            if (ref.kind, ref.params, ref.timeframe) == (ATR_KIND, wanted.params, wanted.timeframe):
                return ref.name
        self.levels.added.append(wanted)
        return wanted.name

    def named_atr(self, section_name: str, name: str) -> str | None:
        path = (section_name, "atr")
        ref = next((ref for ref in self.refs if ref.name == name), None)
        if ref is None:
            features = self.play.features
            if name in features:
                return None  # the feature itself is wrong and already reported
            atrs = [feature for feature, decl in features.items() if decl.kind == ATR_KIND]
            hint = did_you_mean(name, features)
            advice = (
                f"atr features: {', '.join(atrs)}"
                if atrs
                else f"add one ({name}: {{kind: atr, period: 14}}) or write period: 14 instead"
            )
            self.report(path, f"no feature named '{name}'{hint}; {advice}")
            return None
        if ref.kind != ATR_KIND:
            self.report(path, f"feature '{name}' is of kind {ref.kind}, not {ATR_KIND}")
            return None
        return ref.name
