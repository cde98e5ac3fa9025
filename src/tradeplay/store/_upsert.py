"""``INSERT … ON CONFLICT`` for SQLite and PostgreSQL: the idempotent write every repository uses.

A write replayed after a crash (the process died after committing, before it knew) must land on
the same row, never beside it; both databases do that natively when the key is named.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    # preserve_rowcount: SQLAlchemy reports an INSERT's row count only when asked, and the
    # count is how a caller learns whether its write was new or a replay.
    if dialect == "postgresql":
        return postgresql.insert(table).execution_options(preserve_rowcount=True)
    if dialect == "sqlite":
        return sqlite.insert(table).execution_options(preserve_rowcount=True)
    raise NotImplementedError(f"tradeplay stores state in SQLite or PostgreSQL, not {dialect}")


# The statements are built once per table, columns and key, and executed with each row as its
# parameters: building an INSERT … ON CONFLICT (its ``excluded`` alias, the SET clause) costs
# several times what executing it does, and the runtime writes orders and fills at every bar.


@functools.lru_cache(maxsize=256)
def _insert_once_statement(dialect: str, table: Table, key: tuple[str, ...]) -> Executable:
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=key)


@functools.lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str,
    table: Table,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    only_if: Callable[[Any], ColumnElement[bool]] | None,
) -> Executable:
    statement = _insert(dialect, table)
    excluded = statement.excluded
    changes = {name: excluded[name] for name in columns if name not in key}
    where = None if only_if is None else only_if(excluded)
    return statement.on_conflict_do_update(index_elements=key, set_=changes, where=where)


def insert_once(
    connection: Connection, table: Table, row: Mapping[str, Any], key: Sequence[str]
) -> bool:
    """Insert ``row`` unless a row with the same ``key`` exists; ``True`` if it was new."""
    statement = _insert_once_statement(connection.dialect.name, table, tuple(key))
    return connection.execute(statement, dict(row)).rowcount == 1


def upsert(
    connection: Connection,
    table: Table,
    row: Mapping[str, Any],
    key: Sequence[str],
    only_if: Callable[[Any], ColumnElement[bool]] | None = None,
) -> bool:
    """Insert ``row``, or overwrite the row with the same ``key``. ``only_if(excluded)`` (the
    incoming row's columns) is a condition the stored row must meet to be overwritten; pass a
    function defined once (statements are kept per function). ``True`` if a row was written."""
    statement = _upsert_statement(connection.dialect.name, table, tuple(row), tuple(key), only_if)
    return connection.execute(statement, dict(row)).rowcount == 1
