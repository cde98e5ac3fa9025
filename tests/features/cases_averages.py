"""TA-Lib agreement cases for ``kernels/averages.py``."""

from __future__ import annotations

import talib

from tests.features.oracle import OPEN, Case, on

CASES = [
    Case("sma", {"period": 20}, on(talib.SMA, timeperiod=20)),
    Case("sma", {"period": 200}, on(talib.SMA, timeperiod=200)),
    Case("ema", {"period": 12}, on(talib.EMA, timeperiod=12)),
    Case("ema", {"period": 100}, on(talib.EMA, timeperiod=100)),
    Case("wma", {}, on(talib.WMA, timeperiod=20)),
    Case("wma", {"period": 1}, on(talib.WMA, timeperiod=1)),
    Case("wma", {"period": 2}, on(talib.WMA, timeperiod=2)),
    Case("wma", {"period": 9, "source": "open"}, on(talib.WMA, OPEN, timeperiod=9)),
    Case("wma", {"period": 200}, on(talib.WMA, timeperiod=200)),
    Case("dema", {}, on(talib.DEMA, timeperiod=20)),
    Case("dema", {"period": 2}, on(talib.DEMA, timeperiod=2)),
    Case("dema", {"period": 9, "source": "open"}, on(talib.DEMA, OPEN, timeperiod=9)),
    Case("dema", {"period": 100}, on(talib.DEMA, timeperiod=100)),
    Case("tema", {}, on(talib.TEMA, timeperiod=20)),
    Case("tema", {"period": 2}, on(talib.TEMA, timeperiod=2)),
    Case("tema", {"period": 9, "source": "open"}, on(talib.TEMA, OPEN, timeperiod=9)),
    Case("tema", {"period": 60}, on(talib.TEMA, timeperiod=60)),
    # TA-Lib >= 0.7 has HMA (Integer(n/2), Integer(sqrt(n))); it is the same Hull average
    Case("hma", {}, on(talib.HMA, timeperiod=20)),
    Case("hma", {"period": 2}, on(talib.HMA, timeperiod=2)),
    Case("hma", {"period": 4}, on(talib.HMA, timeperiod=4)),
    Case("hma", {"period": 9, "source": "open"}, on(talib.HMA, OPEN, timeperiod=9)),
    Case("hma", {"period": 55}, on(talib.HMA, timeperiod=55)),
]
