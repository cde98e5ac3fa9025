"""TA-Lib agreement cases for ``kernels/trend.py`` (Supertrend, not in TA-Lib, is tested in
``test_trend.py``)."""

from __future__ import annotations

import numpy as np
import talib
from numpy.typing import NDArray

from tests.features.oracle import C, Call, Case, H, L

Series = NDArray[np.float64]


def _columns(bars: Series, *columns: int) -> list[Series]:
    return [np.ascontiguousarray(bars[:, c]) for c in columns]


def adx(period: int) -> Call:
    """TA-Lib ADX, PLUS_DI and MINUS_DI (which TA-Lib starts ``period - 1`` bars earlier)."""

    def call(bars: Series) -> tuple[Series, ...]:
        high, low, close = _columns(bars, H, L, C)
        return tuple(
            f(high, low, close, period) for f in (talib.ADX, talib.PLUS_DI, talib.MINUS_DI)
        )

    return call


def aroon(period: int) -> Call:
    """TA-Lib AROON (down, up) and AROONOSC."""

    def call(bars: Series) -> tuple[Series, ...]:
        high, low = _columns(bars, H, L)
        down, up = talib.AROON(high, low, period)
        return up, down, talib.AROONOSC(high, low, period)

    return call


def sar(acceleration: float, maximum: float) -> Call:
    """TA-Lib SAR, and its side: +1 while the SAR is below the bar (long), −1 above (short)."""

    def call(bars: Series) -> tuple[Series, ...]:
        high, low = _columns(bars, H, L)
        value = talib.SAR(high, low, acceleration, maximum)
        return value, np.where(value <= low, 1.0, -1.0)

    return call


TRIPLE = {"adx": 0, "plus_di": 1, "minus_di": 2}
AROON = {"up": 0, "down": 1, "oscillator": 2}
SAR = {"value": 0, "direction": 1}

CASES = [
    Case("adx", {}, adx(14), outputs=TRIPLE),
    Case("adx", {"period": 2}, adx(2), outputs=TRIPLE),
    Case("adx", {"period": 5}, adx(5), outputs=TRIPLE),
    Case("adx", {"period": 30}, adx(30), outputs=TRIPLE),
    Case("aroon", {}, aroon(14), outputs=AROON),
    Case("aroon", {"period": 2}, aroon(2), outputs=AROON),
    Case("aroon", {"period": 25}, aroon(25), outputs=AROON),
    Case("psar", {}, sar(0.02, 0.2), outputs=SAR),
    Case("psar", {"acceleration": 0.01, "maximum": 0.1}, sar(0.01, 0.1), outputs=SAR),
    Case("psar", {"acceleration": 0.05, "maximum": 0.5}, sar(0.05, 0.5), outputs=SAR),
    # An acceleration above the cap is clamped to the cap, start value included (as TA-Lib).
    Case("psar", {"acceleration": 0.3, "maximum": 0.2}, sar(0.3, 0.2), outputs=SAR),
]
