"""``INSERT … ON CONFLICT`` for SQLite and PostgreSQL: the idempotent write every repository uses.

A write replayed after a crash (the process died after committing, before it knew) must land on
the same row, never beside it; both databases do that natively when the key is named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    # preserve_rowcount: SQLAlchemy reports an INSERT's row count only when asked, and the
    # count is how a caller learns whether its write was new or a replay.
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).execution_options(preserve_rowcount=True)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table).execution_options(preserve_rowcount=True)
    raise NotImplementedError(
        f"tradeplay stores state in SQLite or PostgreSQL, not {connection.dialect.name}"
    )


def insert_once(
    connection: Connection, table: Table, row: Mapping[str, Any], key: Sequence[str]
) -> bool:
    """Insert ``row`` unless a row with the same ``key`` exists; ``True`` if it was new."""
    statement = _insert(connection, table).values(**row).on_conflict_do_nothing(index_elements=key)
    return connection.execute(statement).rowcount == 1


def upsert(
    connection: Connection,
    table: Table,
    row: Mapping[str, Any],
    key: Sequence[str],
    only_if: Callable[[Any], ColumnElement[bool]] | None = None,
) -> bool:
    """Insert ``row``, or overwrite the row with the same ``key``. ``only_if(excluded)`` (the
    incoming row's columns) is a condition the stored row must meet to be overwritten.
    ``True`` if a row was written."""
    statement = _insert(connection, table).values(**row)
    excluded = statement.excluded
    changes = {name: excluded[name] for name in row if name not in key}
    where = None if only_if is None else only_if(excluded)
    final = statement.on_conflict_do_update(index_elements=key, set_=changes, where=where)
    return connection.execute(final).rowcount == 1
