"""TA-Lib agreement cases for ``kernels/momentum.py``.

Our defaults are the usual charting ones; TA-Lib's own defaults (STOCH 5/3/3, STOCHRSI 14/5/3)
are covered as cases too. MA types are always SMA (``matype=0``).
"""

from __future__ import annotations

import talib

from tests.features.oracle import OPEN, C, Case, H, L, V, on

HLC = (H, L, C)
MACD = {"macd": 0, "signal": 1, "histogram": 2}
KD = {"k": 0, "d": 1}


def stoch(period: int, smooth: int, d_period: int) -> Case:
    kw = {"fastk_period": period, "slowk_period": smooth, "slowd_period": d_period}
    return Case(
        "stoch",
        {"period": period, "k_smoothing": smooth, "d_period": d_period},
        on(talib.STOCH, *HLC, slowk_matype=0, slowd_matype=0, **kw),
        KD,
    )


def stochrsi(rsi_period: int, period: int, d_period: int) -> Case:
    kw = {"timeperiod": rsi_period, "fastk_period": period, "fastd_period": d_period}
    return Case(
        "stochrsi",
        {"rsi_period": rsi_period, "period": period, "d_period": d_period},
        on(talib.STOCHRSI, fastd_matype=0, **kw),
        KD,
    )


def macd(fast: int, slow: int, signal: int) -> Case:
    kw = {"fastperiod": fast, "slowperiod": slow, "signalperiod": signal}
    return Case("macd", {"fast": fast, "slow": slow, "signal": signal}, on(talib.MACD, **kw), MACD)


CASES = [
    Case("rsi", {}, on(talib.RSI, timeperiod=14)),
    Case("rsi", {"period": 2}, on(talib.RSI, timeperiod=2)),
    Case("rsi", {"period": 7, "source": "open"}, on(talib.RSI, OPEN, timeperiod=7)),
    Case("rsi", {"period": 50}, on(talib.RSI, timeperiod=50)),
    stoch(14, 3, 3),
    stoch(5, 3, 3),
    stoch(9, 1, 3),
    stoch(1, 1, 1),
    stoch(21, 5, 5),
    stochrsi(14, 14, 3),
    stochrsi(14, 5, 3),
    stochrsi(7, 9, 1),
    stochrsi(2, 1, 1),
    macd(12, 26, 9),
    macd(5, 35, 5),
    macd(26, 12, 9),  # TA-Lib swaps fast and slow, so do we
    macd(2, 3, 1),
    macd(12, 12, 9),
    Case("cci", {}, on(talib.CCI, *HLC, timeperiod=20)),
    Case("cci", {"period": 2}, on(talib.CCI, *HLC, timeperiod=2)),
    Case("cci", {"period": 14}, on(talib.CCI, *HLC, timeperiod=14)),
    Case("cci", {"period": 100}, on(talib.CCI, *HLC, timeperiod=100)),
    Case("roc", {}, on(talib.ROC, timeperiod=10)),
    Case("roc", {"period": 1}, on(talib.ROC, timeperiod=1)),
    Case("roc", {"period": 30, "source": "open"}, on(talib.ROC, OPEN, timeperiod=30)),
    Case("mom", {}, on(talib.MOM, timeperiod=10)),
    Case("mom", {"period": 1}, on(talib.MOM, timeperiod=1)),
    Case("mom", {"period": 30, "source": "open"}, on(talib.MOM, OPEN, timeperiod=30)),
    Case("willr", {}, on(talib.WILLR, *HLC, timeperiod=14)),
    Case("willr", {"period": 2}, on(talib.WILLR, *HLC, timeperiod=2)),
    Case("willr", {"period": 50}, on(talib.WILLR, *HLC, timeperiod=50)),
    Case("mfi", {}, on(talib.MFI, *HLC, V, timeperiod=14)),
    Case("mfi", {"period": 2}, on(talib.MFI, *HLC, V, timeperiod=2)),
    Case("mfi", {"period": 30}, on(talib.MFI, *HLC, V, timeperiod=30)),
]
