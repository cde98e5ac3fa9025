"""Trading records: orders, fills, positions, signals, balances, equity, engine states,
deployments and risk events, each per environment.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradeplay.store.columns import ExactDecimal, UtcDateTime

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _environment() -> sa.Column[str]:
    return sa.Column("environment", sa.String(64), nullable=False)


def upgrade() -> None:
    _orders()
    _fills()
    _positions_and_signals()
    _balances_and_equity()
    _states_and_deployments()
    _risk_events()


def _orders() -> None:
    op.create_table(
        "orders",
        _environment(),
        sa.Column("client_order_id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("qty", ExactDecimal(), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=True),
        sa.Column("trigger_price", ExactDecimal(), nullable=True),
        sa.Column("time_in_force", sa.String(16), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("filled_qty", ExactDecimal(), nullable=False),
        sa.Column("filled_value", ExactDecimal(), nullable=False),
        sa.Column("fees", ExactDecimal(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("environment", "client_order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_environment_status", "orders", ["environment", "status"])
    op.create_index("ix_orders_environment_order_id", "orders", ["environment", "order_id"])


def _fills() -> None:
    op.create_table(
        "fills",
        _environment(),
        sa.Column("trade_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("client_order_id", sa.String(36), nullable=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("qty", ExactDecimal(), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=False),
        sa.Column("fee", ExactDecimal(), nullable=False),
        sa.Column("fee_currency", sa.String(16), nullable=False),
        sa.Column("liquidity", sa.String(8), nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("environment", "trade_id", name="pk_fills"),
    )
    op.create_index("ix_fills_environment_time", "fills", ["environment", "time"])
    op.create_index(
        "ix_fills_environment_client_order_id", "fills", ["environment", "client_order_id"]
    )


def _positions_and_signals() -> None:
    op.create_table(
        "positions",
        _environment(),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("size", ExactDecimal(), nullable=False),
        sa.Column("entry_price", ExactDecimal(), nullable=True),
        sa.Column("cost_basis", ExactDecimal(), nullable=False),
        sa.Column("realized_pnl", ExactDecimal(), nullable=False),
        sa.Column("fees_paid", ExactDecimal(), nullable=False),
        sa.Column("funding_paid", ExactDecimal(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("environment", "symbol", name="pk_positions"),
    )
    op.create_table(
        "signals",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        _environment(),
        sa.Column("play", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("stop_price", ExactDecimal(), nullable=True),
        sa.Column("target_price", ExactDecimal(), nullable=True),
        sa.Column("strength", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signals"),
        sa.UniqueConstraint(
            "environment",
            "play",
            "symbol",
            "time",
            "action",
            name="uq_signals_environment_play_symbol_time_action",
        ),
    )


def _balances_and_equity() -> None:
    op.create_table(
        "balances",
        _environment(),
        sa.Column("coin", sa.String(16), nullable=False),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("wallet_balance", ExactDecimal(), nullable=False),
        sa.Column("net_deposits", ExactDecimal(), nullable=False),
        sa.Column("realized_pnl", ExactDecimal(), nullable=False),
        sa.Column("fees_paid", ExactDecimal(), nullable=False),
        sa.Column("funding_paid", ExactDecimal(), nullable=False),
        sa.PrimaryKeyConstraint("environment", "coin", "time", name="pk_balances"),
    )
    op.create_table(
        "equity",
        _environment(),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("equity", ExactDecimal(), nullable=False),
        sa.Column("wallet_balance", ExactDecimal(), nullable=False),
        sa.Column("unrealized_pnl", ExactDecimal(), nullable=False),
        sa.PrimaryKeyConstraint("environment", "time", name="pk_equity"),
    )


def _states_and_deployments() -> None:
    op.create_table(
        "engine_states",
        _environment(),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("saved_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("environment", "key", name="pk_engine_states"),
    )
    op.create_table(
        "deployments",
        _environment(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("play", sa.String(128), nullable=False),
        sa.Column("capital", ExactDecimal(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("environment", "name", name="pk_deployments"),
    )


def _risk_events() -> None:
    op.create_table(
        "risk_events",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        _environment(),
        sa.Column("time", UtcDateTime(), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("deployment", sa.String(64), nullable=True),
        sa.Column("value", ExactDecimal(), nullable=True),
        sa.Column("threshold", ExactDecimal(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_risk_events"),
        sa.UniqueConstraint(
            "environment", "rule", "time", name="uq_risk_events_environment_rule_time"
        ),
    )


def downgrade() -> None:
    for table in (
        "risk_events",
        "deployments",
        "engine_states",
        "equity",
        "balances",
        "signals",
        "positions",
        "fills",
        "orders",
    ):
        op.drop_table(table)
