"""The board chat (公示栏): a group the secretary links to the branch."""

from __future__ import annotations

from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.enums import Role
from bot.domain.models import Org
from bot.domain.notify import post_board
from bot.domain.render import board_post
from storage.db import Database


class BoardService:
    """Linking a group as an organisation's board."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def link_board(self, tg_user_id: int, chat_id: int) -> tuple[Org, int]:
        """Make this group the board of the secretary's (or clerk's) organisation.

        Pledges already published are posted to the new board; returns the org and how many.
        """
        now = self.clock.now()
        async with self.db.uow() as uow:
            me = await access.actor(uow, tg_user_id)
            access.require_role(me, Role.SECRETARY, Role.COMMITTEE)
            org = await uow.orgs.get(me.org_id)
            assert org is not None
            await uow.orgs.set_board(org.id, chat_id)
            published = [
                p
                for p in await uow.pledges.find(org_id=org.id, published=True)
                if p.published_snapshot
            ]
            for pledge in published:
                assert pledge.published_snapshot is not None
                ref = f"board:pledge:{pledge.id}"
                known = await uow.outbox.posted(ref)
                if known is None or known[0] != chat_id:
                    await post_board(
                        uow, chat_id, ref, board_post(None, pledge.published_snapshot), now
                    )
            return org.model_copy(update={"board_chat_id": chat_id}), len(published)
