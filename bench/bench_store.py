"""Benchmark of the candle store: write, load and resample a million 1m candles.

Run from the repository root::

    .venv/bin/python bench/bench_store.py [--rows 1000000] [--repeat 10]

Generates a deterministic random walk (seed 7, no network) into a throw-away store, times the
operations and prints a table with each target and PASS / MISS. Exit status 1 if any target is
missed, so CI can run it. Loads are measured with the file in the OS page cache (it was just
written), which is the steady state of a backtest that loads the same data repeatedly.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from tradeplay.data._parquet import COMPRESSION, ROW_GROUP_ROWS
from tradeplay.data.candles import Candles
from tradeplay.data.resample import resample
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.data.validation import validate_candles
from tradeplay.domain.timeframe import Timeframe

KEY = DatasetKey.candles("bench", "BTCUSDT", "1m")
START_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    seconds: list[float]
    target_s: float | None  # judged against the mean; None = informational

    @property
    def verdict(self) -> str:
        if self.target_s is None:
            return ""
        return "PASS" if statistics.fmean(self.seconds) < self.target_s else "MISS"


def random_walk(rows: int, seed: int = 7) -> Candles:
    """1m bars of a log-normal random walk with prices on a 0.1 tick, like BTCUSDT."""
    rng = np.random.default_rng(seed)
    close = np.round(30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0008, rows))), 1)
    open_ = np.concatenate(([close[0]], close[:-1]))
    wick = np.round(rng.exponential(8.0, (2, rows)), 1)
    return Candles.from_columns(
        ts=START_MS + np.arange(rows, dtype=np.int64) * 60_000,
        open=open_,
        high=np.maximum(open_, close) + wick[0],
        low=np.minimum(open_, close) - wick[1],
        close=close,
        volume=np.round(rng.lognormal(2.0, 1.0, rows), 3),
    )


def measure(name: str, repeat: int, target_s: float | None, work: Callable[[], object]) -> Timing:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return Timing(name, seconds, target_s)


def run(rows: int, repeat: int, root: Path) -> list[Timing]:
    candles = random_walk(rows)
    store = CandleStore(root)
    one_minute, one_hour = Timeframe.parse("1m"), Timeframe.parse("1h")
    last_month = START_MS + (rows - 30 * 1440) * 60_000
    return [
        measure("write_candles (validate + write + fsync)", 3, None,
                lambda: store.write_candles(KEY, candles, source="bench")),
        measure("load_candles, whole dataset", repeat, 0.15, lambda: store.load_candles(KEY)),
        measure("load_candles, last 30 days", repeat, None,
                lambda: store.load_candles(KEY, last_month, None)),
        measure("resample 1m -> 1h", repeat, 0.3,
                lambda: resample(candles, one_minute, one_hour)),
        measure("validate_candles", repeat, None,
                lambda: validate_candles(candles, one_minute, "bench")),
        measure("list_datasets", repeat, None, store.list_datasets),
    ]  # fmt: skip


def report(timings: list[Timing], rows: int, root: Path) -> None:
    size = CandleStore(root).info(KEY).size_bytes
    print(f"tradeplay candle store benchmark: {rows:,} 1m candles")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__}, "
        f"{os.cpu_count()} cpus; parquet {COMPRESSION}, {ROW_GROUP_ROWS:,} rows per row group"
    )
    print(f"file size: {size / 1e6:.1f} MB ({size / rows:.1f} bytes per candle)\n")
    print(f"{'operation':<42} {'best':>9} {'mean':>9} {'target':>9}  result")
    for t in timings:
        target = "" if t.target_s is None else f"< {t.target_s:.2f} s"
        print(
            f"{t.name:<42} {min(t.seconds):>8.4f}s {statistics.fmean(t.seconds):>8.4f}s "
            f"{target:>9}  {t.verdict}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tradeplay-bench-") as folder:
        root = Path(folder)
        timings = run(args.rows, args.repeat, root)
        report(timings, args.rows, root)
    return 1 if any(t.verdict == "MISS" for t in timings) else 0


if __name__ == "__main__":
    sys.exit(main())
