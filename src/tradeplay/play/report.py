"""What the command line calls: ``tradeplay play check`` and ``tradeplay play show``.

Both raise :class:`~tradeplay.play.errors.PlayFileError` (an ``InputError``) for every problem
in the file, already worded for the trader with file and line; they never raise anything else
for a bad play.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tradeplay.play.compiler import CompiledPlay, load_play
from tradeplay.play.feature_refs import FeatureRef


@dataclass(frozen=True, slots=True)
class CheckReport:
    """A play that passed every check, and what was checked (a failing play raises instead)."""

    source: str
    name: str
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    features: tuple[FeatureRef, ...]
    rules: Mapping[str, str]
    """Each rule in canonical form (fully parenthesised, names resolved)."""
    max_lookback: int
    warmup_bars: int
    notes: tuple[str, ...]
    """Things that are allowed but look unintended, e.g. a feature no rule reads."""

    def lines(self) -> list[str]:
        """The report as lines of text."""
        features = ", ".join(f"{ref.name} ({ref.kind})" for ref in self.features) or "none"
        rules = ", ".join(self.rules) or "none"
        return [
            f"{self.source}: ok — {self.name}",
            "  schema: valid (version 1)",
            f"  symbols: {', '.join(self.symbols)}",
            f"  timeframes: {', '.join(self.timeframes)}",
            f"  features: {len(self.features)} resolved: {features}",
            f"  rules: {rules} (deepest look-back {_bars(self.max_lookback)})",
            f"  warm-up: {_bars(self.warmup_bars)} of {self.timeframes[0]}",
            *(f"  note: {note}" for note in self.notes),
        ]


def _bars(count: int) -> str:
    return f"{count} bar" if count == 1 else f"{count} bars"


def check_play(path: str | Path) -> CheckReport:
    """Compile a play file and say what was validated; PlayFileError when anything is wrong."""
    return report(load_play(path))


def show_play(path: str | Path) -> str:
    """The readable summary of a play file; PlayFileError when anything is wrong."""
    return load_play(path).describe()


def report(compiled: CompiledPlay) -> CheckReport:
    play = compiled.play
    used = {column.feature for column in compiled.columns.values()}
    notes = tuple(
        f"feature '{ref.name}' is not used by any rule or protection"
        for ref in compiled.features
        if ref.name not in used
    )
    return CheckReport(
        source=compiled.source,
        name=play.name,
        symbols=play.instruments,
        timeframes=tuple(str(tf) for tf in play.loaded_timeframes),
        features=compiled.features,
        rules={key: str(expr) for key, expr in compiled.rules.items()},
        max_lookback=compiled.max_lookback,
        warmup_bars=compiled.warmup_bars,
        notes=notes,
    )
