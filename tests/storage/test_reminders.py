"""The reminder tick with a fake clock on a real database: due once, never twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain import reminders
from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.enums import Horizon
from bot.domain.pledges import PledgeService
from bot.domain.reminders import ReminderService
from bot.domain.review import ReviewService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage.db import Database
from tests.accounts import actor_for, insert_people

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
TZ = ZoneInfo("Asia/Shanghai")
MEMBER_TG, SECRETARY_TG = 5001, 5002


@pytest.fixture
async def setup(db: Database) -> tuple[Database, FakeClock]:
    clock = FakeClock(datetime(2026, 6, 6, 10, 0, tzinfo=TZ))
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        assert hs is not None
        for person in await uow.people.in_org(hs.id):
            if person.name == "王建国":
                await uow.people.bind(person.id, MEMBER_TG, "zh_CN")
            if person.name == "沈宝方":
                await uow.people.bind(person.id, SECRETARY_TG, "zh_CN")
    pledges, reviews = PledgeService(db, clock), ReviewService(db, clock)
    member = await actor_for(db, MEMBER_TG)
    view = await pledges.open_draft(member)
    pid = view.pledge.id
    await pledges.set_horizon(member, pid, Horizon.ANNUAL)
    for index, (content, deadline) in enumerate(
        [("修水渠", "2026-06-13"), ("办讲座", "2026-06-20")]
    ):
        if index:
            await pledges.start_item(member, pid)
        for answer in ("serve", content, "完成", deadline, "王建国"):
            await pledges.answer(member, pid, answer)
    submitted = await pledges.submit(member, pid)
    await reviews.approve(await actor_for(db, SECRETARY_TG), pid, submitted.pledge.version)
    async with db.uow() as uow:  # forget the review messages: only reminders count below
        for row in await uow.outbox.due(clock.now(), 1000):
            await uow.outbox.mark_sent(row.id, 1, clock.now())
    return db, clock


async def _pending(db: Database, chat_id: int, clock: FakeClock) -> list[str]:
    """Texts queued for one chat (marked sent, so each is seen once)."""
    async with db.uow() as uow:
        rows = await uow.outbox.due(clock.now() + timedelta(days=365), 10_000)
        mine = [r for r in rows if r.chat_id == chat_id]
        for row in mine:
            await uow.outbox.mark_sent(row.id, 1, clock.now())
    return [r.payload["text"] for r in mine]


def _service(db: Database, clock: FakeClock) -> ReminderService:
    return ReminderService(db, clock, load_calendar())


async def test_deadline_reminders_come_once_each(setup: tuple[Database, FakeClock]) -> None:
    db, clock = setup
    service = _service(db, clock)
    clock.set(datetime(2026, 6, 6, 10, 0, tzinfo=TZ))
    await service.tick()
    texts = await _pending(db, MEMBER_TG, clock)
    assert any("修水渠" in x and "还有 7 天" in x for x in texts)
    assert not any("办讲座" in x for x in texts)  # 14 days away: not yet

    await service.tick()
    await _service(db, clock).tick()  # a restarted bot: a new service, same database
    assert await _pending(db, MEMBER_TG, clock) == []

    clock.set(datetime(2026, 6, 12, 9, 0, tzinfo=TZ))
    await service.tick()
    texts = await _pending(db, MEMBER_TG, clock)
    assert any("修水渠" in x and "明天" in x for x in texts)
    assert not any("办讲座" in x for x in texts)  # 8 days away: outside the 7-day window

    clock.set(datetime(2026, 6, 14, 9, 0, tzinfo=TZ))
    await service.tick()
    member = await _pending(db, MEMBER_TG, clock)
    assert any("修水渠" in x and "已超过完成时限 1 天" in x for x in member)
    assert any("办讲座" in x and "还有 6 天" in x for x in member)
    secretary = [x for x in await _pending(db, SECRETARY_TG, clock) if "逾期" in x]
    assert len(secretary) == 1 and "王建国：修水渠" in secretary[0]

    clock.set(datetime(2026, 6, 15, 9, 0, tzinfo=TZ))
    await service.tick()
    assert await _pending(db, MEMBER_TG, clock) == []  # overdue repeats weekly, not daily
    clock.set(datetime(2026, 6, 21, 9, 0, tzinfo=TZ))
    await service.tick()
    again = await _pending(db, MEMBER_TG, clock)
    assert any("修水渠" in x and "8 天" in x for x in again)


async def test_quiet_hours_defer_and_nothing_is_lost(setup: tuple[Database, FakeClock]) -> None:
    db, clock = setup
    service = _service(db, clock)
    clock.set(datetime(2026, 6, 6, 23, 30, tzinfo=TZ))
    report = await service.tick()
    assert report.quiet and report.total == 0
    clock.set(datetime(2026, 6, 7, 7, 59, tzinfo=TZ))
    assert (await service.tick()).quiet
    clock.set(datetime(2026, 6, 7, 8, 0, tzinfo=TZ))
    await service.tick()
    assert any("修水渠" in x for x in await _pending(db, MEMBER_TG, clock))


async def test_muted_member_skips_routine_but_gets_essential(
    setup: tuple[Database, FakeClock],
) -> None:
    db, clock = setup
    service = _service(db, clock)
    async with db.uow() as uow:
        member = await uow.people.by_tg(MEMBER_TG)
        assert member is not None
    await service.set_muted(member.id, True)
    await service.tick()
    assert await _pending(db, MEMBER_TG, clock) == []
    await service.set_muted(member.id, False)
    await service.tick()  # the muted one is not sent late either
    assert await _pending(db, MEMBER_TG, clock) == []
    await service.set_muted(member.id, True)
    clock.set(datetime(2026, 6, 12, 9, 0, tzinfo=TZ))
    await service.tick()
    assert any("明天" in x for x in await _pending(db, MEMBER_TG, clock))


async def test_monthly_self_check_and_quarter(setup: tuple[Database, FakeClock]) -> None:
    db, clock = setup
    service = _service(db, clock)
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        assert hs is not None
        await uow.orgs.set_board(hs.id, -777)
    clock.set(datetime(2026, 7, 2, 9, 0, tzinfo=TZ))
    await service.tick()
    member = await _pending(db, MEMBER_TG, clock)
    assert any("一月一自查" in x and "2026-06" in x for x in member)
    first = await _pending(db, SECRETARY_TG, clock)
    assert any("一月一自查" in x and "王建国" in x for x in first)
    await service.tick()
    assert await _pending(db, SECRETARY_TG, clock) == []  # already sent with the first tick
    clock.set(datetime(2026, 7, 5, 9, 0, tzinfo=TZ))  # past the catch-up days
    await service.tick()
    assert not any("一月一自查" in x for x in await _pending(db, MEMBER_TG, clock))


async def test_quarter_notice_reaches_the_board_and_secretary(
    setup: tuple[Database, FakeClock],
) -> None:
    db, clock = setup
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        assert hs is not None
        await uow.orgs.set_board(hs.id, -777)
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=TZ))
    await _service(db, clock).tick()
    board = await _pending(db, -777, clock)
    assert len(board) == 1 and "2026Q2" in board[0] and "承诺事项 2 项" in board[0]
    secretary = await _pending(db, SECRETARY_TG, clock)
    assert any("一季一检查" in x for x in secretary)
    assert any("一月一自查" in x and "王建国" in x for x in secretary)


async def test_calendar_phase_notices_open_and_close(setup: tuple[Database, FakeClock]) -> None:
    db, clock = setup
    clock.set(datetime(2026, 9, 21, 9, 0, tzinfo=TZ))
    await _service(db, clock).tick()
    member = await _pending(db, MEMBER_TG, clock)
    assert any("群众评议" in x and "阶段开始" in x for x in member)
    clock.set(datetime(2026, 9, 30, 9, 0, tzinfo=TZ))
    await _service(db, clock).tick()
    assert any("今天结束" in x for x in await _pending(db, SECRETARY_TG, clock))


async def _many_members(db: Database, count: int, first_tg: int) -> list[int]:
    """``count`` bound members of 黄思村 (chat ids from ``first_tg``)."""
    now = datetime(2026, 6, 1, tzinfo=TZ)
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        assert hs is not None
        await insert_people(
            uow,
            [
                {
                    "name": f"党员{n:03d}",
                    "org_id": hs.id,
                    "role": "member",
                    "phone": f"137{n:08d}",
                    "cadre": False,
                    "oral": False,
                    "tg_user_id": first_tg + n,
                    "locale": "zh_CN",
                    "is_admin": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
            now,
        )
    return [first_tg + n for n in range(count)]


class Killed(Exception):
    """The process dies here."""


async def test_a_big_tick_commits_in_chunks_and_resumes_after_a_crash(
    setup: tuple[Database, FakeClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mass evaluation phase opens: its notice to 120 members goes out in chunks of 20,
    others write between them; killed after two chunks, the next tick sends the rest, and
    nobody gets it twice."""
    db, clock = setup
    chats = await _many_members(db, 120, 700_000)
    monkeypatch.setattr(reminders, "FLUSH_ROWS", 20)
    clock.set(datetime(2026, 9, 21, 9, 0, tzinfo=TZ))
    real_flush = reminders._Batch.flush
    flushed = 0

    async def dies_after_two(batch: reminders._Batch, at_least: int = 0) -> None:
        nonlocal flushed
        before = len(batch.outbox)
        await real_flush(batch, at_least)
        if len(batch.outbox) < before:
            flushed += 1
            if flushed == 2:
                raise Killed

    monkeypatch.setattr(reminders._Batch, "flush", dies_after_two)
    with pytest.raises(Killed):
        await _service(db, clock).tick()
    monkeypatch.setattr(reminders._Batch, "flush", real_flush)

    # Again, with a clerk writing at the same time: the clerk's writes go between chunks.
    written_during: list[bool] = []
    ticking = True

    async def clerk() -> None:
        n = 0
        while ticking:
            n += 1
            async with db.uow() as uow:
                await uow.updates.claim(n, clock.now())
            written_during.append(ticking)
            await asyncio.sleep(0)

    writer = asyncio.create_task(clerk())
    await asyncio.sleep(0)
    await _service(db, clock).tick()
    ticking = False
    await writer
    assert sum(written_during) >= 3  # not all waiting for the tick's end

    async with db.uow() as uow:
        rows = await uow.outbox.due(clock.now() + timedelta(days=365), 10_000)
    notices = Counter(r.chat_id for r in rows if "阶段开始" in r.payload.get("text", ""))
    assert {chat: notices[chat] for chat in chats} == dict.fromkeys(chats, 1)
