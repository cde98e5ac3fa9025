"""TA-Lib agreement cases for ``kernels/averages.py``."""

from __future__ import annotations

import talib

from tests.features.oracle import Case, on

CASES = [
    Case("sma", {"period": 20}, on(talib.SMA, timeperiod=20)),
    Case("sma", {"period": 200}, on(talib.SMA, timeperiod=200)),
    Case("ema", {"period": 12}, on(talib.EMA, timeperiod=12)),
    Case("ema", {"period": 100}, on(talib.EMA, timeperiod=100)),
]
