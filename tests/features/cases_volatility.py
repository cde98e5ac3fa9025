"""TA-Lib agreement cases for ``kernels/volatility.py``.

Keltner and Donchian channels and the Bollinger %B and width are not TA-Lib functions: their
references are built here with numpy from TA-Lib's EMA, ATR, MAX, MIN and BBANDS.
"""

from __future__ import annotations

import numpy as np
import talib
from numpy.typing import NDArray

from tests.features.oracle import C, Call, Case, H, L, on

Series = NDArray[np.float64]
BANDS = {"upper": 0, "middle": 1, "lower": 2}


def _columns(bars: Series, *columns: int) -> list[Series]:
    return [np.ascontiguousarray(bars[:, c]) for c in columns]


def _hlc3(bars: Series) -> Series:
    high, low, close = _columns(bars, H, L, C)
    return (high + low + close) / 3.0


def bollinger(period: int, stddev: float, typical: bool = False) -> Call:
    """TA-Lib BBANDS, plus %B (0.5 on flat bands) and width = (upper − lower) / middle."""

    def call(bars: Series) -> tuple[Series, ...]:
        x = _hlc3(bars) if typical else _columns(bars, C)[0]
        upper, middle, lower = talib.BBANDS(x, period, stddev, stddev)
        span = upper - lower
        with np.errstate(divide="ignore", invalid="ignore"):
            percent_b = np.where(span > 0, (x - lower) / span, 0.5)
            width = np.where(middle != 0, span / middle, 0.0)
        return upper, middle, lower, percent_b, width

    return call


def keltner(period: int, atr_period: int, multiplier: float) -> Call:
    """TA-Lib EMA of the close ± multiplier × TA-Lib ATR."""

    def call(bars: Series) -> tuple[Series, ...]:
        high, low, close = _columns(bars, H, L, C)
        middle = talib.EMA(close, period)
        band = multiplier * talib.ATR(high, low, close, atr_period)
        return middle + band, middle, middle - band

    return call


def donchian(period: int) -> Call:
    """TA-Lib MAX of the highs, MIN of the lows, and their midpoint."""

    def call(bars: Series) -> tuple[Series, ...]:
        high, low = _columns(bars, H, L)
        upper, lower = talib.MAX(high, period), talib.MIN(low, period)
        return upper, (upper + lower) / 2.0, lower

    return call


CASES = [
    Case("trange", {}, on(talib.TRANGE, H, L, C)),
    Case("atr", {}, on(talib.ATR, H, L, C, timeperiod=14)),
    Case("atr", {"period": 1}, on(talib.ATR, H, L, C, timeperiod=1)),
    Case("atr", {"period": 5}, on(talib.ATR, H, L, C, timeperiod=5)),
    Case("atr", {"period": 50}, on(talib.ATR, H, L, C, timeperiod=50)),
    Case("natr", {}, on(talib.NATR, H, L, C, timeperiod=14)),
    Case("natr", {"period": 2}, on(talib.NATR, H, L, C, timeperiod=2)),
    Case("natr", {"period": 30}, on(talib.NATR, H, L, C, timeperiod=30)),
    *(
        Case("bbands", params, call, outputs={**BANDS, "percent_b": 3, "width": 4})
        for params, call in (
            ({}, bollinger(20, 2.0)),
            ({"period": 5, "stddev": 1.0}, bollinger(5, 1.0)),
            ({"period": 50, "stddev": 2.5, "source": "hlc3"}, bollinger(50, 2.5, typical=True)),
        )
    ),
    Case("keltner", {}, keltner(20, 10, 2.0), outputs=BANDS),
    Case("keltner", {"period": 10, "atr_period": 30}, keltner(10, 30, 2.0), outputs=BANDS),
    Case("keltner", {"period": 50, "multiplier": 1.5}, keltner(50, 10, 1.5), outputs=BANDS),
    Case("donchian", {}, donchian(20), outputs=BANDS),
    Case("donchian", {"period": 5}, donchian(5), outputs=BANDS),
    Case("donchian", {"period": 200}, donchian(200), outputs=BANDS),
    Case("highest", {}, on(talib.MAX, H, timeperiod=20)),
    Case("highest", {"period": 2, "source": "close"}, on(talib.MAX, C, timeperiod=2)),
    Case("highest", {"period": 200}, on(talib.MAX, H, timeperiod=200)),
    Case("lowest", {}, on(talib.MIN, L, timeperiod=20)),
    Case("lowest", {"period": 2, "source": "close"}, on(talib.MIN, C, timeperiod=2)),
    Case("lowest", {"period": 200}, on(talib.MIN, L, timeperiod=200)),
    # TA-Lib 0.8's LINEARREG_SLOPE keeps running sums and drifts to ~3e-10 of the exact slope on
    # these series; ours re-sums the window (~1e-12), so the agreement is within TA-Lib's error.
    Case("linreg_slope", {}, on(talib.LINEARREG_SLOPE, C, timeperiod=14)),
    Case("linreg_slope", {"period": 2}, on(talib.LINEARREG_SLOPE, C, timeperiod=2)),
    Case("linreg_slope", {"period": 100}, on(talib.LINEARREG_SLOPE, C, timeperiod=100)),
]
