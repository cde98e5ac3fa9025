"""Crash safety: an interrupted write leaves nothing, a replayed one changes nothing, and
concurrent writers (threads and processes) on one SQLite file neither lose nor corrupt rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.store.builders import T0, at, fill, order
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.position import Position
from tradeplay.store import Database, default_url
from tradeplay.store.schema import fills


class InterruptedWriteError(Exception):
    pass


def _book_fill(database: Database, fail_midway: bool) -> None:
    """Record a fill and the order and position it changes, as the runtime does: one step."""
    booked = fill()
    with database.atomic() as tx:
        tx.fills.record("demo", booked)
        tx.orders.save(
            "demo", order(status=OrderStatus.PARTIALLY_FILLED, updated=1, filled_qty=booked.qty)
        )
        if fail_midway:
            raise InterruptedWriteError("the process died here")
        tx.positions.save("demo", Position(symbol="BTCUSDT").apply_fill(booked))


def test_an_interrupted_write_leaves_nothing_half_written(database: Database) -> None:
    database.orders.save("demo", order(status=OrderStatus.NEW))
    with pytest.raises(InterruptedWriteError):
        _book_fill(database, fail_midway=True)
    assert database.fills.since("demo", T0) == []
    stored = database.orders.get("demo", order().client_order_id)
    assert stored is not None
    assert stored.status is OrderStatus.NEW
    assert database.positions.all("demo") == []


def test_a_write_replayed_after_a_crash_changes_nothing(database: Database) -> None:
    """The process committed, died before it knew, and on restart books the same fill again."""
    _book_fill(database, fail_midway=False)
    _book_fill(database, fail_midway=False)
    assert len(database.fills.since("demo", T0)) == 1
    position = database.positions.get("demo", "BTCUSDT")
    assert position is not None
    assert position.size == Decimal("0.005")


def test_concurrent_writers_on_one_sqlite_file_lose_nothing(tmp_path: Path) -> None:
    """Four writers, each with its own connection pool (as separate engines would be)."""
    url = default_url(tmp_path)
    Database.open(url).close()
    writers = [Database.open(url) for _ in range(4)]

    def write(number: int) -> None:
        for index in range(50):
            with writers[number].atomic() as tx:
                tx.fills.record("demo", fill(f"exec-{number}-{index}", seconds=index))
                tx.fills.record("demo", fill(f"exec-{number}-{index}", seconds=index))

    threads = [threading.Thread(target=write, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with writers[0].engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(fills)).scalar_one() == 200
        assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    for writer in writers:
        writer.close()


_KILLED_WRITER = """
import sys, time
from tests.store.builders import fill
from tradeplay.store import Database
database = Database.open(sys.argv[1])
with database.atomic() as tx:
    for index in range(100):
        tx.fills.record("demo", fill(f"exec-{index}"))
    print("written", flush=True)
    time.sleep(60)  # killed here, before the commit
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_process_leaves_no_partial_transaction(tmp_path: Path) -> None:
    """SIGKILL in the middle of a transaction: after restart, none of its rows exist."""
    url = default_url(tmp_path)
    Database.open(url).close()
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, url],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "written"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    reopened = Database.open(url)
    assert reopened.fills.since("demo", at(-1)) == []
    reopened.fills.record("demo", fill())  # and the database takes writes again at once
    assert len(reopened.fills.since("demo", at(-1))) == 1
    reopened.close()
