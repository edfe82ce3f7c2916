"""What the board kept current (亮诺) reads: items that fell overdue on a linked board."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import schema as s


class BoardRepo:
    """Board posts to refresh."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def newly_overdue(self, since: date, until: date) -> list[tuple[int, int]]:
        """(item id, pledge id) of unfulfilled published items whose deadline lies in
        [since, until], in branches that have a board group (the deadline index is used)."""
        progress = s.item_progress
        rows = await self.conn.execute(
            select(s.pledge_items.c.id, s.pledges.c.id)
            .select_from(
                s.pledge_items.join(s.pledges, s.pledges.c.id == s.pledge_items.c.pledge_id)
                .join(s.orgs, s.orgs.c.id == s.pledges.c.org_id)
                .outerjoin(progress, progress.c.item_id == s.pledge_items.c.id)
            )
            .where(
                and_(
                    s.pledge_items.c.deadline >= since,
                    s.pledge_items.c.deadline <= until,
                    s.pledges.c.published_snapshot.is_not(None),
                    s.orgs.c.board_chat_id.is_not(None),
                    or_(progress.c.status.is_(None), progress.c.status != "fulfilled"),
                )
            )
            .order_by(s.pledge_items.c.id)
        )
        return [(int(item), int(pledge)) for item, pledge in rows]
