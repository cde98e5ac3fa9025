"""Risk events keyed per deployment: two pairs breaching one rule at one instant are two rows.

Revision 1 keyed a risk event by (environment, rule, time), so the second pair's breach at the
same instant was taken for a replay of the first and dropped. The key now names the deployment
too. ``deployment`` becomes ``NOT NULL`` with ``''`` for a breach of the environment as a whole
(a drawdown, a daily loss): both databases treat ``NULL`` as distinct in a unique key, which
would let a replayed environment breach be stored twice.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None

_OLD_KEY = "uq_risk_events_environment_rule_time"
_NEW_KEY = "uq_risk_events_environment_deployment_rule_time"


def upgrade() -> None:
    op.execute("UPDATE risk_events SET deployment = '' WHERE deployment IS NULL")
    # SQLite alters a constraint only by copying the table: batch mode does that there, and
    # plain ALTER TABLE statements on PostgreSQL.
    with op.batch_alter_table("risk_events") as table:
        table.alter_column("deployment", existing_type=sa.String(64), nullable=False)
        table.drop_constraint(_OLD_KEY, type_="unique")
        table.create_unique_constraint(_NEW_KEY, ["environment", "deployment", "rule", "time"])


def downgrade() -> None:
    # Events that only the new key told apart collapse into the first of them.
    op.execute(
        "DELETE FROM risk_events WHERE id NOT IN (SELECT MIN(id) FROM risk_events "
        "GROUP BY environment, rule, time)"
    )
    with op.batch_alter_table("risk_events") as table:
        table.drop_constraint(_NEW_KEY, type_="unique")
        table.create_unique_constraint(_OLD_KEY, ["environment", "rule", "time"])
        table.alter_column("deployment", existing_type=sa.String(64), nullable=True)
    op.execute("UPDATE risk_events SET deployment = NULL WHERE deployment = ''")
