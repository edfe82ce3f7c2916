"""evaluation: the reason a quorum below the rule's was set (a branch smaller than 30 or 20)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(sa.Column("quorum_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("quorum_reason")
