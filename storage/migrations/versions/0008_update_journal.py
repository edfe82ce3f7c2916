"""the update journal: getUpdates answers kept (encrypted) until handled

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 04:20:00.000000
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
    op.create_table(
        "update_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_update_id", sa.BigInteger(), nullable=False),
        sa.Column("last_update_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_journal")),
    )
    with op.batch_alter_table("update_journal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_update_journal_last_update_id"), ["last_update_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("update_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_update_journal_last_update_id"))
    op.drop_table("update_journal")
