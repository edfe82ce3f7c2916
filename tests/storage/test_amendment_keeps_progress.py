"""An amendment never loses the progress record (记实) of the items it touches."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.domain.enums import Horizon, PledgeStatus
from bot.domain.errors import DomainError
from bot.domain.pledges import PledgeService, Step
from bot.domain.progress import ProgressService
from bot.domain.review import ReviewService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage.db import Database
from tests.accounts import actor_for

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
MEMBER, SECRETARY = 6001, 6002


async def _published(db: Database, clock: FakeClock) -> tuple[PledgeService, int]:
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    async with db.uow() as uow:
        hs = await uow.orgs.by_code("XH-HS")
        assert hs is not None
        for person in await uow.people.in_org(hs.id):
            if person.name in ("王建国", "沈宝方"):
                await uow.people.bind(
                    person.id, MEMBER if person.name == "王建国" else SECRETARY, "zh_CN"
                )
    pledges = PledgeService(db, clock)
    member = await actor_for(db, MEMBER)
    view = await pledges.open_draft(member)
    pid = view.pledge.id
    await pledges.set_horizon(member, pid, Horizon.LONG_TERM)
    for index, content in enumerate(("修水渠", "办讲座")):
        if index:
            await pledges.start_item(member, pid)
        for answer in ("serve", content, "完成", "年底", "王建国"):
            await pledges.answer(member, pid, answer)
    submitted = await pledges.submit(member, pid)
    await ReviewService(db, clock).approve(
        await actor_for(db, SECRETARY), pid, submitted.pledge.version
    )
    return pledges, pid


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 6, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))


async def test_abandoning_an_amendment_keeps_items_and_their_progress(
    db: Database, clock: FakeClock
) -> None:
    pledges, pid = await _published(db, clock)
    member = await actor_for(db, MEMBER)
    async with db.uow() as uow:
        before = await uow.pledges.get(pid)
    assert before is not None
    first = before.items[0]
    progress = ProgressService(db, clock)
    await progress.record(member, first.id, "已联系施工队")

    view = await pledges.amend(member, pid)
    with pytest.raises(DomainError) as refused:
        await pledges.remove_item(member, pid, first.id)
    assert refused.value.key == "draft.item_has_progress"
    await pledges.edit_item(member, pid, first.id, Step.CONTENT)
    await pledges.answer(member, pid, "修水渠并硬化渠道")
    await pledges.remove_item(member, pid, view.pledge.items[1].id)  # no progress: may go
    await pledges.abandon_amendment(member, pid)

    async with db.uow() as uow:
        after = await uow.pledges.get(pid)
        kept = await uow.pledges.items_with_progress([first.id])
    assert after is not None and after.status is PledgeStatus.PUBLISHED
    assert (after.items[0].id, after.items[0].content) == (first.id, "修水渠")
    assert [i.content for i in after.items] == ["修水渠", "办讲座"]
    assert kept == {first.id}
    record = await progress.month_record(member, "2026-06")
    assert "已联系施工队" in str(record)


async def test_an_item_added_in_the_amendment_with_progress_blocks_abandoning(
    db: Database, clock: FakeClock
) -> None:
    pledges, pid = await _published(db, clock)
    member = await actor_for(db, MEMBER)
    await pledges.amend(member, pid)
    await pledges.start_item(member, pid)
    for answer in ("study", "读书班", "每月一次", "年底", "王建国"):
        view = await pledges.answer(member, pid, answer)
    added = view.pledge.items[-1]
    await ProgressService(db, clock).record(member, added.id, "第一次读书班已办")
    with pytest.raises(DomainError) as refused:
        await pledges.abandon_amendment(member, pid)
    assert refused.value.key == "amend.abandon_has_progress"
    async with db.uow() as uow:
        assert await uow.pledges.items_with_progress([added.id]) == {added.id}
