"""A copy of a notice that was on its way when its recipient acknowledged another copy loses
its "收到" button once it is recorded as sent (the acknowledgement could not see it yet)."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.broadcast import Audience, AudienceKind, BroadcastService, Notice
from bot.domain.clock import FakeClock
from storage.db import Database
from storage.repositories import OutboxBatch, OutboxRow
from tests.accounts import actor_for
from tests.storage.test_broadcast_chunks import FIRST_TG, NOW, SECRETARY_TG, seed


async def notice_rows(db: Database, chat_id: int) -> list[OutboxRow]:
    async with db.uow() as uow:
        due = await uow.outbox.due(NOW + timedelta(days=1), 100)
    return [
        OutboxRow.model_validate({**m.model_dump(), "broadcast_id": 1})
        for m in due
        if m.chat_id == chat_id and m.kind == "message"
    ]


async def delivered(db: Database, row: OutboxRow, message_id: int) -> None:
    batch = OutboxBatch()
    batch.mark_sent(row.id, message_id, NOW)
    async with db.uow() as uow:
        await uow.outbox.settle(batch)


async def edits(db: Database) -> list[int]:
    async with db.uow() as uow:
        due = await uow.outbox.due(NOW + timedelta(days=1), 100)
    return [m.payload["message_id"] for m in due if m.kind == "edit"]


async def test_a_copy_still_on_its_way_at_the_acknowledgement_loses_its_button(
    db: Database,
) -> None:
    await seed(db, 1)
    clock = FakeClock(NOW)
    service = BroadcastService(db, clock)
    secretary = await actor_for(db, SECRETARY_TG)
    await service.send(
        secretary, Notice("请于本周内提交年度承诺。"), Audience(AudienceKind.MEMBERS)
    )
    member = FIRST_TG
    [first] = await notice_rows(db, member)
    await delivered(db, first, 11)
    clock.advance(timedelta(hours=1))
    assert await service.resend(secretary, 1) == 1
    [second] = await notice_rows(db, member)  # the second round: sent, not yet recorded

    # The member taps 收到 on the first copy while the second is on its way.
    acked = await service.acknowledge(await actor_for(db, member), 1, 1, 11)
    assert acked.first
    assert await edits(db) == []  # the second copy is not known to be sent yet

    await delivered(db, second, 12)
    async with db.uow() as uow:
        assert await service.on_settled(uow, [second])
    assert await edits(db) == [12]
