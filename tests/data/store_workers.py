"""Process entry points for the store's concurrency tests (importable by spawned children)."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import numpy as np

from tests.data.factories import ramp_candles
from tradeplay.data.candles import Candles
from tradeplay.data.store import CandleStore, DatasetKey

KEY = DatasetKey.candles("bybit", "BTCUSDT", "1m")
CHUNK = 1_500


def version(number: int) -> Candles:
    """Version ``number`` of a dataset: its length and every value identify it."""
    candles = ramp_candles(60_000 + 45_000 * (number % 5), start_price=100.0 + number)
    return Candles(candles.ts, candles.open, candles.high, candles.low, candles.close,
                   np.full(len(candles), float(number)))  # fmt: skip


def read_until_stopped(root: str, ready: Event, stop: Event, results: Queue[object]) -> None:
    """Load the dataset in a loop; report how many reads saw a complete, known version."""
    store = CandleStore(Path(root))
    reads, seen, broken = 0, set(), []
    while not stop.is_set():
        try:
            candles = store.load_candles(KEY)
        except Exception as error:
            broken.append(f"read {reads} failed: {type(error).__name__}: {error}")
        else:
            number = int(candles.volume[0])
            if candles != version(number):
                broken.append(f"read {reads}: {len(candles)} rows do not match version {number}")
            seen.add(number)
        reads += 1
        ready.set()
    results.put((reads, sorted(seen), broken[:5]))


def append_chunks(root: str, chunks: list[int], name: str, start: Event) -> None:
    """Append the given chunks of one long ramp, one ``append_candles`` call per chunk."""
    store = CandleStore(Path(root), lock_timeout_s=120.0)
    whole = ramp_candles(CHUNK * (max(chunks) + 2))
    start.wait()
    for chunk in chunks:
        store.append_candles(KEY, whole[chunk * CHUNK : (chunk + 1) * CHUNK], source=name)
