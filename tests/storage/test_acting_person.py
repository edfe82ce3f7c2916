"""Services take the acting person (an Actor, resolved once per event by the channel adapter)
and read their roster entry as it stands when the service acts, not as the event found it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.domain.board import BoardService
from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.enums import Horizon, PledgeStatus, Role
from bot.domain.errors import DomainError, Forbidden, NotRegistered
from bot.domain.ledger import BranchPage, LedgerService
from bot.domain.onboarding import OnboardingService
from bot.domain.pledges import PledgeService
from bot.domain.progress import ProgressService
from bot.domain.progress_models import ItemStatus
from bot.domain.reminders import ReminderService
from bot.domain.review import ReviewService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema
from storage.db import Database
from tests.accounts import actor_for
from tests.fulfilment_data import PublishedPledge, insert_published

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
WANG, SHEN = 6001, 6002
TODAY = date(2026, 6, 6)


@pytest.fixture
async def clock(db: Database) -> FakeClock:
    clock = FakeClock(datetime(2026, 6, 6, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        assert hs is not None
        people = {p.name: p for p in await uow.people.in_org(hs.id)}
        await uow.people.bind(people["王建国"].id, WANG, "zh_CN")
        await uow.people.bind(people["沈宝方"].id, SHEN, "zh_CN")
    return clock


async def _pledges(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(schema.pledges))).one()[0])


async def _set_role(db: Database, person_id: int, role: Role) -> None:
    async with db.engine.begin() as conn:  # as the clerk's next roster import leaves it
        await conn.execute(
            update(schema.people).where(schema.people.c.id == person_id).values(role=role.value)
        )


async def test_a_member_listed_as_a_resident_since_may_not_start_a_pledge(
    db: Database, clock: FakeClock
) -> None:
    wang = await actor_for(db, WANG)
    assert wang.role is Role.MEMBER
    await _set_role(db, wang.person_id, Role.RESIDENT)
    with pytest.raises(DomainError) as refused:
        await PledgeService(db, clock).open_draft(wang)
    assert refused.value.key == "pledge.residents_do_not_pledge"
    assert await _pledges(db) == 0


async def test_someone_no_longer_on_the_roster_is_told_to_join(
    db: Database, clock: FakeClock
) -> None:
    gone = replace(await actor_for(db, WANG), person_id=99_999)
    pledges = PledgeService(db, clock)
    with pytest.raises(NotRegistered):
        await pledges.open_draft(gone)
    with pytest.raises(NotRegistered):
        await pledges.my_pledges(gone)
    onboarding = OnboardingService(db, clock, [])
    with pytest.raises(NotRegistered):
        await onboarding.set_locale(gone, "en")
    with pytest.raises(NotRegistered):
        await onboarding.profile(gone)
    assert await _pledges(db) == 0


async def test_a_secretary_relieved_since_the_queue_was_shown_may_not_approve(
    db: Database, clock: FakeClock
) -> None:
    pledges = PledgeService(db, clock)
    wang = await actor_for(db, WANG)
    view = await pledges.open_draft(wang)
    await pledges.set_horizon(wang, view.pledge.id, Horizon.ANNUAL)
    for answer in ("serve", "修水渠", "完成", "年底", "王建国"):
        await pledges.answer(wang, view.pledge.id, answer)
    submitted = await pledges.submit(wang, view.pledge.id)
    shen = await actor_for(db, SHEN)
    reviews = ReviewService(db, clock)
    assert [e.pledge.id for e in await reviews.queue(shen)] == [view.pledge.id]

    await _set_role(db, shen.person_id, Role.MEMBER)  # a new secretary takes over
    with pytest.raises(Forbidden):
        await reviews.approve(shen, view.pledge.id, submitted.pledge.version)
    async with db.uow() as uow:
        pledge = await uow.pledges.get(view.pledge.id)
    assert pledge is not None and pledge.status is PledgeStatus.SUBMITTED


async def test_a_secretary_relieved_since_a_claim_came_may_not_verify_it(
    db: Database, clock: FakeClock
) -> None:
    wang, shen = await actor_for(db, WANG), await actor_for(db, SHEN)
    pledge = PublishedPledge(
        wang.org_id, "XH-HS-2026-0001", wang.person_id, wang.person_id, [("修水渠", TODAY)]
    )
    await insert_published(db, [pledge], clock.now())
    progress = ProgressService(db, clock)
    entry = await progress.record(wang, pledge.item_ids[0], "水渠已修好")
    await progress.claim(wang, entry.entry.id)

    await _set_role(db, shen.person_id, Role.MEMBER)  # a new secretary takes over
    with pytest.raises(Forbidden):
        await progress.accept(shen, entry.entry.id)
    async with db.uow() as uow:
        state = await uow.progress.item_progress(pledge.item_ids[0])
    assert state.status is ItemStatus.CLAIMED


async def test_a_secretary_relieved_since_may_not_read_the_ledger_or_link_a_board(
    db: Database, clock: FakeClock
) -> None:
    shen = await actor_for(db, SHEN)
    ledger = LedgerService(db, clock)
    assert isinstance(await ledger.open(shen), BranchPage)

    await _set_role(db, shen.person_id, Role.MEMBER)  # a new secretary takes over
    with pytest.raises(Forbidden):
        await ledger.open(shen)
    with pytest.raises(Forbidden):
        await BoardService(db, clock).link_board(shen, -100_500)
    async with db.uow() as uow:
        org = await uow.orgs.get(shen.org_id)
    assert org is not None and org.board_chat_id != -100_500


async def test_a_member_mutes_and_unmutes_their_own_reminders(
    db: Database, clock: FakeClock
) -> None:
    wang = await actor_for(db, WANG)
    reminders = ReminderService(db, clock, load_calendar())
    assert await reminders.toggle_mute(wang) is True
    async with db.uow() as uow:
        assert await uow.reminders.muted() == {wang.person_id}
    assert await reminders.toggle_mute(wang) is False
    async with db.uow() as uow:
        assert await uow.reminders.muted() == set()
