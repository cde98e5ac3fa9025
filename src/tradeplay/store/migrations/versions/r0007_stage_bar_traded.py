"""Whether the play's engine ran on each bar of its stage tape.

A stage's active pair takes every bar, but its engine does not run on a bar while the pair is
paused or its account is not yet reconciled: the replay must not act on that bar's signals
either. Bars stored before this revision are taken as traded, as they were read until then,
except the warm-up bars (no signals), on which no engine ever runs.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stage_bars") as table:
        table.add_column(
            sa.Column("traded", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.execute("UPDATE stage_bars SET traded = false WHERE signals IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("stage_bars") as table:
        table.drop_column("traded")
