"""Encrypted API keys, and the audit trail of graduation decisions (issue 8).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradeplay.store.columns import UtcDateTime

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("api_key", sa.Text(), nullable=False),
        sa.Column("api_secret", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_api_keys"),
    )
    op.create_table(
        "graduation_decisions",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("play", sa.String(128), nullable=False),
        sa.Column("from_stage", sa.String(32), nullable=False),
        sa.Column("to_stage", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("thresholds", sa.Text(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_graduation_decisions"),
        sa.UniqueConstraint(
            "play",
            "from_stage",
            "decided_at",
            name="uq_graduation_decisions_play_from_stage_decided_at",
        ),
    )


def downgrade() -> None:
    op.drop_table("graduation_decisions")
    op.drop_table("api_keys")
