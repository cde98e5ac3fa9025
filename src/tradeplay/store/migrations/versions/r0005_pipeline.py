"""The graduation pipeline (issue 8): where each play stands, and why each decision was taken.

A decision is now told apart by its verdict too: a play judged "awaiting approval" and
promoted by the operator in the same instant are two decisions, both kept in the audit trail.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradeplay.store.columns import ExactDecimal, UtcDateTime

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

_OLD_KEY = "uq_graduation_decisions_play_from_stage_decided_at"
_NEW_KEY = "uq_graduation_decisions_play_from_stage_verdict_decided_at"


def upgrade() -> None:
    op.create_table(
        "pipeline_placements",
        sa.Column("play", sa.String(128), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("entered_at", UtcDateTime(), nullable=False),
        sa.Column("share", ExactDecimal(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("play", name="pk_pipeline_placements"),
    )
    with op.batch_alter_table("graduation_decisions") as table:
        table.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
        table.add_column(sa.Column("share", ExactDecimal(), nullable=True))
        table.drop_constraint(_OLD_KEY, type_="unique")
        table.create_unique_constraint(_NEW_KEY, ["play", "from_stage", "verdict", "decided_at"])


def downgrade() -> None:
    op.execute(
        "DELETE FROM graduation_decisions WHERE id NOT IN (SELECT MIN(id) FROM "
        "graduation_decisions GROUP BY play, from_stage, decided_at)"
    )
    with op.batch_alter_table("graduation_decisions") as table:
        table.drop_constraint(_NEW_KEY, type_="unique")
        table.create_unique_constraint(_OLD_KEY, ["play", "from_stage", "decided_at"])
        table.drop_column("share")
        table.drop_column("reason")
    op.drop_table("pipeline_placements")
