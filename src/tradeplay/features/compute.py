"""Running kernels: over whole arrays (batch) or one closed bar at a time (streaming).

Both paths call the same compiled kernel, so their floats are identical bit for bit; see
:mod:`tradeplay.features.spec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import Candles
from tradeplay.features.spec import BAR_COLUMNS, REGISTRY, FeatureSpec, Params


def bar_matrix(candles: Candles) -> NDArray[np.float64]:
    """The ``(n, 6)`` float64 matrix kernels read: ts, open, high, low, close, volume."""
    matrix = np.empty((len(candles), BAR_COLUMNS), dtype=np.float64)
    matrix[:, 0] = candles.ts
    matrix[:, 1] = candles.open
    matrix[:, 2] = candles.high
    matrix[:, 3] = candles.low
    matrix[:, 4] = candles.close
    matrix[:, 5] = candles.volume
    return matrix


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature kind with its checked parameters: ready to compute."""

    spec: FeatureSpec
    params: dict[str, Any]
    encoded: NDArray[np.float64]

    @classmethod
    def of(cls, kind: str, params: Params | None = None) -> Feature:
        spec = REGISTRY.get(kind)
        resolved = spec.resolve(params or {})
        return cls(spec, resolved, spec.encode(resolved))

    @property
    def warmup(self) -> int:
        return self.spec.warmup(self.params)

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.spec.outputs

    def new_state(self) -> NDArray[np.float64]:
        return np.zeros(self.spec.state_size(self.params), dtype=np.float64)

    def batch(self, bars: NDArray[np.float64]) -> NDArray[np.float64]:
        """All outputs for all bars: a ``(n, len(outputs))`` matrix."""
        out = np.empty((bars.shape[0], len(self.spec.outputs)), dtype=np.float64)
        if bars.shape[0]:
            self.spec.kernel(self.new_state(), self.encoded, np.ascontiguousarray(bars), out)
        return out

    def stream(self) -> FeatureStream:
        return FeatureStream(self)


class FeatureStream:
    """The streaming path: feed closed bars one by one, read the outputs of the latest bar."""

    __slots__ = ("_bar", "_feature", "_out", "_state")

    def __init__(self, feature: Feature) -> None:
        self._feature = feature
        self._state = feature.new_state()
        self._bar = np.empty((1, BAR_COLUMNS), dtype=np.float64)
        self._out = np.empty((1, len(feature.outputs)), dtype=np.float64)

    @property
    def feature(self) -> Feature:
        return self._feature

    def step(self, bar: NDArray[np.float64]) -> NDArray[np.float64]:
        """Advance by one closed bar (a row of 6 floats); returns the outputs (a view)."""
        self._bar[0] = bar
        self._feature.spec.kernel(self._state, self._feature.encoded, self._bar, self._out)
        row: NDArray[np.float64] = self._out[0]
        return row
