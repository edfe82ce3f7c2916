"""broadcast recipients without a chat; outbox ref index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # A recipient who never joined the bot is kept (counted "not reachable") without a chat.
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=True)
    # Live views (a broadcast's report) look up their pending refresh by ref.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_ref"), ["ref"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_ref"))
    with op.batch_alter_table("broadcast_recipients", schema=None) as batch_op:
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)
