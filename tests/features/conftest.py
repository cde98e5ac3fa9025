"""Real bars for feature tests, as the ``(n, 6)`` matrices kernels read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from numpy.typing import NDArray

COLUMNS = ("ts", "open", "high", "low", "close", "volume")


def load_bars(path: Path, rows: int | None = None) -> NDArray[np.float64]:
    table = pq.read_table(path, columns=list(COLUMNS))
    bars = np.column_stack([table.column(c).to_numpy().astype(np.float64) for c in COLUMNS])
    return np.ascontiguousarray(bars[-rows:] if rows else bars)


@pytest.fixture(scope="session")
def btc_1h(shared_data: Path) -> NDArray[np.float64]:
    """Real Binance BTCUSDT perpetual hourly bars, the last 20,000 (2024-2026)."""
    return load_bars(shared_data / "binance_BTCUSDT_1h.parquet", 20_000)


@pytest.fixture(scope="session")
def eth_5m(shared_data: Path) -> NDArray[np.float64]:
    """Real Binance ETHUSDT perpetual 5-minute bars (2025-Q1)."""
    return load_bars(shared_data / "binance_ETHUSDT_5m.parquet")


@pytest.fixture(scope="session")
def sol_1m(shared_data: Path) -> NDArray[np.float64]:
    """Real Binance SOLUSDT perpetual 1-minute bars, 5,000 of them."""
    return load_bars(shared_data / "binance_SOLUSDT_1m.parquet", 5_000)
