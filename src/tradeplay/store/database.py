"""Opening the state database: SQLite (WAL) under the data home by default, PostgreSQL by URL.

::

    db = Database.open(default_url(settings.data_home))   # migrates to the newest schema
    db.orders.save("demo", order)                          # one call, one transaction
    with db.atomic() as tx:                                # several writes, one transaction
        tx.fills.record("demo", fill)
        tx.orders.save("demo", order.apply(OrderFilled(...)))
        tx.positions.save("demo", position)

SQLite settings, and why:

* ``journal_mode=WAL`` — readers never block the writer, and the writer never blocks readers;
* ``synchronous=FULL`` — a committed trade survives a power cut, not only a killed process;
* ``BEGIN IMMEDIATE`` — a transaction takes the write lock when it starts, so two writers
  queue on the busy timeout instead of one failing with "database is locked" when it tries to
  upgrade a read lock half way through;
* one connection per process, with **group commit** (:mod:`tradeplay.store._group_commit`):
  the transactions of many threads at once share one fsync, and a thread waits on a lock of
  the process rather than in SQLite's busy handler; each call still returns only once its
  writes are durable. PostgreSQL commits concurrent transactions together by itself.

Error messages never carry bound parameters (``hide_parameters``): a failed write of an
encrypted key or a position must not print values into a log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from tradeplay.domain.errors import ConfigError
from tradeplay.ports import Clock
from tradeplay.store import migrate
from tradeplay.store._group_commit import GroupCommit
from tradeplay.store._transaction import Begin
from tradeplay.store.deployments import DeploymentRecords
from tradeplay.store.graduation import GraduationRecords
from tradeplay.store.journal import (
    BalanceRecords,
    EquityRecords,
    RiskEventRecords,
    SignalRecords,
)
from tradeplay.store.state import EngineStateStore
from tradeplay.store.trading import FillRecords, OrderRecords, PositionRecords

SQLITE_FILE: Final = "state.sqlite3"
BUSY_TIMEOUT_MS: Final = 30_000


def default_url(data_home: Path) -> str:
    """The embedded database: ``state.sqlite3`` in the data home."""
    return f"sqlite:///{data_home / SQLITE_FILE}"


_REPOSITORIES: Final[dict[str, Callable[[Begin], Any]]] = {
    "orders": OrderRecords,
    "fills": FillRecords,
    "positions": PositionRecords,
    "signals": SignalRecords,
    "balances": BalanceRecords,
    "equity": EquityRecords,
    "risk_events": RiskEventRecords,
    "deployments": DeploymentRecords,
    "graduations": GraduationRecords,
}
"""Every repository of :class:`Records`, by attribute name."""


class Records:
    """Every repository, all writing through the same way of opening a transaction."""

    def __init__(self, begin: Begin) -> None:
        self.orders = OrderRecords(begin)
        self.fills = FillRecords(begin)
        self.positions = PositionRecords(begin)
        self.signals = SignalRecords(begin)
        self.balances = BalanceRecords(begin)
        self.equity = EquityRecords(begin)
        self.risk_events = RiskEventRecords(begin)
        self.deployments = DeploymentRecords(begin)
        self.graduations = GraduationRecords(begin)
        self._begin = begin

    def deferred(self) -> AbstractContextManager[None]:
        """Writes within return before they are durable; leaving waits until they all are."""
        return nullcontext()

    def flush(self) -> None:
        """Wait until this thread's deferred writes are durable."""

    def post(self, write: Callable[[Records], object]) -> None:
        """Make ``write`` — whose result nobody needs — with these repositories; within
        :meth:`deferred`, possibly after this call returns (``flush`` waits for it)."""
        write(self)

    def state_store(self, environment: str, clock: Clock) -> EngineStateStore:
        """The :class:`~tradeplay.ports.StateStore` of one environment."""
        return EngineStateStore(self._begin, environment, clock)


class Database(Records):
    """One state database. Thread-safe: on PostgreSQL every call checks out a connection of its
    own; on SQLite every call goes through the process's group commit."""

    def __init__(self, engine: Engine) -> None:
        self._group = GroupCommit(engine) if engine.dialect.name == "sqlite" else None
        begin: Begin = engine.begin if self._group is None else self._group.begin
        super().__init__(begin)
        self.engine = engine
        if self._group is not None:  # every repository call runs on the group's writer
            for name, repository in _REPOSITORIES.items():
                setattr(self, name, _Shipped(self._group, repository))

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Database:
        """Connect to ``url`` and (by default) upgrade its schema to the newest revision."""
        database = cls(_create_engine(url))
        if upgrade:
            migrate.upgrade(database.engine)
        return database

    @property
    def url(self) -> str:
        """The URL with any password masked, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def transaction(self) -> AbstractContextManager[Connection]:
        """A transaction of its own (what each repository call uses)."""
        return self._begin()

    def deferred(self) -> AbstractContextManager[None]:
        return nullcontext() if self._group is None else self._group.deferred()

    def flush(self) -> None:
        if self._group is not None:
            self._group.flush()

    def post(self, write: Callable[[Records], object]) -> None:
        if self._group is None:
            write(self)
            return
        self._group.post(lambda connection: write(Records(lambda: nullcontext(connection))))

    @contextmanager
    def atomic(self) -> Iterator[Records]:
        """Repositories that all write in one transaction: every write or none."""
        with self._begin() as connection:
            yield Records(lambda: nullcontext(connection))

    def close(self) -> None:
        if self._group is not None:
            self._group.close()
        self.engine.dispose()


class _Shipped:
    """A repository whose every method call runs on the group commit's writer thread (with
    the repository bound to the writer's connection): see :mod:`tradeplay.store._group_commit`."""

    def __init__(self, group: GroupCommit, repository: Callable[[Begin], Any]) -> None:
        self._group = group
        self._repository = repository

    def __getattr__(self, method: str) -> Callable[..., Any]:
        repository = self._repository

        def shipped(*args: Any, **kwargs: Any) -> Any:
            def run(connection: Connection) -> Any:  # only this repository, on this connection
                bound = repository(lambda: nullcontext(connection))
                return getattr(bound, method)(*args, **kwargs)

            return self._group.call(run)

        return shipped


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except Exception:  # the text may hold a password: never echo it
        raise ConfigError(
            "the database URL is not valid (expected sqlite:///… or postgresql://…)"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":  # psycopg 3, not SQLAlchemy's psycopg2 default
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, hide_parameters=True, pool_pre_ping=True)
        except ModuleNotFoundError:
            raise ConfigError(
                "a PostgreSQL state database needs its driver: pip install 'tradeplay[postgres]'"
            ) from None
    raise ConfigError(f"tradeplay stores state in SQLite or PostgreSQL, not {backend}")


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if not database or database == ":memory:":
        raise ConfigError("the SQLite state database must be a file (sqlite:///path/to/file)")
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # One connection serves every thread, one at a time (the group commit's lock).
    arguments = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    engine = create_engine(url, hide_parameters=True, connect_args=arguments)
    event.listen(engine, "connect", _sqlite_connected)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event below: the driver's own implicit
    # BEGIN is deferred and skipped before DDL, which breaks atomic migrations.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
