"""Schema migrations: bring a database to the newest revision, in one transaction.

The database is upgraded every time it is opened, so a new version of tradeplay never runs on
an old schema. PostgreSQL holds an advisory lock for the upgrade, so processes starting at the
same moment take turns instead of racing; SQLite's ``BEGIN IMMEDIATE`` does the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
HEAD: Final = "head"
# Any constant the two processes agree on; it names "the tradeplay schema upgrade".
_ADVISORY_LOCK: Final = 0x7472_6164_6570


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = HEAD) -> None:
    """Upgrade the schema to ``revision`` (the newest by default); nothing changes on failure."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        command.upgrade(_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision this version of tradeplay knows."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its revisions
        raise RuntimeError(f"no migration revisions found in {MIGRATIONS}")
    return head
