"""An operator's panic requests, applied by the running deployment (issue 7).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradeplay.store.columns import UtcDateTime

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "panic_requests",
        sa.Column("id", _SERIAL, autoincrement=True, nullable=False),
        sa.Column("environment", sa.String(64), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_panic_requests"),
    )
    op.create_index(
        "ix_panic_requests_environment_applied_at",
        "panic_requests",
        ["environment", "applied_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_panic_requests_environment_applied_at", table_name="panic_requests")
    op.drop_table("panic_requests")
