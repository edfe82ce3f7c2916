"""Who may review whom, role by role, with nothing written on a refusal; who may answer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError
from bot.domain.leader_review import LeaderReviewService, ReviewDraft, SubjectKind, subject_key
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema
from storage.db import Database
from tests.accounts import actor_for

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
TZ = ZoneInfo("Asia/Shanghai")
# reviewers and the reviewed, bound to Telegram ids
TG = {
    "刘晓燕": 7001,  # committee, XH
    "陈国平": 7002,  # liaison leader, linked to XH-HS and XH-DY
    "沈宝方": 7003,  # secretary, XH-HS
    "吴静": 7004,  # secretary, XH-DY
    "王建国": 7005,  # member, XH-HS
    "张桂英": 7006,  # resident, XH-HS
    "何志强": 7007,  # secretary, XH-JX
}
OK, REFUSED = "ok", "refused"


@pytest.fixture
async def service(db: Database) -> LeaderReviewService:
    clock = FakeClock(datetime(2026, 7, 10, 10, 0, tzinfo=TZ))
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            for person in await uow.people.in_org(org.id):
                if person.name in TG:
                    await uow.people.bind(person.id, TG[person.name], "zh_CN")
    return LeaderReviewService(db, clock)


async def _ids(db: Database) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            ids[org.code] = org.id
            for person in await uow.people.in_org(org.id):
                ids[person.name] = person.id
    return ids


async def _count(db: Database) -> int:
    async with db.engine.connect() as conn:
        query = select(func.count()).select_from(schema.leader_reviews)
        return int((await conn.execute(query)).scalar_one())


CASES = [
    # reviewer, subject (m: person name, o: org code), expected, refusal key
    ("沈宝方", "m:王建国", OK, None),
    ("沈宝方", "m:沈宝方", REFUSED, "lr.self"),
    ("沈宝方", "m:孙立新", REFUSED, "lr.out_of_scope"),
    ("沈宝方", "o:XH-HS", REFUSED, "lr.branch_by_secretary"),
    ("沈宝方", "m:张桂英", REFUSED, "lr.unknown_subject"),  # residents are not reviewed
    ("吴静", "m:王建国", REFUSED, "lr.out_of_scope"),
    ("何志强", "o:XH-JX", REFUSED, "lr.branch_by_secretary"),
    ("刘晓燕", "o:XH-HS", OK, None),
    ("刘晓燕", "o:XH-JX", OK, None),
    ("刘晓燕", "m:王建国", OK, None),
    ("刘晓燕", "o:XH", REFUSED, "lr.unknown_subject"),  # a committee is not a branch subject
    ("刘晓燕", "m:刘晓燕", REFUSED, "lr.self"),
    ("陈国平", "o:XH-DY", OK, None),
    ("陈国平", "m:孙立新", OK, None),
    ("陈国平", "o:XH-JX", REFUSED, "lr.out_of_scope"),
    ("陈国平", "m:徐海涛", REFUSED, "lr.out_of_scope"),
    ("王建国", "m:杨友林", REFUSED, "lr.role"),
    ("张桂英", "m:王建国", REFUSED, "lr.role"),
]


@pytest.mark.parametrize(("reviewer", "subject", "expected", "key"), CASES)
async def test_each_role_reviews_only_its_scope(
    db: Database,
    service: LeaderReviewService,
    reviewer: str,
    subject: str,
    expected: str,
    key: str | None,
) -> None:
    ids = await _ids(db)
    kind, name = subject.split(":")
    sk = SubjectKind.MEMBER if kind == "m" else SubjectKind.BRANCH
    draft = ReviewDraft(subject_key(sk, ids[name]), "2026-07", "good", "认真履诺")
    if expected == OK:
        await service.submit(await actor_for(db, TG[reviewer]), draft)
        assert await _count(db) == 1
        return
    with pytest.raises(DomainError) as caught:
        await service.submit(await actor_for(db, TG[reviewer]), draft)
    assert caught.value.key == key
    assert await _count(db) == 0
    async with db.engine.connect() as conn:
        outbox = (await conn.execute(select(func.count()).select_from(schema.outbox))).scalar()
    assert outbox == 0


async def test_only_the_reviewed_answer_once(db: Database, service: LeaderReviewService) -> None:
    ids = await _ids(db)
    member = ReviewDraft(subject_key(SubjectKind.MEMBER, ids["王建国"]), "2026-07", "poor", "差")
    branch = ReviewDraft(subject_key(SubjectKind.BRANCH, ids["XH-DY"]), "2026-Q3", "good", "好")
    first = await service.submit(await actor_for(db, TG["沈宝方"]), member)
    second = await service.submit(await actor_for(db, TG["陈国平"]), branch)
    for who, review_id in (("吴静", first.review_id), ("沈宝方", first.review_id)):
        with pytest.raises(DomainError) as caught:
            await service.respond(await actor_for(db, TG[who]), review_id, "我来表态")
        assert caught.value.key == "lr.respond.not_yours"
    with pytest.raises(DomainError):
        await service.respond(await actor_for(db, TG["王建国"]), second.review_id, "不是我的支部")
    with pytest.raises(DomainError) as caught:
        await service.respond(await actor_for(db, TG["王建国"]), first.review_id, "   ")
    assert caught.value.key == "lr.response.empty"
    await service.respond(await actor_for(db, TG["王建国"]), first.review_id, "马上整改")
    await service.respond(
        await actor_for(db, TG["吴静"]), second.review_id, "按期整改"
    )  # the branch's secretary
    with pytest.raises(DomainError) as caught:
        await service.respond(await actor_for(db, TG["王建国"]), first.review_id, "再说一次")
    assert caught.value.key == "lr.respond.already"
    with pytest.raises(DomainError) as caught:
        await service.respond(await actor_for(db, TG["王建国"]), 9999, "没有这条")
    assert caught.value.key == "lr.review_gone"
