"""A compiled play over one symbol's bars: features and signals, batch and streaming.

The batch path computes every column over all bars and evaluates the rules over whole arrays.
The streaming path steps the same kernels one closed bar at a time and evaluates the same rules,
with the same semantics, on the last row of a short tail of the columns that holds everything
any rule looks back at (:mod:`tradeplay.play.last_row`); rule evaluation is causal, so that row
is exactly the backtest's row. Both therefore emit the same signals on the same bars, which
tests prove on real data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tradeplay.features.frame import Columns, FeatureFrame, NamedFeature
from tradeplay.play.compiler import CompiledPlay
from tradeplay.play.evaluate import RULES, signals
from tradeplay.play.last_row import LastRow

Bools = NDArray[np.bool_]

# The tail holds the current row plus the deepest look-back of any rule (the compiler counts
# crosses_above's previous row and highest()'s window in that look-back).
_TAIL_MARGIN = 1


@dataclass(frozen=True, slots=True)
class PlayOutput:
    """Every column and the four rule signals (``long.entry`` …) for every bar."""

    columns: Columns
    signals: dict[str, Bools]


class PlaySignals:
    """One compiled play, ready to compute over the bars of its trading timeframe."""

    def __init__(self, compiled: CompiledPlay) -> None:
        self.compiled = compiled
        self.frame = FeatureFrame(
            compiled.play.timeframe,
            [NamedFeature(ref.name, ref.feature(), ref.timeframe) for ref in compiled.features],
        )
        self.tail = compiled.max_lookback + _TAIL_MARGIN

    def batch(self, bars: NDArray[np.float64]) -> PlayOutput:
        """Columns and signals over all ``bars`` (the ``(n, 6)`` kernel matrix)."""
        columns = self.frame.batch(bars)
        return PlayOutput(columns, signals(self.compiled, columns))

    def stream(self) -> PlayStream:
        return PlayStream(self)


class PlayStream:
    """Feed closed bars one at a time; each step returns that bar's four signals."""

    def __init__(self, play: PlaySignals) -> None:
        self._frame = play.frame.stream()
        self._names = play.frame.column_names()
        self._rules = LastRow({rule: play.compiled.rules.get(rule) for rule in RULES}, self._names)
        self._tail = play.tail
        # Twice the tail, so the window slides by one copy every ``tail`` bars, not every bar.
        self._buffer = np.full((2 * self._tail, len(self._names)), np.nan)
        self._end = 0
        self.columns: dict[str, float] = {}
        """Every column's value on the last bar stepped (what the engine reads besides the
        signals: levels for stops and targets, the close)."""

    def step(self, bar: NDArray[np.float64]) -> dict[str, bool]:
        values = self._frame.step(bar)
        self.columns = values
        if self._end == len(self._buffer):
            keep = self._tail - 1
            self._buffer[:keep] = self._buffer[self._end - keep : self._end]
            self._end = keep
        self._buffer[self._end] = [values[name] for name in self._names]
        self._end += 1
        return self._rules.signals(self._buffer[max(0, self._end - self._tail) : self._end])
