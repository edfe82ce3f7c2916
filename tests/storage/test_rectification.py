"""Rectification on a real database with a fake clock: the hook, who may file and accept (each
refusal writes nothing), plan checks, and the tick's re-evaluation at the deadline."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from bot.chat.actions import action, read_rows
from bot.domain import evaluation, rectification_tick
from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError, Forbidden
from bot.domain.rectification import (
    FEATURE,
    Directory,
    RectificationService,
    acceptors,
    filers,
    on_evaluation_closed,
    subject_name,
)
from bot.domain.rectification_models import Rectification, RectificationStatus
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema as s
from storage.db import Database
from tests.accounts import actor_for, set_telegram

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 25, 10, 0, tzinfo=TZ)
ACCOUNTS = {
    "王建国": 1,  # member, 黄思村 (the member subject)
    "杨友林": 2,  # member, 黄思村
    "沈宝方": 3,  # secretary, 黄思村
    "刘晓燕": 4,  # committee, 新华镇党委 (above 黄思村)
    "陈国平": 5,  # leader, 新华镇党委
    "吴静": 6,  # secretary, 东园社区
    "张桂英": 7,  # resident, 黄思村
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def ids(db: Database, clock: FakeClock) -> dict[str, int]:
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    found: dict[str, int] = {}
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            found[org.code] = org.id
            for person in await uow.people.in_org(org.id):
                found[person.name] = person.id
                if person.name in ACCOUNTS:
                    await uow.people.bind(person.id, ACCOUNTS[person.name], "zh_CN")
    return found


async def closed_evaluation(
    db: Database, clock: FakeClock, ids: dict[str, int], subjects: list[tuple[str | None, int]]
) -> int:
    now = clock.now()
    async with db.uow() as uow:
        conn = uow.rectifications.conn
        result = await conn.execute(
            insert(s.evaluations).values(
                org_id=ids["XH-HS"],
                subject_kind="branch" if subjects[0][0] is None else "members",
                opened_by=ids["沈宝方"],
                status="closed",
                quorum=30,
                pass_permille=900,
                closes_at=now,
                created_at=now - timedelta(days=3),
                closed_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        evaluation_id = int(result.inserted_primary_key[0])
        await conn.execute(
            insert(s.evaluation_subjects),
            [
                {
                    "evaluation_id": evaluation_id,
                    "position": n,
                    "person_id": ids[name] if name else None,
                    "org_id": ids["XH-HS"],
                    "rate_permille": rate,
                    "passed": rate >= 900,
                }
                for n, (name, rate) in enumerate(subjects, start=1)
            ],
        )
        await on_evaluation_closed(uow, clock, evaluation_id)
        await on_evaluation_closed(uow, clock, evaluation_id)  # twice: idempotent
    return evaluation_id


async def all_rects(db: Database) -> list[Rectification]:
    async with db.uow() as uow:
        return await uow.rectifications.in_progress(list(RectificationStatus))


async def snapshot(db: Database) -> tuple[list[Rectification], int]:
    """Every rectification and the number of outbox rows: a refusal must change neither."""
    async with db.engine.connect() as conn:
        queued = int((await conn.execute(select(func.count()).select_from(s.outbox))).scalar_one())
    return await all_rects(db), queued


async def submitted(
    service: RectificationService, tg: int, rect_id: int, deadline: date = date(2026, 10, 31)
) -> Rectification:
    return (
        await service.submit_plan(
            await actor_for(service.db, tg), rect_id, "提升满意度", "每周走访", deadline
        )
    ).rect


async def test_the_hook_opens_one_rectification_per_failing_subject(
    db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    await closed_evaluation(db, clock, ids, [("王建国", 800), ("杨友林", 950), ("沈红梅", 899)])
    found = await all_rects(db)
    assert [r.person_id for r in found] == [ids["王建国"], ids["沈红梅"]]
    assert {r.status for r in found} == {RectificationStatus.DUE}
    assert all(r.round == 1 and r.version == 1 for r in found)


async def test_filing_and_accepting_a_members_plan_by_role(
    db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    await closed_evaluation(db, clock, ids, [("王建国", 800)])
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)

    for name in ("杨友林", "沈宝方", "刘晓燕", "张桂英", "吴静"):
        before = await snapshot(db)
        with pytest.raises(Forbidden) as refused:
            await submitted(service, ACCOUNTS[name], rect.id)
        assert refused.value.key == "rectify.not_yours", name
        assert await snapshot(db) == before
    rect = await submitted(service, ACCOUNTS["王建国"], rect.id)
    assert rect.status is RectificationStatus.SUBMITTED

    for name in ("王建国", "杨友林", "吴静", "陈国平", "张桂英"):
        before = await snapshot(db)
        with pytest.raises(Forbidden) as refused:
            await service.accept(await actor_for(db, ACCOUNTS[name]), rect.id, rect.version)
        assert refused.value.key == "rectify.not_acceptor", name
        with pytest.raises(Forbidden):
            await service.send_back(
                await actor_for(db, ACCOUNTS[name]), rect.id, rect.version, "再具体些"
            )
        assert await snapshot(db) == before
    # The branch secretary accepts (the committee above could too).
    decided = await service.accept(await actor_for(db, ACCOUNTS["沈宝方"]), rect.id, rect.version)
    assert decided.rect.status is RectificationStatus.ACCEPTED
    assert decided.rect.reviewer_id == ids["沈宝方"]
    before = await snapshot(db)
    with pytest.raises(DomainError) as twice:
        await service.accept(await actor_for(db, ACCOUNTS["刘晓燕"]), rect.id, rect.version)
    assert twice.value.key == "rectify.already_decided"
    assert await snapshot(db) == before


async def test_a_branch_plan_is_filed_by_its_secretary_and_accepted_above(
    db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    await closed_evaluation(db, clock, ids, [(None, 850)])
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)
    assert rect.person_id is None
    with pytest.raises(Forbidden):
        await submitted(service, ACCOUNTS["王建国"], rect.id)
    rect = await submitted(service, ACCOUNTS["沈宝方"], rect.id)
    for name in ("沈宝方", "王建国", "吴静", "陈国平"):
        with pytest.raises(Forbidden):
            await service.accept(await actor_for(db, ACCOUNTS[name]), rect.id, rect.version)
    returned = await service.send_back(
        await actor_for(db, ACCOUNTS["刘晓燕"]), rect.id, rect.version, "要更具体"
    )
    assert returned.rect.status is RectificationStatus.RETURNED
    assert returned.rect.review_comment == "要更具体"
    with pytest.raises(DomainError) as stale:
        await service.accept(await actor_for(db, ACCOUNTS["刘晓燕"]), rect.id, rect.version)
    assert stale.value.key == "rectify.already_decided"
    again = await submitted(service, ACCOUNTS["沈宝方"], rect.id)
    with pytest.raises(DomainError) as old_button:
        await service.accept(await actor_for(db, ACCOUNTS["刘晓燕"]), rect.id, rect.version)
    assert old_button.value.key == "rectify.stale"
    accepted = await service.accept(
        await actor_for(db, ACCOUNTS["刘晓燕"]), again.id, again.version
    )
    assert accepted.rect.status is RectificationStatus.ACCEPTED


async def test_plan_checks(db: Database, clock: FakeClock, ids: dict[str, int]) -> None:
    await closed_evaluation(db, clock, ids, [("王建国", 800)])
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)
    for deadline in (date(2026, 9, 24), date(2026, 9, 25), date(2027, 12, 1)):
        with pytest.raises(DomainError):
            await submitted(service, ACCOUNTS["王建国"], rect.id, deadline)
    for text, key in (
        ("2026-09-01", "date.past"),
        ("今天", "rectify.deadline.too_soon"),
        ("2028-01-01", "rectify.deadline.too_far"),
        ("随便", "date.unparsable"),
    ):
        with pytest.raises(DomainError) as refused:
            service.check_deadline(text)
        assert refused.value.key == key, text
    assert service.check_deadline("2026年10月31日") == date(2026, 10, 31)
    with pytest.raises(DomainError):
        await service.submit_plan(
            await actor_for(db, ACCOUNTS["王建国"]), rect.id, " ", "措施", date(2026, 10, 31)
        )
    with pytest.raises(DomainError):
        await service.submit_plan(
            await actor_for(db, ACCOUNTS["王建国"]),
            rect.id,
            "目标",
            "x" * 1501,
            date(2026, 10, 31),
        )
    assert (await all_rects(db))[0].status is RectificationStatus.DUE


async def test_nobody_bound_to_accept_is_said(
    db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    await closed_evaluation(db, clock, ids, [(None, 850)])
    async with db.uow() as uow:  # the committee has not joined the bot
        await set_telegram(uow.rectifications.conn, ids["刘晓燕"], None)
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)
    decided = await service.submit_plan(
        await actor_for(db, ACCOUNTS["沈宝方"]), rect.id, "目标", "措施", date(2026, 10, 31)
    )
    assert decided.notified is False


async def tick(db: Database, clock: FakeClock) -> dict[str, int]:
    async with db.uow() as uow:
        return await rectification_tick.step(uow, clock)


async def test_the_reevaluation_opens_the_day_after_the_deadline_once(
    db: Database, clock: FakeClock, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await closed_evaluation(db, clock, ids, [("王建国", 800)])
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)
    rect = await submitted(service, ACCOUNTS["王建国"], rect.id, date(2026, 10, 10))
    await service.accept(await actor_for(db, ACCOUNTS["沈宝方"]), rect.id, rect.version)
    calls: list[tuple[Any, ...]] = []
    real = evaluation.open_reevaluation

    async def spy(*args: Any) -> int:
        calls.append(args[2:])
        return await real(*args)

    monkeypatch.setattr(evaluation, "open_reevaluation", spy)
    clock.set(datetime(2026, 10, 10, 10, 0, tzinfo=TZ))
    assert "rectify_reevaluation" not in await tick(db, clock)  # the deadline day itself
    clock.set(datetime(2026, 10, 11, 8, 30, tzinfo=TZ))
    assert (await tick(db, clock))["rectify_reevaluation"] == 1
    assert "rectify_reevaluation" not in await tick(db, clock)
    assert len(calls) == 1
    previous, rect_id, subject_ids, closes_at = calls[0]
    assert (previous, rect_id) == (first, rect.id) and subject_ids == [rect.subject_id]
    assert closes_at == clock.now() + timedelta(days=7)
    [now_rect] = await all_rects(db)
    assert now_rect.status is RectificationStatus.REEVALUATING
    assert now_rect.reevaluation_id is not None


async def test_a_refused_reevaluation_leaves_the_plan_accepted(
    db: Database, clock: FakeClock, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    await closed_evaluation(db, clock, ids, [("王建国", 800)])
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)
    rect = await submitted(service, ACCOUNTS["王建国"], rect.id, date(2026, 10, 10))
    await service.accept(await actor_for(db, ACCOUNTS["沈宝方"]), rect.id, rect.version)

    async def refuse(*args: Any) -> int:
        raise DomainError("ev.gone")

    monkeypatch.setattr(evaluation, "open_reevaluation", refuse)
    clock.set(datetime(2026, 10, 12, 10, 0, tzinfo=TZ))
    assert "rectify_reevaluation" not in await tick(db, clock)
    [still] = await all_rects(db)
    assert still.status is RectificationStatus.ACCEPTED


async def test_a_reevaluation_with_too_few_votes_is_held_again(
    db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    await closed_evaluation(db, clock, ids, [("王建国", 800)])
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)
    rect = await submitted(service, ACCOUNTS["王建国"], rect.id, date(2026, 10, 10))
    await service.accept(await actor_for(db, ACCOUNTS["沈宝方"]), rect.id, rect.version)
    clock.set(datetime(2026, 10, 11, 10, 0, tzinfo=TZ))
    assert (await tick(db, clock))["rectify_reevaluation"] == 1
    [rect] = await all_rects(db)
    first_redo = rect.reevaluation_id
    assert first_redo is not None
    # It closes with 3 valid votes for him: no result may be shown or judged.
    clock.set(datetime(2026, 10, 18, 10, 0, tzinfo=TZ))
    async with db.uow() as uow:
        conn = uow.rectifications.conn
        await conn.execute(
            s.evaluations.update()
            .where(s.evaluations.c.id == first_redo)
            .values(status="closed", closed_at=clock.now())
        )
        await conn.execute(
            s.evaluation_subjects.update()
            .where(s.evaluation_subjects.c.evaluation_id == first_redo)
            .values(satisfied=1, basic=0, unsatisfied=2, rate_permille=333, passed=None)
        )
        await on_evaluation_closed(uow, clock, first_redo)
    [rect] = await all_rects(db)
    assert rect.status is RectificationStatus.ACCEPTED and rect.deadline == date(2026, 10, 17)
    async with db.engine.connect() as conn:
        texts = [
            str(payload.get("text", ""))
            for (payload,) in await conn.execute(
                select(s.outbox.c.payload).where(s.outbox.c.chat_id == ACCOUNTS["王建国"])
            )
        ]
    assert any("有效票不足 5 票" in text for text in texts)
    assert not any("33.3%" in text for text in texts)
    assert (await tick(db, clock))["rectify_reevaluation"] == 1
    [rect] = await all_rects(db)
    assert rect.status is RectificationStatus.REEVALUATING
    assert rect.reevaluation_id not in (None, first_redo)


async def test_a_void_reevaluation_nobody_rescheduled_is_held_again(
    db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    await closed_evaluation(db, clock, ids, [(None, 850)])
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)
    rect = await submitted(service, ACCOUNTS["沈宝方"], rect.id, date(2026, 10, 10))
    await service.accept(await actor_for(db, ACCOUNTS["刘晓燕"]), rect.id, rect.version)
    clock.set(datetime(2026, 10, 11, 10, 0, tzinfo=TZ))
    assert (await tick(db, clock))["rectify_reevaluation"] == 1
    [rect] = await all_rects(db)
    void_id = rect.reevaluation_id
    clock.set(datetime(2026, 10, 18, 10, 0, tzinfo=TZ))
    async with db.uow() as uow:  # the quorum was missed
        await uow.rectifications.conn.execute(
            s.evaluations.update()
            .where(s.evaluations.c.id == void_id)
            .values(status="void", closed_at=clock.now())
        )
    clock.set(datetime(2026, 10, 20, 10, 0, tzinfo=TZ))  # the secretary may still reschedule
    await tick(db, clock)
    assert (await all_rects(db))[0].status is RectificationStatus.REEVALUATING
    clock.set(datetime(2026, 10, 21, 10, 0, tzinfo=TZ))  # three days on: held again
    await tick(db, clock)
    [rect] = await all_rects(db)
    assert rect.status is RectificationStatus.ACCEPTED
    assert (await tick(db, clock))["rectify_reevaluation"] == 1
    [rect] = await all_rects(db)
    assert rect.status is RectificationStatus.REEVALUATING
    assert rect.reevaluation_id not in (None, void_id)
    await tick(db, clock)
    async with db.engine.connect() as conn:
        count = await conn.execute(
            select(func.count())
            .select_from(s.evaluations)
            .where(s.evaluations.c.rectification_id == rect.id)
        )
        assert count.scalar_one() == 2


async def test_an_undecided_plan_reminds_its_acceptor_with_live_buttons(
    db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    await closed_evaluation(db, clock, ids, [(None, 850)])
    service = RectificationService(db, clock)
    [rect] = await all_rects(db)
    rect = await submitted(service, ACCOUNTS["沈宝方"], rect.id)

    async def waiting_texts() -> list[dict[str, Any]]:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                select(s.outbox.c.payload).where(s.outbox.c.chat_id == ACCOUNTS["刘晓燕"])
            )
            return [p for (p,) in rows if "等待您审核" in p.get("text", "")]

    clock.set(NOW + timedelta(days=2, hours=23))
    assert "rectify_waiting" not in await tick(db, clock)
    clock.set(NOW + timedelta(days=3, hours=1))
    assert (await tick(db, clock))["rectify_waiting"] == 1
    assert "rectify_waiting" not in await tick(db, clock)
    [reminder] = await waiting_texts()
    assert "提升满意度" in reminder["text"] and "已提交 3 天" in reminder["text"]
    asked = [b.action for row in read_rows(reminder["buttons"]) for b in row]
    assert asked == [
        action(FEATURE, "ok", rect.id, rect.version),
        action(FEATURE, "ret", rect.id, rect.version),
    ]
    clock.set(NOW + timedelta(days=10, hours=1))
    assert (await tick(db, clock))["rectify_waiting"] == 1  # a week on, again
    # Accepting from the reminder works (the buttons carry the current version).
    await service.accept(await actor_for(db, ACCOUNTS["刘晓燕"]), rect.id, rect.version)
    clock.set(NOW + timedelta(days=17, hours=1))
    assert "rectify_waiting" not in await tick(db, clock)
    assert len(await waiting_texts()) == 2


async def test_the_bulk_directory_chooses_the_same_people_as_the_queries(
    db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    await closed_evaluation(
        db, clock, ids, [("王建国", 800), ("朱德顺", 700), ("沈宝方", 850), ("杨友林", 600)]
    )
    await closed_evaluation(db, clock, ids, [(None, 850)])
    rects = await all_rects(db)
    assert len(rects) == 5
    async with db.uow() as uow:
        directory = await Directory.load(uow, rects)
        for rect in rects:
            assert [p.id for p in directory.filers(rect)] == [
                p.id for p in await filers(uow, rect)
            ]
            assert [p.id for p in directory.acceptors(rect)] == [
                p.id for p in await acceptors(uow, rect)
            ]
            assert directory.name(rect) == await subject_name(uow, rect)
    by_subject = {r.person_id: r for r in rects}
    async with db.uow() as uow:
        oral = by_subject[ids["朱德顺"]]
        assert {p.id for p in await filers(uow, oral)} == {ids["朱德顺"], ids["沈宝方"]}
        assert [p.id for p in await acceptors(uow, oral)] == [ids["刘晓燕"]]
        own = by_subject[ids["沈宝方"]]
        assert [p.id for p in await acceptors(uow, own)] == [ids["刘晓燕"]]
        member = by_subject[ids["王建国"]]
        assert [p.id for p in await acceptors(uow, member)] == [ids["沈宝方"]]
