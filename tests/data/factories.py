"""Small, readable candle series for data tests (ramp prices, as jesse's fixtures do).

A ramp makes every value predictable from its row: bar ``i`` opens at ``start_price + i`` and
closes one higher, so a test can state expected numbers without a table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from tradeplay.data.candles import CANDLE_COLUMNS, Candles, FundingRates
from tradeplay.domain.timeframe import Timeframe

#: 2024-01-01T00:00:00Z, aligned to every timeframe up to a day.
JAN_1_2024 = 1_704_067_200_000
HOUR = 3_600_000
MINUTE = 60_000


def ramp_candles(
    n: int, *, start_ms: int = JAN_1_2024, timeframe: str = "1m", start_price: float = 100.0
) -> Candles:
    """``n`` consecutive bars: open = start + i, close = open + 1, high/low 0.5 beyond."""
    step = Timeframe.parse(timeframe).ms
    i = np.arange(n, dtype=np.float64)
    opens = start_price + i
    return Candles.from_columns(
        ts=start_ms + np.arange(n, dtype=np.int64) * step,
        open=opens,
        high=opens + 1.5,
        low=opens - 0.5,
        close=opens + 1.0,
        volume=1.0 + i % 7,
    )


def funding_every_8h(n: int, *, start_ms: int = JAN_1_2024, rate: float = 0.0001) -> FundingRates:
    i = np.arange(n)
    return FundingRates.from_columns(ts=start_ms + i * 8 * HOUR, rate=rate * (1 + (i % 3)))


def read_real_candles(folder: Path, name: str) -> Candles:
    """A shared real-data file read with pyarrow directly: an oracle independent of our code."""
    table = pq.read_table(folder / f"{name}.parquet", columns=list(CANDLE_COLUMNS))
    return Candles.from_columns(**{c: table.column(c).to_numpy() for c in CANDLE_COLUMNS})
