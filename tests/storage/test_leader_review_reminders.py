"""The leader-review cadence and rectification reminders: a fake clock on a real database;
each fires once per slot, respects quiet hours and mute, and a restart sends none twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.enums import Horizon
from bot.domain.leader_review import LeaderReviewService, ReviewDraft, SubjectKind, subject_key
from bot.domain.leader_review_reminders import slot_day
from bot.domain.pledges import PledgeService
from bot.domain.reminders import ReminderService
from bot.domain.review import ReviewService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema
from storage.db import Database
from tests.accounts import actor_for

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
TZ = ZoneInfo("Asia/Shanghai")
TG = {"王建国": 6001, "沈宝方": 6002, "刘晓燕": 6003, "陈国平": 6004, "吴静": 6005}


@pytest.fixture
async def db_clock(db: Database) -> tuple[Database, FakeClock]:
    clock = FakeClock(datetime(2026, 6, 6, 10, 0, tzinfo=TZ))
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            for person in await uow.people.in_org(org.id):
                if person.name in TG:
                    await uow.people.bind(person.id, TG[person.name], "zh_CN")
    return db, clock


async def _texts(db: Database, chat_id: int, clock: FakeClock) -> list[str]:
    """Texts queued for one chat since last asked (marked sent, so each is seen once)."""
    async with db.uow() as uow:
        rows = await uow.outbox.due(clock.now() + timedelta(days=365), 10_000)
        mine = [r for r in rows if r.chat_id == chat_id]
        for row in mine:
            await uow.outbox.mark_sent(row.id, 1, clock.now())
    return [r.payload["text"] for r in mine]


def _reminders(db: Database, clock: FakeClock) -> ReminderService:
    return ReminderService(db, clock, load_calendar())


async def _person_id(db: Database, name: str) -> int:
    async with db.uow() as uow:
        person = await uow.people.by_tg(TG[name])
    assert person is not None
    return person.id


async def _review(db: Database, clock: FakeClock, reviewer: str, key: str, period: str) -> None:
    draft = ReviewDraft(subject=key, period=period, grade="good", comment="很好")
    await LeaderReviewService(db, clock).submit(await actor_for(db, TG[reviewer]), draft)


def test_slot_days_follow_the_campaign_calendar() -> None:
    calendar = load_calendar()
    assert slot_day(calendar, 2026, 6) == 21  # 第一次领导点评 06-21
    assert slot_day(calendar, 2026, 9) == 21  # 第二次领导点评 09-21
    assert slot_day(calendar, 2026, 12) == 21  # 年度考核总结 12-21
    assert slot_day(calendar, 2026, 3) == 21  # no phase in March: the default day


async def test_monthly_nudge_once_skips_reviewed_and_muted(
    db_clock: tuple[Database, FakeClock],
) -> None:
    db, clock = db_clock
    clock.set(datetime(2026, 11, 19, 10, 0, tzinfo=TZ))
    wang = await _person_id(db, "王建国")
    await _review(db, clock, "沈宝方", subject_key(SubjectKind.MEMBER, wang), "2026-11")
    await _texts(db, TG["沈宝方"], clock)
    await _reminders(db, clock).set_muted(await _person_id(db, "吴静"), True)
    service = _reminders(db, clock)
    await service.tick()  # the 19th: not yet
    assert not [x for x in await _texts(db, TG["沈宝方"], clock) if "一月一提醒" in x]

    clock.set(datetime(2026, 11, 20, 23, 0, tzinfo=TZ))  # quiet hours: nothing
    await service.tick()
    assert not await _texts(db, TG["沈宝方"], clock)

    clock.set(datetime(2026, 11, 21, 9, 0, tzinfo=TZ))  # one day late: caught up
    await service.tick()
    nudges = [x for x in await _texts(db, TG["沈宝方"], clock) if "一月一提醒" in x]
    assert len(nudges) == 1
    assert "3 名党员" in nudges[0] and "杨友林" in nudges[0] and "王建国" not in nudges[0]
    assert not [x for x in await _texts(db, TG["吴静"], clock) if "一月一提醒" in x]  # muted

    await service.tick()
    await _reminders(db, clock).tick()  # a restart: a new service on the same database
    clock.set(datetime(2026, 11, 22, 9, 0, tzinfo=TZ))
    await _reminders(db, clock).tick()
    assert not [x for x in await _texts(db, TG["沈宝方"], clock) if "一月一提醒" in x]


async def test_quarterly_slot_for_secretaries_committee_and_leaders(
    db_clock: tuple[Database, FakeClock],
) -> None:
    db, clock = db_clock
    clock.set(datetime(2026, 9, 21, 9, 0, tzinfo=TZ))
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        dy = await uow.orgs.by_code("XH-DY")
    assert hs is not None and dy is not None
    # The leader already reviewed 黄思村 for Q3; the committee clerk reviewed 东园社区.
    await _review(db, clock, "陈国平", subject_key(SubjectKind.BRANCH, hs.id), "2026-Q3")
    await _review(db, clock, "刘晓燕", subject_key(SubjectKind.BRANCH, dy.id), "2026-Q3")
    for name in TG:
        await _texts(db, TG[name], clock)

    clock.set(datetime(2026, 9, 21, 10, 0, tzinfo=TZ))
    await _reminders(db, clock).tick()
    secretary = [x for x in await _texts(db, TG["沈宝方"], clock) if "一季一点评" in x]
    assert len(secretary) == 1 and "4 名党员" in secretary[0] and "2026年第三季度" in secretary[0]
    clerk_all = await _texts(db, TG["刘晓燕"], clock)
    clerk = [x for x in clerk_all if "一季一点评" in x]
    assert len(clerk) == 1 and "2 个支部" in clerk[0], clerk_all
    assert "黄思村党总支" not in clerk[0] and "东园社区党支部" not in clerk[0]
    leader = [x for x in await _texts(db, TG["陈国平"], clock) if "一季一点评" in x]
    assert len(leader) == 1 and "1 个支部" in leader[0] and "东园社区党支部" in leader[0]

    for moment in (
        datetime(2026, 9, 21, 15, 0, tzinfo=TZ),
        datetime(2026, 9, 23, 9, 0, tzinfo=TZ),
    ):
        clock.set(moment)
        await _reminders(db, clock).tick()  # later ticks and restarts: nothing twice
    for name in ("沈宝方", "刘晓燕", "陈国平"):
        assert not [x for x in await _texts(db, TG[name], clock) if "一季一点评" in x]
    async with db.engine.connect() as conn:
        keys = [k for (k,) in await conn.execute(select(schema.reminder_log.c.key))]
    assert len([k for k in keys if k.startswith("lr:slot:2026-Q3:p")]) == 4  # 吴静 too


async def test_half_year_and_annual_slots_name_their_cadence(
    db_clock: tuple[Database, FakeClock],
) -> None:
    db, clock = db_clock
    clock.set(datetime(2026, 6, 22, 10, 0, tzinfo=TZ))
    await _reminders(db, clock).tick()
    assert [x for x in await _texts(db, TG["陈国平"], clock) if "半年一检查" in x]
    clock.set(datetime(2026, 12, 21, 10, 0, tzinfo=TZ))
    await _reminders(db, clock).tick()
    annual = [x for x in await _texts(db, TG["刘晓燕"], clock) if "一年一总评" in x]
    assert len(annual) == 1 and "2026年度" in annual[0]


async def test_rectification_deadline_reminded_before_and_after(
    db_clock: tuple[Database, FakeClock],
) -> None:
    db, clock = db_clock
    pledges, reviews = PledgeService(db, clock), ReviewService(db, clock)
    member, secretary = TG["王建国"], TG["沈宝方"]
    wang_actor = await actor_for(db, member)
    view = await pledges.open_draft(wang_actor)
    pid = view.pledge.id
    await pledges.set_horizon(wang_actor, pid, Horizon.ANNUAL)
    for answer in ("serve", "修水渠", "完成", "2026-06-30", "王建国"):
        await pledges.answer(wang_actor, pid, answer)
    submitted = await pledges.submit(wang_actor, pid)
    await reviews.approve(await actor_for(db, secretary), pid, submitted.pledge.version)

    clock.set(datetime(2026, 7, 10, 10, 0, tzinfo=TZ))  # the item is overdue now
    wang = await _person_id(db, "王建国")
    draft = ReviewDraft(
        subject=subject_key(SubjectKind.MEMBER, wang),
        period="2026-07",
        grade="average",
        comment="进度落后",
        rectify_days=15,
    )
    done = await LeaderReviewService(db, clock).submit(await actor_for(db, secretary), draft)
    assert done.rectify_by == date(2026, 7, 25) and done.rectify_items == 1
    delivered = await _texts(db, member, clock)
    assert any("限期整改" in x and "修水渠" in x and "2026年7月25日" in x for x in delivered)

    clock.set(datetime(2026, 7, 21, 10, 0, tzinfo=TZ))  # 4 days before: not yet
    await _reminders(db, clock).tick()
    assert not [x for x in await _texts(db, member, clock) if "限期整改提醒" in x]
    clock.set(datetime(2026, 7, 22, 10, 0, tzinfo=TZ))
    await _reminders(db, clock).tick()
    await _reminders(db, clock).tick()
    soon = [x for x in await _texts(db, member, clock) if "限期整改提醒" in x]
    assert len(soon) == 1 and "还有 3 天" in soon[0]
    clock.set(datetime(2026, 7, 26, 10, 0, tzinfo=TZ))
    await _reminders(db, clock).tick()
    await _reminders(db, clock).tick()
    lapsed = [x for x in await _texts(db, member, clock) if "整改期限" in x]
    assert len(lapsed) == 1 and "已过" in lapsed[0]

    # Fulfilled items are no longer reminded, even with a new deadline.
    async with db.engine.begin() as conn:
        await conn.execute(
            update(schema.item_progress).values(status="fulfilled", rectify_by=date(2026, 7, 28))
        )
    await _reminders(db, clock).tick()
    assert not [x for x in await _texts(db, member, clock) if "整改" in x]
