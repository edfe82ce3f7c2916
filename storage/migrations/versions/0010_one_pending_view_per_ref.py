"""one pending refresh of a live view per ref (a unique partial index)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_VIEW = "method = 'view' AND status = 'pending'"


def upgrade() -> None:
    """Apply this revision."""
    # Two refreshes of one view could have been queued by racing writers: the oldest stays.
    op.execute(
        "DELETE FROM outbox WHERE method = 'view' AND status = 'pending' AND id NOT IN "
        "(SELECT MIN(id) FROM outbox WHERE method = 'view' AND status = 'pending' "
        "GROUP BY ref)"
    )
    op.create_index(
        "uq_outbox_pending_view",
        "outbox",
        ["ref"],
        unique=True,
        sqlite_where=sa.text(PENDING_VIEW),
        postgresql_where=sa.text(PENDING_VIEW),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_outbox_pending_view", table_name="outbox")
