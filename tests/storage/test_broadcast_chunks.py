"""A big notice is queued in chunks: a crash in the middle resumes at the watermark with each
recipient queued exactly once, and other people's writes go in between the chunks."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.domain.broadcast import Audience, AudienceKind, BroadcastService, Notice
from bot.domain.clock import FakeClock
from storage import pace
from storage import schema as s
from storage.db import Database
from storage.repositories import OutboxRow
from tests.accounts import actor_for, insert_people
from tests.loop_steps import counting_suspensions

NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)
SECRETARY_TG = 1001
FIRST_TG = 500_000
MEMBERS = Audience(AudienceKind.MEMBERS)


async def seed(db: Database, members: int, unbound: int = 0) -> None:
    """A branch with its secretary (bound) and ``members`` members (the last ``unbound`` of
    them have not joined the bot)."""
    async with db.uow() as uow:
        await uow.orgs.upsert_many([{"code": "XH-HS", "name": "黄思村党支部", "type": "rural"}])
        org = await uow.orgs.by_code("XH-HS")
        assert org is not None
        secretary = await uow.people.create(
            name="沈宝方",
            org_id=org.id,
            role="secretary",
            phone="13900000001",
            locale="zh_CN",
            created_at=NOW,
            updated_at=NOW,
        )
        await uow.people.bind(secretary.id, SECRETARY_TG, "zh_CN", NOW)
        await insert_people(
            uow,
            [
                {
                    "name": f"党员{n:04d}",
                    "org_id": org.id,
                    "role": "member",
                    "phone": f"137{n:08d}",
                    "cadre": False,
                    "oral": False,
                    "tg_user_id": FIRST_TG + n if n < members - unbound else None,
                    "locale": "zh_CN" if n % 3 else "en",
                    "is_admin": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(members)
            ],
            NOW,
        )


async def queued(db: Database) -> tuple[Counter[int], int, int, int]:
    """(notice rows per chat, report rows, recipients stored, the broadcast's own count)."""
    async with db.read() as uow:
        conn: Any = uow.outbox.conn
        rows = (await conn.execute(select(s.outbox.c.chat_id, s.outbox.c.kind))).all()
        stored = (
            await conn.execute(select(func.count()).select_from(s.broadcast_recipients))
        ).scalar_one()
        counted = (await conn.execute(select(s.broadcasts.c.recipients))).scalar() or 0
    notices = Counter(int(chat) for chat, kind in rows if kind == "message")
    reports = sum(1 for _chat, kind in rows if kind == "view")
    return notices, reports, int(stored), int(counted)


async def test_a_crash_mid_queue_resumes_and_queues_each_recipient_once(db: Database) -> None:
    """The bot dies while a 250-member notice is being queued (100 a chunk); the restarted
    bot's tick carries on: everyone has the notice once, the sender one report, the figures
    count everyone (the 10 not on the bot as unreachable)."""
    await seed(db, 250, unbound=10)
    clock = FakeClock(NOW)
    first = BroadcastService(db, clock, chunk=100)
    build = first.queue.build
    chunks = 0

    async def dies_in_the_second_chunk(*args: Any) -> list[dict[str, Any]]:
        nonlocal chunks
        chunks += 1
        if chunks == 2:
            raise RuntimeError("killed")
        return await build(*args)

    first.queue.build = dies_in_the_second_chunk
    with pytest.raises(RuntimeError, match="killed"):
        await first.send(
            await actor_for(db, SECRETARY_TG),
            Notice("今晚八点召开支部大会。"),
            Audience(AudienceKind.MEMBERS),
        )
    notices, reports, stored, counted = await queued(db)
    assert (len(notices), reports, stored, counted) == (100, 0, 100, 100)
    # Meanwhile the first chunk's messages are delivered: the report is not refreshed yet
    # (it would count 100 as the whole audience), its last chunk queues it.
    async with db.uow() as uow:
        delivered = [
            OutboxRow.model_validate({**m.model_dump(), "broadcast_id": 1})
            for m in await uow.outbox.due(NOW, 100)
        ]
        assert len(delivered) == 100
        assert not await first.on_settled(uow, delivered)

    restarted = BroadcastService(db, clock, chunk=100)
    assert await restarted.resume() == [1]
    notices, reports, stored, counted = await queued(db)
    assert set(notices) == {FIRST_TG + n for n in range(240)}
    assert set(notices.values()) == {1}
    assert (reports, stored, counted) == (1, 250, 250)
    assert await restarted.resume() == []  # nothing left half-queued
    report = await restarted.report(await actor_for(db, SECRETARY_TG), 1)
    assert (report.record.recipients, report.reachable, report.unreachable) == (250, 240, 10)


async def test_a_write_goes_in_between_the_chunks_of_a_big_notice(db: Database) -> None:
    """While 1,000 members' notice is queued (100 a chunk), another person's write commits
    before the notice is queued whole, not after it."""
    await seed(db, 1000)
    service = BroadcastService(db, FakeClock(NOW), chunk=100)
    secretary = await actor_for(db, SECRETARY_TG)
    sending = asyncio.create_task(
        service.send(
            secretary, Notice("全体党员请于周五前提交承诺书。"), Audience(AudienceKind.MEMBERS)
        )
    )

    async with asyncio.timeout(30):
        while (await queued(db))[2] == 0:  # wait for the first chunk to commit
            assert not sending.done(), "queued whole in one go"
            await asyncio.sleep(0)
    async with db.uow() as uow:  # someone else's write
        await uow.updates.claim(77, NOW)
        _notices, _reports, stored_then, _counted = await queued(db)
    # The tick's resume meanwhile waits for the sender's queueing instead of doing it twice.
    assert await service.resume() == []
    sent = await sending
    assert 0 < stored_then < 1000
    assert (sent.total, sent.reachable) == (1000, 1000)
    notices, reports, stored, counted = await queued(db)
    assert (len(notices), set(notices.values()), reports, stored, counted) == (
        1000,
        {1},
        1,
        1000,
        1000,
    )


async def test_queueing_a_chunk_gives_the_loop_back_row_by_row(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk of a big notice is not one step of the event loop: with a slice of nothing,
    each of 300 members read and each outbox row built lets the loop go on (at least 600
    times), where before it went on only around the chunk's statements."""
    await seed(db, 300)
    monkeypatch.setattr(pace, "SLICE", 0.0)
    suspensions = [0]
    service = BroadcastService(db, FakeClock(NOW), chunk=2000)
    secretary = await actor_for(db, SECRETARY_TG)
    sent = await counting_suspensions(
        service.send(secretary, Notice("周六上午九点集中学习。"), MEMBERS), suspensions
    )
    assert (sent.total, sent.reachable) == (300, 300)
    assert suspensions[0] >= 600
