"""All the features of a play, on several timeframes, as named columns: batch and streaming.

A play trades on one timeframe and may read features of larger ones. Larger bars are built from
the trading bars by an aggregation kernel that is itself a step kernel, so backtest and live
build them identically, and a larger-timeframe value becomes visible to the trading timeframe
only on the trading bar that closes its bar:

    15m bars   00:00 00:15 00:30 00:45 | 01:00 ...
    1h bar     [00:00 ........... 01:00)  closes with the 00:45 bar: visible from that bar on

A larger bin with a missing trading bar (a gap in the data) is dropped, as
:func:`tradeplay.data.resample.resample` drops it: it would be a bar the exchange never printed.

Columns are named ``name.output`` (``bb.upper``, ``ob.bull.top``); a single-output feature is
also available under its bare name (``fast`` = ``fast.value``). The bar columns ``open``,
``high``, ``low``, ``close`` and ``volume`` are always present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.features.compute import Feature, FeatureStream
from tradeplay.features.spec import BAR_COLUMNS

BAR_NAMES = ("open", "high", "low", "close", "volume")
Columns = dict[str, NDArray[np.float64]]


# state: [0] bars in the current bin, [1] bin open time, [2:7] open, high, low, close, volume
@njit(cache=True)
def aggregate_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    """Emit a larger bar on the trading bar that completes it (NaN rows otherwise)."""
    span, needed = params[0], params[1]
    for i in range(bars.shape[0]):
        ts = bars[i, 0]
        start = ts - ts % span
        if state[0] > 0 and start != state[1]:
            state[0] = 0.0  # the previous bin missed a bar: drop it, like resample(partial="drop")
        if state[0] == 0:
            state[1] = start
            state[2] = bars[i, 1]
            state[3] = bars[i, 2]
            state[4] = bars[i, 3]
            state[6] = 0.0
        else:
            state[3] = max(state[3], bars[i, 2])
            state[4] = min(state[4], bars[i, 3])
        state[5] = bars[i, 4]
        state[6] += bars[i, 5]
        state[0] += 1.0
        for c in range(6):
            out[i, c] = np.nan
        if state[0] == needed:
            out[i, 0] = state[1]
            for c in range(1, 6):
                out[i, c] = state[1 + c]
            state[0] = 0.0


@dataclass(frozen=True, slots=True)
class NamedFeature:
    """A feature as a play names it, on the timeframe it is computed on."""

    name: str
    feature: Feature
    timeframe: Timeframe

    def columns(self) -> list[tuple[str, int]]:
        """``(column name, output index)`` of every column this feature provides."""
        named = [(f"{self.name}.{output}", k) for k, output in enumerate(self.feature.outputs)]
        return [(self.name, 0), *named] if len(named) == 1 else named


class FeatureFrame:
    """The features of one play over one symbol's trading-timeframe bars."""

    def __init__(self, timeframe: Timeframe, features: Sequence[NamedFeature]) -> None:
        for named in features:
            if not timeframe.divides(named.timeframe):
                raise InputError(
                    f"feature '{named.name}' is on {named.timeframe}, which is not a whole "
                    f"multiple of the trading timeframe {timeframe}"
                )
        self.timeframe = timeframe
        self.features = tuple(features)
        self.larger = tuple(sorted({f.timeframe for f in features if f.timeframe != timeframe}))

    def column_names(self) -> list[str]:
        return [*BAR_NAMES, *(name for f in self.features for name, _ in f.columns())]

    def aggregation_params(self, larger: Timeframe) -> NDArray[np.float64]:
        return np.array([larger.ms, larger.ms // self.timeframe.ms], dtype=np.float64)

    def batch(self, bars: NDArray[np.float64]) -> Columns:
        """Every column for every trading bar (``bars`` is the ``(n, 6)`` kernel matrix)."""
        columns: Columns = {name: bars[:, 1 + k] for k, name in enumerate(BAR_NAMES)}
        larger_bars = {tf: self._aggregate(bars, tf) for tf in self.larger}
        for named in self.features:
            if named.timeframe == self.timeframe:
                values = named.feature.batch(bars)
            else:
                closed, completed_at = larger_bars[named.timeframe]
                values = _visible(named.feature.batch(closed), completed_at, len(bars))
            columns.update({name: values[:, k] for name, k in named.columns()})
        return columns

    def _aggregate(
        self, bars: NDArray[np.float64], larger: Timeframe
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        out = np.empty((bars.shape[0], BAR_COLUMNS), dtype=np.float64)
        state = np.zeros(7, dtype=np.float64)
        aggregate_kernel(state, self.aggregation_params(larger), bars, out)
        completed = ~np.isnan(out[:, 0])
        return np.ascontiguousarray(out[completed]), completed

    def stream(self) -> FrameStream:
        return FrameStream(self)


def _visible(
    values: NDArray[np.float64], completed_at: NDArray[np.bool_], n: int
) -> NDArray[np.float64]:
    """Larger-timeframe rows spread over trading bars: row j from the bar that completed it."""
    latest = np.cumsum(completed_at) - 1
    spread = np.full((n, values.shape[1]), np.nan)
    known = latest >= 0
    spread[known] = values[latest[known]]
    return spread


class FrameStream:
    """The streaming path: one closed trading bar in, the latest value of every column out."""

    def __init__(self, frame: FeatureFrame) -> None:
        self._frame = frame
        self._streams = [named.feature.stream() for named in frame.features]
        self._aggregators = {
            tf: (np.zeros(7, dtype=np.float64), frame.aggregation_params(tf)) for tf in frame.larger
        }
        self._row = np.empty((1, BAR_COLUMNS), dtype=np.float64)
        self._completed = np.empty((1, BAR_COLUMNS), dtype=np.float64)
        self._latest = [np.full(len(named.feature.outputs), np.nan) for named in frame.features]
        self._columns = [named.columns() for named in frame.features]  # built once, read per bar

    def step(self, bar: NDArray[np.float64]) -> dict[str, float]:
        """Advance by one closed trading bar (6 floats); returns every column's latest value."""
        self._row[0] = bar
        closed = self._close_larger_bars()
        for index, named in enumerate(self._frame.features):
            self._advance(index, named, closed)
        return self._snapshot(bar)

    def _close_larger_bars(self) -> dict[Timeframe, NDArray[np.float64]]:
        closed = {}
        for tf, (state, params) in self._aggregators.items():
            aggregate_kernel(state, params, self._row, self._completed)
            if not np.isnan(self._completed[0, 0]):
                closed[tf] = self._completed[0].copy()
        return closed

    def _advance(
        self, index: int, named: NamedFeature, closed: dict[Timeframe, NDArray[np.float64]]
    ) -> None:
        stream: FeatureStream = self._streams[index]
        if named.timeframe == self._frame.timeframe:
            self._latest[index] = stream.step(self._row[0]).copy()
        elif named.timeframe in closed:
            self._latest[index] = stream.step(closed[named.timeframe]).copy()

    def _snapshot(self, bar: NDArray[np.float64]) -> dict[str, float]:
        values = {name: float(bar[1 + k]) for k, name in enumerate(BAR_NAMES)}
        for columns, latest in zip(self._columns, self._latest, strict=True):
            values.update({name: float(latest[k]) for name, k in columns})
        return values
