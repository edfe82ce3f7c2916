"""The board kept current (overdue sweep, the post's text) and the suggestions repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.domain.access import as_actor
from bot.domain.board import BOARD_VIEW, BoardService, board_ref
from bot.domain.clock import FakeClock
from bot.domain.suggestion_models import SuggestionStatus
from bot.domain.suggestions import PAGE_SIZE, SuggestionService
from storage import schema
from storage.db import Database
from tests.webboard_data import NOW, seed

BOARD_CHAT = -100_123


async def outbox_views(db: Database) -> list[dict[str, object]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(select(schema.outbox).where(schema.outbox.c.kind == "view"))
        return [dict(r._mapping) for r in rows]


async def link_board(db: Database, org_id: int) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            update(schema.orgs).where(schema.orgs.c.id == org_id).values(board_chat_id=BOARD_CHAT)
        )


async def test_overdue_sweep_refreshes_each_post_once_a_day(db: Database) -> None:
    seeded = await seed(db)
    # 30 June passed; the sweep looks back a week: on 1 July the item fell overdue.
    clock = FakeClock(datetime(2026, 7, 1, 1, 0, tzinfo=UTC))
    boards = BoardService(db, clock)
    assert await boards.overdue_tick() == 0  # no board group yet: nothing to refresh
    await link_board(db, seeded.hs)
    boards = BoardService(db, clock)
    assert await boards.overdue_tick() == 1
    [row] = await outbox_views(db)
    assert row["chat_id"] == BOARD_CHAT and row["payload"] == {"view": BOARD_VIEW, "pledge": 1}
    assert row["ref"] == board_ref(1)
    assert await boards.overdue_tick() == 0  # once a day
    clock.advance(timedelta(days=1))
    assert await boards.overdue_tick() == 0  # and once per item (the reminder log)
    assert len(await outbox_views(db)) == 1

    # The post as it is sent: the overdue item says so; the fulfilled one too.
    async with db.uow() as uow:
        rendered = await boards.board_view(uow, BOARD_CHAT, {"view": BOARD_VIEW, "pledge": 1})
    assert rendered is not None
    text = rendered[0]
    assert "✅ 已兑现" in text and "⚠️ 逾期" in text and "兑现进度：已兑现 1/2 项" in text
    assert "最近进展：2026年9月27日" in text and "最近进展：暂无" in text
    assert len(text) <= 4096


async def test_a_long_pledge_post_stays_within_telegrams_limit(db: Database) -> None:
    await seed(db)
    async with db.engine.begin() as conn:
        snapshot = (
            await conn.execute(
                select(schema.pledges.c.published_snapshot).where(schema.pledges.c.id == 1)
            )
        ).scalar_one()
        item = snapshot["items"][0]
        snapshot["items"] = [{**item, "content": "很长的承诺内容" * 30} for _ in range(40)]
        await conn.execute(
            update(schema.pledges)
            .where(schema.pledges.c.id == 1)
            .values(published_snapshot=snapshot)
        )
    boards = BoardService(db, FakeClock(NOW), "https://x.example/board/")
    async with db.uow() as uow:
        rendered = await boards.board_view(uow, BOARD_CHAT, {"view": BOARD_VIEW, "pledge": 1})
    assert rendered is not None
    text = rendered[0]
    assert len(text) <= 4096
    assert "未列出，请看网上公示栏" in text and "https://x.example/board/XH-HS" in text
    async with db.uow() as uow:
        assert (
            await boards.board_view(uow, BOARD_CHAT, {"view": BOARD_VIEW, "pledge": 999}) is None
        )


async def test_suggestion_counts_paging_and_solving(db: Database) -> None:
    seeded = await seed(db)
    at = NOW
    async with db.uow() as uow:
        author = (await uow.people.in_org(seeded.hs, ["resident"]))[0]
        secretary = (await uow.people.in_org(seeded.hs, ["secretary"]))[0]
        ids = []
        for n in range(PAGE_SIZE * 2 + 3):
            org = seeded.hs if n % 3 else seeded.dy
            ids.append(
                await uow.suggestions.add(
                    org_id=org, author_id=author.id, text=f"建议{n}", at=at + timedelta(minutes=n)
                )
            )
        hs_ids = [i for n, i in enumerate(ids) if n % 3]
        assert await uow.suggestions.solve(hs_ids[0], secretary.id, at)
        assert not await uow.suggestions.solve(hs_ids[0], secretary.id, at)  # a double tap
        assert await uow.suggestions.link_item(hs_ids[1], None)
    async with db.uow() as uow:
        assert await uow.suggestions.counts([seeded.hs]) == (len(hs_ids), 1)
        assert await uow.suggestions.counts([seeded.hs, seeded.dy]) == (len(ids), 1)
        assert await uow.suggestions.counts([]) == (0, 0)
        by_org = await uow.suggestions.counts_by_org([seeded.hs, seeded.dy, 999])
        assert by_org == {seeded.hs: (len(hs_ids), 1), seeded.dy: (len(ids) - len(hs_ids), 0)}
        # Open ones first, newest first; the solved one last.
        pages = [
            await uow.suggestions.page(seeded.hs, PAGE_SIZE, offset)
            for offset in range(0, len(hs_ids), PAGE_SIZE)
        ]
        flat = [s for page in pages for s in page]
        assert [s.id for s in flat] == [*sorted(hs_ids[1:], reverse=True), hs_ids[0]]
        assert flat[-1].status is SuggestionStatus.SOLVED and flat[-1].solved_by == secretary.id
    # The service pages the same way and clamps a page out of range.
    service = SuggestionService(db, FakeClock(NOW))
    last = await service.page(as_actor(secretary), 99)
    assert last.pages == -(-len(hs_ids) // PAGE_SIZE) and last.page == last.pages - 1
    assert (last.collected, last.solved) == (len(hs_ids), 1)
