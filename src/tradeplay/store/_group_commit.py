"""Group commit for SQLite: many threads' writes, one writer thread, one fsync per group.

SQLite has one writer at a time, and with ``synchronous=FULL`` every commit waits for the disk.
A deployment of many pairs writes from many threads at the same moment (every pair's bar closes
together). With a transaction per call, each took the file lock in turn, each paid its own
fsync, and each waiting thread slept in SQLite's busy handler (1, 2, 5 … 100 ms); sharing one
connection under a lock instead made a lock convoy, the holder losing the interpreter to the
hundred threads queued behind it.

So the process writes through **one connection, driven by one thread**. A repository call is
shipped to that thread (:meth:`GroupCommit.call`), which runs every call queued since its last
pass, hands each caller its result, then commits them all together. A failing call must roll
back only its own writes, yet a savepoint around each call (two more statements, each compiled
by SQLAlchemy) cost more than the writes themselves: so the pass runs its calls together,
undone as one — the transaction itself when it holds nothing else, else one savepoint — and
only when one of them raises is the pass undone and every call run again, each in a savepoint
of its own. A shipped call may therefore run twice: it must only touch the database (every
repository method does). A caller goes
on when its call has run; it returns only when the call is **durable** (committed), the same
promise as a transaction of its own — unless it :meth:`~GroupCommit.deferred` the wait: a step
that writes several times then waits once, at its end, and :meth:`~GroupCommit.flush` waits
earlier where a write must be durable before the next thing happens (an order, before it is
sent).

Who waits decides what runs first. When every pair's bar closes at once, the writer holds the
interpreter only between statements (SQLite releases it for each), so a long pass of writes
nobody waits for yet would hold up the order a pair is about to send. A step's writes stay with
its thread until it waits — a call whose answer it needs, a flush — and are shipped then,
together, in the order made; the writer runs what a step waits for first, in a pass of its
own, and everything else in short passes after, which stop between two calls when a step's
write arrives. A step that waits while the writer is idle runs the waiting calls and the
commit itself, in its own thread: a hundred threads woken by one bar make every wait for the
interpreter long, and handing the calls to the writer and back costs two of them.

:meth:`GroupCommit.begin` is for blocks that must run in the caller's thread (several writes
in one transaction, the key ring): they run on the same connection under the same lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, TypeVar

from sqlalchemy import Connection, Engine, NestedTransaction, RootTransaction

from tradeplay.domain.errors import StateCorruptionError

__all__ = ["GroupCommit"]

T = TypeVar("T")

_FAILURES_KEPT: Final = 1_000
"""Failed groups remembered for their writers to learn of (a deferred one learns later)."""
_PASS: Final = 16
"""Calls nobody is waiting for run in passes of at most this many, and a pass of them stops
early, between two calls, as soon as a call a step waits for arrives (that call waits for at
most one other call, not the whole pass)."""


@dataclass(eq=False)
class _Work:
    run: Callable[[Connection], object]
    done: Future[object] = field(default_factory=Future)
    group: int = -1


_WAKE: Final = _Work(lambda _connection: None)
"""Tells the writer a caller-thread block left changes to commit."""
_STOP: Final = _Work(lambda _connection: None)


class _Inbox:
    """The calls waiting for the writer: those a step waits for first (see module doc)."""

    def __init__(self) -> None:
        self._ready = threading.Condition(threading.Lock())
        self._urgent: deque[_Work] = deque()
        self._later: deque[_Work] = deque()

    def put(self, works: Iterable[_Work], *, urgent: bool) -> None:
        with self._ready:
            (self._urgent if urgent else self._later).extend(works)
            self._ready.notify()

    def take(self) -> tuple[list[_Work], bool]:
        """The next pass: every urgent call, else the oldest others; and whether urgent."""
        with self._ready:
            self._ready.wait_for(lambda: self._urgent or self._later)
            if self._urgent:
                taken = list(self._urgent)
                self._urgent.clear()
                return taken, True
            return [self._later.popleft() for _ in range(min(_PASS, len(self._later)))], False

    def take_urgent(self) -> list[_Work]:
        """Every urgent call, without waiting (none: an empty list)."""
        with self._ready:
            taken = list(self._urgent)
            self._urgent.clear()
            return taken

    def urgent_waiting(self) -> bool:
        """Whether a call a step waits for has arrived (read between two calls of a pass)."""
        return bool(self._urgent)

    def put_back(self, works: list[_Work]) -> None:
        """Calls a pass did not get to: first again among the others, in their order."""
        with self._ready:
            self._later.extendleft(reversed(works))


class _ThreadState(threading.local):
    """What one thread has going on with the group commit."""

    def __init__(self) -> None:
        self.depth = 0
        """Inside the thread's own :meth:`GroupCommit.begin` block (its calls run there)."""
        self.deferring = False
        self.held: list[_Work] = []
        """Posted writes not shipped yet (they go with the thread's next call or flush)."""
        self.posted: list[_Work] = []
        """Posted writes whose outcome its next flush waits for."""
        self.last: int | None = None
        """The newest group its deferred calls went into."""


