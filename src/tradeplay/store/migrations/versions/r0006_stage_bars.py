"""The bars each play traded in its pipeline stage, with its signals: the parity gate's tape.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradeplay.store.columns import UtcDateTime

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_bars",
        sa.Column("play", sa.String(128), nullable=False),
        sa.Column("entered_at", UtcDateTime(), nullable=False),
        sa.Column("open_ms", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("close", sa.Double(), nullable=False),
        sa.Column("volume", sa.Double(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("play", "entered_at", "open_ms", name="pk_stage_bars"),
    )


def downgrade() -> None:
    op.drop_table("stage_bars")
