"""TA-Lib agreement cases for ``kernels/volume.py`` (the session VWAP, not in TA-Lib, is tested
in ``test_volume.py``)."""

from __future__ import annotations

import numpy as np
import talib
from numpy.typing import NDArray

from tests.features.oracle import OPEN, C, Case, H, L, V, on


def _obv_hl2(bars: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    median = (bars[:, H] + bars[:, L]) / 2.0
    return (talib.OBV(np.ascontiguousarray(median), np.ascontiguousarray(bars[:, V])),)


CASES = [
    Case("obv", {}, on(talib.OBV, C, V)),
    Case("obv", {"source": "open"}, on(talib.OBV, OPEN, V)),
    Case("obv", {"source": "hl2"}, _obv_hl2),
]
