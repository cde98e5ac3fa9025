"""Group commit for SQLite: many threads' writes, one writer thread, one fsync per group.

SQLite has one writer at a time, and with ``synchronous=FULL`` every commit waits for the disk.
A deployment of many pairs writes from many threads at the same moment (every pair's bar closes
together). With a transaction per call, each took the file lock in turn, each paid its own
fsync, and each waiting thread slept in SQLite's busy handler (1, 2, 5 … 100 ms); sharing one
connection under a lock instead made a lock convoy, the holder losing the interpreter to the
hundred threads queued behind it.

So the process writes through **one connection, driven by one thread**. A repository call is
shipped to that thread (:meth:`GroupCommit.call`), which runs every call queued since its last
pass — each in a savepoint of the open transaction, so a failing call rolls back only its own
writes — hands each caller its result at once, then commits them all together. A caller goes
on when its call has run; it returns only when the call is **durable** (committed), the same
promise as a transaction of its own — unless it :meth:`~GroupCommit.deferred` the wait: a step
that writes several times then waits once, at its end, and :meth:`~GroupCommit.flush` waits
earlier where a write must be durable before the next thing happens (an order, before it is
sent).

:meth:`GroupCommit.begin` is for blocks that must run in the caller's thread (several writes
in one transaction, the key ring): they run on the same connection under the same lock.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction

from tradeplay.domain.errors import StateCorruptionError

__all__ = ["GroupCommit"]

T = TypeVar("T")

_FAILURES_KEPT: Final = 1_000
"""Failed groups remembered for their writers to learn of (a deferred one learns later)."""


@dataclass(eq=False)
class _Work:
    run: Callable[[Connection], object]
    done: Future[object] = field(default_factory=Future)
    group: int = -1


_WAKE: Final = _Work(lambda _connection: None)
"""Tells the writer a caller-thread block left changes to commit."""
_STOP: Final = _Work(lambda _connection: None)


class GroupCommit:
    """The process's writes to one SQLite database, committed in groups (see module doc)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._changed = threading.Condition(threading.Lock())
        """Guards the connection, its transaction and the group numbers."""
        self._inbox: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._local = threading.local()
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._group = 0
        """Number of the transaction being filled."""
        self._committed = -1
        """Number of the last transaction that was committed (or failed)."""
        self._dirty = False
        self._failed: dict[int, str] = {}
        self._writer: threading.Thread | None = None

    # -- calls shipped to the writer ---------------------------------------------------------

    def call(self, run: Callable[[Connection], T]) -> T:
        """``run(connection)`` on the writer thread; its result (or exception) once it ran,
        and — unless deferred — once it is durable."""
        if getattr(self._local, "depth", 0) > 0:  # inside this thread's own block: run here
            assert self._connection is not None
            with self._connection.begin_nested():
                return run(self._connection)
        work = _Work(run)
        self._start()
        self._inbox.put(work)
        result = work.done.result()
        self._after(work.group)
        return result  # type: ignore[return-value]  # what ``run`` returned

    def post(self, run: Callable[[Connection], object]) -> None:
        """``run(connection)`` on the writer thread, for a write whose result nobody needs:
        deferred, the caller goes on at once and its :meth:`flush` waits for it (and raises
        its failure); otherwise as :meth:`call`."""
        if not getattr(self._local, "deferring", False) or getattr(self._local, "depth", 0) > 0:
            self.call(run)
            return
        work = _Work(run)
        self._start()
        self._inbox.put(work)
        posted: list[_Work] | None = getattr(self._local, "posted", None)
        if posted is None:
            self._local.posted = posted = []
        posted.append(work)

    # -- blocks in the caller's thread -------------------------------------------------------

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction of the caller's, run in its thread: durable when the block ends."""
        if getattr(self._local, "depth", 0) > 0:  # nested: a savepoint in the caller's block
            assert self._connection is not None
            with self._connection.begin_nested():
                yield self._connection
            return
        self._start()
        with self._changed:
            connection = self._open()
            group = self._group
            savepoint = connection.begin_nested()
            self._local.depth = 1
            try:
                yield connection
            except BaseException:
                savepoint.rollback()
                raise
            else:
                savepoint.commit()
                self._dirty = True
            finally:
                self._local.depth = 0
        self._inbox.put(_WAKE)
        self._after(group)

    # -- durability --------------------------------------------------------------------------

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Within, this thread's writes do not wait for their commit; leaving waits for all."""
        if getattr(self._local, "deferring", False):
            yield
            return
        self._local.deferring = True
        try:
            yield
        finally:
            self._local.deferring = False
            self.flush()

    def flush(self) -> None:
        """Wait until every write this thread made is durable (a posted write that failed
        raises here)."""
        group: int | None = getattr(self._local, "last", None)
        posted: list[_Work] = getattr(self._local, "posted", None) or []
        self._local.last, self._local.posted = None, []
        failure: BaseException | None = None
        for work in posted:
            error = work.done.exception()  # waits until it ran
            failure = failure or error
            group = work.group if group is None else max(group, work.group)
        if group is not None:
            self._wait(group)
        if failure is not None:
            raise StateCorruptionError(f"a write to the state database failed: {failure}")

    def _after(self, group: int) -> None:
        if getattr(self._local, "deferring", False):
            last: int | None = getattr(self._local, "last", None)
            self._local.last = group if last is None else max(group, last)
        else:
            self._wait(group)

    def _wait(self, group: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._committed >= group)
            failure = self._failed.get(group)
        if failure is not None:
            raise StateCorruptionError(f"the state database did not commit: {failure}")

    # -- the writer --------------------------------------------------------------------------

    def _start(self) -> None:
        if self._writer is not None:  # running: no need to wait for the writer's lock
            return
        with self._changed:
            if self._writer is None:  # first use, or first use after close(): like a pool
                self._writer = threading.Thread(
                    target=self._write_loop, name="group-commit", daemon=True
                )
                self._writer.start()

    def _open(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        if self._transaction is None:
            self._transaction = self._connection.begin()
        return self._connection

    def _write_loop(self) -> None:
        while True:
            batch = [self._inbox.get()]
            while not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            with self._changed:
                for work in batch:
                    if work is not _WAKE and work is not _STOP:
                        self._run(work)
                if self._dirty:
                    self._commit()
            if _STOP in batch:
                return

    def _run(self, work: _Work) -> None:
        connection = self._open()
        work.group = self._group
        savepoint = connection.begin_nested()
        try:
            result = work.run(connection)
        except BaseException as error:  # the caller's own failure, handed to the caller
            savepoint.rollback()
            work.done.set_exception(error)
        else:
            savepoint.commit()
            self._dirty = True
            work.done.set_result(result)

    def _commit(self) -> None:
        transaction, group = self._transaction, self._group
        self._transaction, self._dirty = None, False
        self._group += 1
        try:
            if transaction is not None:
                transaction.commit()
        except Exception as error:  # every writer of the group learns it; none is left waiting
            self._failed[group] = f"{type(error).__name__}: {error}"
            while len(self._failed) > _FAILURES_KEPT:
                del self._failed[min(self._failed)]
            self._discard()
        self._committed = group
        self._changed.notify_all()

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()

    def close(self) -> None:
        """Commit what is pending, then stop the writer and release the connection (a later
        call opens them again, as a disposed connection pool does)."""
        with self._changed:
            writer, self._writer = self._writer, None
        if writer is not None:
            self._inbox.put(_STOP)
            writer.join(timeout=30)
        with self._changed:
            if self._transaction is not None:
                self._transaction.rollback()  # opened by nobody's write: nothing to keep
                self._transaction = None
            if self._connection is not None:
                self._connection.close()
                self._connection = None
