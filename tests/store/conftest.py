"""The same persistence tests on SQLite and PostgreSQL.

``database`` is parametrized over both. SQLite gets a new file per test. PostgreSQL gets one
fresh schema per test run (``tp_test_<random>`` on ``TRADEPLAY_TEST_POSTGRES_URL``, default
the local server's ``test`` database), migrated once, emptied after each test and dropped at
the end. Without a reachable server the PostgreSQL tests skip, saying why — except in CI
(``CI=true``), where they fail: CI must exercise both databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from tradeplay.store import Database, default_url
from tradeplay.store.schema import metadata

POSTGRES_ENV = "TRADEPLAY_TEST_POSTGRES_URL"
POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The server to test against, as a libpq URL; skip (or fail in CI) when unreachable."""
    url = os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"PostgreSQL not reachable at {POSTGRES_ENV}={url}: {exc}".strip()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the PostgreSQL tests; {reason}")
        pytest.skip(reason)
    return url


class PostgresSchemas:
    """Creates schemas for this test run and drops them all at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.created: list[str] = []

    def new(self) -> str:
        """A new empty schema; the SQLAlchemy URL of a connection that works inside it."""
        name = f"tp_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{name}"')
        self.created.append(name)
        parsed = make_url(self.url).set(drivername="postgresql+psycopg")
        options = {**parsed.query, "options": f"-csearch_path={name}"}
        return parsed.set(query=options).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            for name in self.created:
                connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[PostgresSchemas]:
    schemas = PostgresSchemas(postgres_url())
    yield schemas
    schemas.drop_all()


@pytest.fixture(scope="session")
def _postgres_database(postgres_schemas: PostgresSchemas) -> Iterator[Database]:
    database = Database.open(postgres_schemas.new())
    yield database
    database.close()


def _empty(database: Database) -> None:
    with database.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))


@contextmanager
def database_of(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty state database of ``kind`` (``sqlite`` or ``postgresql``)."""
    if kind == "sqlite":
        sqlite = Database.open(default_url(tmp_path))
        yield sqlite
        sqlite.close()
        return
    postgres: Database = request.getfixturevalue("_postgres_database")
    _empty(postgres)
    yield postgres
    _empty(postgres)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty state database of each kind."""
    with database_of(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database with no tables at all, of each kind (for migration tests)."""
    if request.param == "sqlite":
        return default_url(tmp_path)
    schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
    return schemas.new()
