"""The store under concurrency: readers never see half a file, writers never lose bars."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from filelock import FileLock

from tests.data import store_workers
from tests.data.factories import ramp_candles
from tradeplay.data.store import CandleStore
from tradeplay.data.validation import validate_candles
from tradeplay.domain.errors import StoreBusyError

# Spawned children import everything afresh, as separate programs would (no forked locks,
# no forked Arrow thread pools).
SPAWN = multiprocessing.get_context("spawn")


def test_a_reader_process_only_ever_sees_complete_versions_while_a_writer_rewrites(
    tmp_path: Path,
) -> None:
    store = CandleStore(tmp_path)
    store.write_candles(store_workers.KEY, store_workers.version(0), source="v0")
    ready, stop, results = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    reader = SPAWN.Process(
        target=store_workers.read_until_stopped, args=(str(tmp_path), ready, stop, results)
    )
    reader.start()
    try:
        assert ready.wait(timeout=60), "the reader process did not start"
        for number in range(1, 41):  # lengths cycle through 60,000 .. 240,000 rows
            store.write_candles(
                store_workers.KEY, store_workers.version(number), source=f"v{number}"
            )
    finally:
        stop.set()
        reader.join(timeout=60)  # the report is a few bytes: it never blocks the exit

    # A half-written memory-mapped file does not raise, it kills the reader (SIGBUS).
    assert reader.exitcode == 0, f"the reader process died with exit code {reader.exitcode}"
    reads, seen, broken = results.get(timeout=10)
    assert broken == []
    assert reads >= 10
    assert len(seen) >= 3  # the reader really ran while versions were being replaced


def test_two_processes_appending_interleaved_chunks_lose_nothing(tmp_path: Path) -> None:
    start = SPAWN.Event()
    workers = [
        SPAWN.Process(
            target=store_workers.append_chunks,
            args=(str(tmp_path), list(range(first, 24, 2)), name, start),
        )
        for first, name in [(0, "worker even"), (1, "worker odd")]
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0

    store = CandleStore(tmp_path)
    stored = store.load_candles(store_workers.KEY)
    assert stored == ramp_candles(24 * store_workers.CHUNK)
    assert store_workers.KEY.timeframe is not None
    validate_candles(stored, store_workers.KEY.timeframe, "after concurrent appends")
    info = store.info(store_workers.KEY)
    assert info.gaps == 0
    assert set(info.source.split("; ")) == {"worker even", "worker odd"}


def test_a_writer_that_cannot_get_the_lock_in_time_reports_the_store_busy(
    tmp_path: Path,
) -> None:
    store = CandleStore(tmp_path, lock_timeout_s=0.2)
    key = store_workers.KEY
    store.write_candles(key, ramp_candles(10), source="first")

    with FileLock(f"{store.path(key)}.lock"), pytest.raises(StoreBusyError) as caught:
        store.append_candles(key, ramp_candles(20), source="second")

    assert "bybit BTCUSDT 1m is being written by another process: gave up after 0.2 s" in str(
        caught.value
    )
    assert store.load_candles(key) == ramp_candles(10)  # and readers were never blocked


def test_reading_does_not_wait_for_a_writer_holding_the_lock(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    key = store_workers.KEY
    store.write_candles(key, ramp_candles(10), source="first")

    with FileLock(f"{store.path(key)}.lock"):
        assert store.load_candles(key) == ramp_candles(10)
        assert store.info(key).rows == 10
        assert len(store.list_datasets()) == 1