class GroupCommit:
    """The process's writes to one SQLite database, committed in groups (see module doc)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._changed = threading.Lock()
        """Guards the connection, its transaction and the group being filled."""
        self._durable = threading.Condition(threading.Lock())
        """Guards what was committed (or failed); a writer's waiting callers are woken without
        waiting for the connection's lock, which the next pass may hold long."""
        self._inbox = _Inbox()
        self._local = _ThreadState()
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
        and — unless deferred — once it is durable. ``run`` may run twice (see the module
        doc): it must only touch the database."""
        if self._local.depth > 0:  # inside this thread's own block: run here
            assert self._connection is not None
            with self._connection.begin_nested():
                return run(self._connection)
        work = _Work(run)
        deferring = self._local.deferring
        self._ship([work], urgent=deferring)  # a step waits for it: first
        if deferring:
            self._combine()
        result = work.done.result()
        self._after(work.group)
        return result  # type: ignore[return-value]  # what ``run`` returned

    def post(self, run: Callable[[Connection], object]) -> None:
        """``run(connection)`` on the writer thread, for a write whose result nobody needs:
        deferred, the caller goes on at once, the write is shipped with its next call or
        flush, and its :meth:`flush` waits for it (and raises its failure); otherwise as
        :meth:`call`."""
        if not self._local.deferring or self._local.depth > 0:
            self.call(run)
            return
        work = _Work(run)
        self._local.held.append(work)
        self._local.posted.append(work)

    def _ship(self, works: list[_Work], *, urgent: bool) -> None:
        """Ship this thread's held writes, then ``works``, in that order."""
        held, self._local.held = self._local.held, []
        self._start()
        self._inbox.put([*held, *works], urgent=urgent)

    # -- blocks in the caller's thread -------------------------------------------------------

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction of the caller's, run in its thread: durable when the block ends."""
        if self._local.depth > 0:  # nested: a savepoint in the caller's block
            assert self._connection is not None
            with self._connection.begin_nested():
                yield self._connection
            return
        if self._local.held:  # what this thread wrote before is written before the block
            self._flush(urgent=True)
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
        self._inbox.put([_WAKE], urgent=True)
        self._after(group)

    # -- durability --------------------------------------------------------------------------

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Within, this thread's writes do not wait for their commit; leaving waits for all."""
        if self._local.deferring:
            yield
            return
        self._local.deferring = True
        try:
            yield
        finally:
            self._local.deferring = False
            self._flush(urgent=False)  # the step is over: nothing else waits for it

    def flush(self) -> None:
        """Wait until every write this thread made is durable (a posted write that failed
        raises here)."""
        self._flush(urgent=True)

    def _flush(self, *, urgent: bool) -> None:
        if self._local.held:
            self._ship([], urgent=urgent)
        if urgent:
            self._combine()
        group, posted = self._local.last, self._local.posted
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
        if self._local.deferring:
            last = self._local.last
            self._local.last = group if last is None else max(group, last)
        else:
            self._wait(group)

    def _wait(self, group: int) -> None:
        with self._durable:
            self._durable.wait_for(lambda: self._committed >= group)
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

    def _combine(self) -> None:
        """When the writer is not busy, run the calls steps wait for, and commit, in this
        thread: handing them to the writer and back costs two waits for the interpreter."""
        if not self._changed.acquire(blocking=False):
            return  # the writer (or another caller) is at it: wait for it as usual
        try:
            self._pass(self._inbox.take_urgent(), urgent=True)
        finally:
            self._changed.release()

    def _open(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        if self._transaction is None:
            self._transaction = self._connection.begin()
        return self._connection

    def _write_loop(self) -> None:
        while True:
            batch, urgent = self._inbox.take()
            with self._changed:
                rest = self._pass(batch, urgent=urgent)
            if rest:  # stopped for urgent calls, which join this transaction
                self._inbox.put_back([*rest, _STOP] if _STOP in batch else rest)
            elif _STOP in batch:
                return

    def _pass(self, batch: list[_Work], *, urgent: bool) -> list[_Work]:
        """Run ``batch``'s calls and commit (under the connection's lock). A pass nobody waits
        for stops for urgent calls: the calls it left are returned, nothing is committed."""
        calls = [work for work in batch if work is not _WAKE and work is not _STOP]
        rest = self._run_pass(calls, yielding=not urgent) if calls else []
        if not rest and self._dirty:
            self._commit()
        return rest

    def _run_pass(self, calls: list[_Work], *, yielding: bool) -> list[_Work]:
        """Run ``calls`` together; when one raises, undo them all and run each on its own.
        ``yielding``: stop before the next call once an urgent call waits; the calls not run
        are returned (nothing is committed yet: the urgent ones join the transaction)."""
        connection = self._open()
        # A caller's block may have left writes to commit: then undo to a savepoint, not all.
        savepoint = connection.begin_nested() if self._dirty else None
        results: list[object] = []
        rest: list[_Work] = []
        for index, work in enumerate(calls):
            if yielding and index > 0 and self._inbox.urgent_waiting():
                calls, rest = calls[:index], calls[index:]
                break
            work.group = self._group
            try:
                results.append(work.run(connection))
            except BaseException:  # replayed below, where it fails alone
                self._undo(savepoint)
                for replayed in calls:
                    self._run(replayed)
                return []
        if savepoint is not None:
            savepoint.commit()
        self._dirty = True
        for work, result in zip(calls, results, strict=True):
            work.done.set_result(result)
        return rest

    def _undo(self, savepoint: NestedTransaction | None) -> None:
        if savepoint is not None:
            savepoint.rollback()
        elif self._transaction is not None:
            self._transaction.rollback()
            self._transaction = None

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
            with self._durable:
                self._failed[group] = f"{type(error).__name__}: {error}"
                while len(self._failed) > _FAILURES_KEPT:
                    del self._failed[min(self._failed)]
            self._discard()
        with self._durable:
            self._committed = group
            self._durable.notify_all()

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
            self._inbox.put([_STOP], urgent=False)  # after everything shipped before
            writer.join(timeout=30)
        with self._changed:
            if self._transaction is not None:
                self._transaction.rollback()  # opened by nobody's write: nothing to keep
                self._transaction = None
            if self._connection is not None:
                self._connection.close()
                self._connection = None
