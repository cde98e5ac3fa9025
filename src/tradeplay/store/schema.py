"""The tables, as SQLAlchemy Core metadata: the schema the newest migration builds.

Core, not the ORM: our domain objects are frozen dataclasses that change by events, and an ORM
class would either duplicate them or tempt code into using mapped rows as domain objects (the
freqtrade habit we leave behind). Core gives typed tables, explicit row ↔ value mapping in the
repositories, and the dialects' ``INSERT … ON CONFLICT`` for idempotent writes, with no session
or identity map holding state between calls.

Every trading table is keyed by ``environment`` first: environments share a database but never
a row. The migrations in ``migrations/versions`` create these tables by hand; a test compares
the migrated schema with this metadata so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from tradeplay.store.columns import ExactDecimal, UtcDateTime

# Stable constraint names, so migrations can refer to them on both databases.
NAMING: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_SERIAL: Final = BigInteger().with_variant(Integer(), "sqlite")

ENV = 64
"""Longest environment, deployment or key name."""


def _env() -> Column[str]:
    return Column("environment", String(ENV), primary_key=True)


orders = Table(
    "orders",
    metadata,
    _env(),
    Column("client_order_id", String(36), primary_key=True),  # our orderLinkId
    Column("order_id", String(64), nullable=True),  # the venue's id, once acknowledged
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("qty", ExactDecimal(), nullable=False),
    Column("price", ExactDecimal(), nullable=True),
    Column("trigger_price", ExactDecimal(), nullable=True),
    Column("time_in_force", String(16), nullable=False),
    Column("reduce_only", Boolean(), nullable=False),
    Column("status", String(24), nullable=False),
    Column("filled_qty", ExactDecimal(), nullable=False),
    Column("filled_value", ExactDecimal(), nullable=False),
    Column("fees", ExactDecimal(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index(None, "environment", "status"),
    Index(None, "environment", "order_id"),
)

fills = Table(
    "fills",
    metadata,
    _env(),
    Column("trade_id", String(64), primary_key=True),  # Bybit execId
    Column("order_id", String(64), nullable=False),
    Column("client_order_id", String(36), nullable=True),
    Column("symbol", String(32), nullable=False),
    Column("side", String(8), nullable=False),
    Column("qty", ExactDecimal(), nullable=False),
    Column("price", ExactDecimal(), nullable=False),
    Column("fee", ExactDecimal(), nullable=False),
    Column("fee_currency", String(16), nullable=False),
    Column("liquidity", String(8), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Index(None, "environment", "time"),
    Index(None, "environment", "client_order_id"),
)

positions = Table(
    "positions",
    metadata,
    _env(),
    Column("symbol", String(32), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("size", ExactDecimal(), nullable=False),
    Column("entry_price", ExactDecimal(), nullable=True),
    Column("cost_basis", ExactDecimal(), nullable=False),
    Column("realized_pnl", ExactDecimal(), nullable=False),
    Column("fees_paid", ExactDecimal(), nullable=False),
    Column("funding_paid", ExactDecimal(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
)

signals = Table(
    "signals",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("environment", String(ENV), nullable=False),
    Column("play", String(128), nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("action", String(16), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("tag", String(64), nullable=False),
    Column("stop_price", ExactDecimal(), nullable=True),
    Column("target_price", ExactDecimal(), nullable=True),
    Column("strength", Float(), nullable=False),
    # A signal replayed after a restart is the same signal: one row.
    UniqueConstraint("environment", "play", "symbol", "time", "action"),
)

balances = Table(
    "balances",
    metadata,
    _env(),
    Column("coin", String(16), primary_key=True),
    Column("time", UtcDateTime(), primary_key=True),
    Column("wallet_balance", ExactDecimal(), nullable=False),
    Column("net_deposits", ExactDecimal(), nullable=False),
    Column("realized_pnl", ExactDecimal(), nullable=False),
    Column("fees_paid", ExactDecimal(), nullable=False),
    Column("funding_paid", ExactDecimal(), nullable=False),
)

equity = Table(
    "equity",
    metadata,
    _env(),
    Column("time", UtcDateTime(), primary_key=True),
    Column("equity", ExactDecimal(), nullable=False),
    Column("wallet_balance", ExactDecimal(), nullable=False),
    Column("unrealized_pnl", ExactDecimal(), nullable=False),
)

engine_states = Table(
    "engine_states",
    metadata,
    _env(),
    Column("key", String(128), primary_key=True),
    Column("state", Text(), nullable=False),  # JSON text: identical on both databases
    Column("saved_at", UtcDateTime(), nullable=False),
)

deployments = Table(
    "deployments",
    metadata,
    _env(),
    Column("name", String(ENV), primary_key=True),
    Column("play", String(128), nullable=False),
    Column("capital", ExactDecimal(), nullable=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

risk_events = Table(
    "risk_events",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("environment", String(ENV), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    # '' for a breach of the environment as a whole: a NULL would not count in the key.
    Column("deployment", String(ENV), nullable=False),
    Column("value", ExactDecimal(), nullable=True),
    Column("threshold", ExactDecimal(), nullable=True),
    Column("detail", Text(), nullable=False),
    UniqueConstraint("environment", "deployment", "rule", "time"),
)

panic_requests = Table(
    "panic_requests",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("environment", String(ENV), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("applied_at", UtcDateTime(), nullable=True),  # by the running deployment
    Column("detail", Text(), nullable=False),  # what applying it did
    Index(None, "environment", "applied_at"),
)

graduation_decisions = Table(
    "graduation_decisions",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("play", String(128), nullable=False),
    Column("from_stage", String(32), nullable=False),
    Column("to_stage", String(32), nullable=False),
    Column("verdict", String(32), nullable=False),
    Column("metrics", Text(), nullable=False),  # JSON text
    Column("thresholds", Text(), nullable=False),  # JSON text
    Column("decided_at", UtcDateTime(), nullable=False),
    Column("reason", Text(), nullable=False, server_default=""),
    Column("share", ExactDecimal(), nullable=True),  # of the play's capital, after the decision
    UniqueConstraint("play", "from_stage", "verdict", "decided_at"),
)

pipeline_placements = Table(
    "pipeline_placements",
    metadata,
    Column("play", String(128), primary_key=True),
    Column("stage", String(32), nullable=False),
    Column("entered_at", UtcDateTime(), nullable=False),
    Column("share", ExactDecimal(), nullable=False),
    Column("approved", Boolean(), nullable=False),  # the operator's approval into live
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("held_in", String(ENV), nullable=True),  # a move waits for this environment's flat
)

stage_bars = Table(
    "stage_bars",
    metadata,
    Column("play", String(128), primary_key=True),
    Column("entered_at", UtcDateTime(), primary_key=True),  # the stage's (its placement's)
    Column("open_ms", BigInteger(), primary_key=True),
    Column("open", Double(), nullable=False),
    Column("high", Double(), nullable=False),
    Column("low", Double(), nullable=False),
    Column("close", Double(), nullable=False),
    Column("volume", Double(), nullable=False),
    Column("signals", Text(), nullable=True),  # JSON list of the rules fired; NULL: warm-up
    # Whether the engine ran on the bar (not while the pair was paused or not reconciled).
    Column("traded", Boolean(), nullable=False, server_default=true()),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("name", String(ENV), primary_key=True),
    Column("api_key", Text(), nullable=False),  # Fernet token, never the key itself
    Column("api_secret", Text(), nullable=False),  # Fernet token, never the secret itself
    Column("created_at", UtcDateTime(), nullable=False),
)
