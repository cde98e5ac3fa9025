"""Persistence: SQLAlchemy Core tables, repositories in domain words, Alembic migrations.

Open a database with :meth:`Database.open` (SQLite under the data home by default, see
:func:`default_url`; PostgreSQL by URL); it is upgraded to the newest schema on open. Every
record belongs to an environment; every write is one transaction and idempotent, and
:meth:`Database.atomic` groups several writes into one.
"""

from __future__ import annotations

from tradeplay.store.database import Database, Records, default_url
from tradeplay.store.deployments import (
    LIFECYCLE,
    Deployment,
    DeploymentState,
    UnknownDeploymentError,
)
from tradeplay.store.graduation import GraduationDecision, StoredPlacement
from tradeplay.store.journal import EquitySnapshot, PlaySignal, RiskEventRecord
from tradeplay.store.keys import (
    SECRET_KEY_ENV,
    ApiCredentials,
    KeyExistsError,
    KeyRing,
    SecretCipher,
    StoredKey,
    UnknownKeyError,
)
from tradeplay.store.state import EngineStateStore, MemoryStateStore

__all__ = [
    "LIFECYCLE",
    "SECRET_KEY_ENV",
    "ApiCredentials",
    "Database",
    "Deployment",
    "DeploymentState",
    "EngineStateStore",
    "EquitySnapshot",
    "GraduationDecision",
    "KeyExistsError",
    "KeyRing",
    "MemoryStateStore",
    "PlaySignal",
    "Records",
    "RiskEventRecord",
    "SecretCipher",
    "StoredKey",
    "StoredPlacement",
    "UnknownDeploymentError",
    "UnknownKeyError",
    "default_url",
]
