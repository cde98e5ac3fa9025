"""Where a graduating play's move waits for a flatten that failed.

A play changes stage only flat. When its pair where it traded could not be flattened, the move
is held: the play trades in no stage until that pair is flat. Until this revision the hold
lived only in the running process, and a restart started the new stage beside a position left
open in the old one. Placements stored before it are not held.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_placements") as table:
        table.add_column(sa.Column("held_in", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pipeline_placements") as table:
        table.drop_column("held_in")
