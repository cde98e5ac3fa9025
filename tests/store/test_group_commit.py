"""SQLite group commit: many threads' writes share commits, and each still returns durable."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, text

from tests.store.builders import at
from tradeplay.domain.errors import StateCorruptionError
from tradeplay.store import Database, EquitySnapshot, Records, default_url

THREADS = 40


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(default_url(tmp_path))
    yield database
    database.close()


def snapshot(value: int) -> EquitySnapshot:
    return EquitySnapshot(
        time=at(value),
        equity=Decimal(value),
        wallet_balance=Decimal(value),
        unrealized_pnl=Decimal(0),
    )


def committed_rows(path: Path, equity: int | None = None) -> int:
    """Rows as another process would see them: only what is committed (of one equity value)."""
    query, args = "SELECT count(*) FROM equity", ()
    if equity is not None:
        query, args = query + " WHERE equity = ?", (str(equity),)
    with sqlite3.connect(path / "state.sqlite3") as other:
        return int(other.execute(query, args).fetchone()[0])


def test_concurrent_writers_share_commits_and_return_only_once_durable(
    sqlite_db: Database, tmp_path: Path
) -> None:
    commits = []
    event.listen(sqlite_db.engine, "commit", lambda _connection: commits.append(1))
    start = threading.Barrier(THREADS)
    seen_after_return: list[int] = []
    lock = threading.Lock()

    def write(value: int) -> None:
        start.wait()
        sqlite_db.equity.record("demo", snapshot(value))
        visible = committed_rows(tmp_path, value)
        with lock:
            seen_after_return.append(visible)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert committed_rows(tmp_path) == THREADS
    assert len(sqlite_db.equity.curve("demo")) == THREADS
    # Every writer's own row was committed by the time its call returned.
    assert seen_after_return == [1] * THREADS
    assert len(commits) < THREADS, "the writes of threads arriving together share commits"


def test_a_failing_block_rolls_back_only_its_own_writes(sqlite_db: Database) -> None:
    with sqlite_db.atomic() as tx:
        tx.equity.record("demo", snapshot(1))

    def fail_half_way() -> None:
        with sqlite_db.atomic() as tx:
            tx.equity.record("demo", snapshot(2))
            raise RuntimeError("the caller's own failure")

    with pytest.raises(RuntimeError, match="the caller's own failure"):
        fail_half_way()
    sqlite_db.equity.record("demo", snapshot(3))
    assert [s.equity for s in sqlite_db.equity.curve("demo")] == [Decimal(1), Decimal(3)]


def test_a_block_opened_inside_another_joins_it(sqlite_db: Database) -> None:
    with sqlite_db.transaction() as connection:
        connection.execute(text("SELECT 1"))
        sqlite_db.equity.record("demo", snapshot(5))  # the same thread: a savepoint within
    assert [s.equity for s in sqlite_db.equity.curve("demo")] == [Decimal(5)]

    def fail_after_the_inner_write() -> None:
        with sqlite_db.transaction():
            sqlite_db.equity.record("demo", snapshot(6))
            raise RuntimeError("the block's own failure")

    with pytest.raises(RuntimeError, match="the block's own failure"):
        fail_after_the_inner_write()
    # The inner write went with the block: undone with it, not committed on its own.
    assert [s.equity for s in sqlite_db.equity.curve("demo")] == [Decimal(5)]


def test_a_commit_that_fails_is_reported_to_its_writers_and_the_next_one_works(
    sqlite_db: Database,
) -> None:
    failing = [True]

    def refuse(_connection: object) -> None:
        if failing.pop() if failing else False:
            raise OSError("disk full")

    event.listen(sqlite_db.engine, "commit", refuse)
    with pytest.raises(StateCorruptionError, match="did not commit: OSError: disk full"):
        sqlite_db.equity.record("demo", snapshot(1))
    sqlite_db.equity.record("demo", snapshot(2))
    assert [s.equity for s in sqlite_db.equity.curve("demo")] == [Decimal(2)]


def test_a_failing_call_among_others_undoes_only_its_own_writes(sqlite_db: Database) -> None:
    """A step's writes are shipped together when it ends, and run as one pass."""

    def failing(records: Records) -> None:
        records.equity.record("demo", snapshot(3))
        raise RuntimeError("the writer's own failure")

    def write_around_a_failure() -> None:
        with sqlite_db.deferred():
            for write in (1, 2, failing, 4):
                sqlite_db.post(
                    write
                    if callable(write)
                    else lambda records, value=write: records.equity.record("demo", snapshot(value))
                )

    with pytest.raises(StateCorruptionError, match="the writer's own failure"):
        write_around_a_failure()
    assert [s.equity for s in sqlite_db.equity.curve("demo")] == [Decimal(v) for v in (1, 2, 4)]


def test_calls_that_succeed_run_without_savepoints(sqlite_db: Database) -> None:
    statements: list[str] = []
    event.listen(
        sqlite_db.engine,
        "before_cursor_execute",
        lambda _c, _cursor, statement, *_rest: statements.append(statement),
    )
    with sqlite_db.deferred():
        for value in range(20):
            sqlite_db.post(
                lambda records, value=value: records.equity.record("demo", snapshot(value))
            )
    assert len(sqlite_db.equity.curve("demo")) == 20
    assert not [s for s in statements if "SAVEPOINT" in s]


def test_a_write_a_step_waits_for_runs_before_the_rest_of_a_pass_nobody_waits_for(
    sqlite_db: Database,
) -> None:
    """A pair about to send an order waits for one write in progress, not for a whole pass
    of other steps' writes; those run after it, in their order, in the same commit."""
    ran: list[int] = []
    pass_under_way, urgent_coming = threading.Event(), threading.Event()

    def write(records: Records, value: int) -> None:
        ran.append(value)
        if value == 1:  # the pass is under way when the urgent write arrives
            pass_under_way.set()
            urgent_coming.wait(5)
            time.sleep(0.2)
        records.equity.record("demo", snapshot(value))

    def background_step() -> None:
        with sqlite_db.deferred():
            for value in range(1, 11):
                sqlite_db.post(lambda records, value=value: write(records, value))

    step = threading.Thread(target=background_step)
    step.start()
    assert pass_under_way.wait(5)
    with sqlite_db.deferred():
        sqlite_db.post(lambda records: write(records, 100))
        urgent_coming.set()
        sqlite_db.flush()  # an order's record: durable before it leaves
    step.join(10)
    assert ran == [1, 100, *range(2, 11)]
    assert len(sqlite_db.equity.curve("demo")) == 11


def test_a_step_waiting_while_the_writer_is_idle_commits_its_writes_itself(
    sqlite_db: Database, tmp_path: Path
) -> None:
    """No hand-over to the writer thread and back when nothing else is being written (the
    writer may still win the race now and then: most of the flushes are the caller's own)."""
    threads: list[str] = []

    def write(records: Records, value: int) -> None:
        threads.append(threading.current_thread().name)
        records.equity.record("demo", snapshot(value))

    for value in range(20):
        with sqlite_db.deferred():
            sqlite_db.post(lambda records, value=value: write(records, value))
            sqlite_db.flush()
            assert committed_rows(tmp_path, value) == 1  # durable when flush returned
    assert threads.count(threading.current_thread().name) >= 10
