"""Leader-review submit (领导点评) as a service call taking an Actor, on fakes: no database.

A branch secretary grades a member of her branch; the review is stored once, the member's
overdue items get their rectification deadline, the member is told with a button to answer,
and the public board gets its post. Out of scope or of herself: refused, nothing written."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, cast

import pytest

from bot.chat import features
from bot.chat.actions import action, read_rows
from bot.chat.actor import Actor
from bot.domain.clock import FakeClock
from bot.domain.enums import OrgType, Role
from bot.domain.errors import Forbidden, NotRegistered
from bot.domain.leader_review import LeaderReviewService, ReviewDraft, SubjectKind, subject_key
from bot.domain.models import Org, Person
from storage.db import Database
from storage.leader_review_repo import OpenItem
from tests.buttons import actions

NOW = datetime(2026, 7, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
BRANCH = Org(
    id=2,
    code="XH-HS",
    name="黄思村党支部",
    type=OrgType.RURAL,
    parent_id=1,
    board_chat_id=-100_200,
)
OTHER = Org(id=3, code="XH-DY", name="东岳村党支部", type=OrgType.RURAL, parent_id=1)
SECRETARY = Person(
    id=10, name="沈宝方", org_id=2, role=Role.SECRETARY, locale="zh_CN", tg_user_id=7010
)
MEMBER = Person(id=11, name="王建国", org_id=2, role=Role.MEMBER, locale="en", tg_user_id=7011)
STRANGER = Person(id=12, name="吴静", org_id=3, role=Role.MEMBER, tg_user_id=7012)
OVERDUE = OpenItem(item_id=31, content="修水渠", deadline=date(2026, 6, 30), rectify_by=None)


def actor(person: Person) -> Actor:
    """The actor the channel adapter resolves for this person's account."""
    return Actor(person.id, person.name, person.org_id, person.role, person.locale or "zh_CN")


class FakePeople:
    def __init__(self, people: Iterable[Person]) -> None:
        self.people = {p.id: p for p in people}

    async def get(self, person_id: int) -> Person | None:
        return self.people.get(person_id)

    async def in_org(self, org_id: int, roles: Iterable[str] | None = None) -> list[Person]:
        wanted = set(roles) if roles is not None else None
        return [
            p
            for p in self.people.values()
            if p.org_id == org_id and (wanted is None or p.role.value in wanted)
        ]


class FakeOrgs:
    def __init__(self, orgs: Iterable[Org]) -> None:
        self.orgs = {o.id: o for o in orgs}

    async def get(self, org_id: int) -> Org | None:
        return self.orgs.get(org_id)

    async def all(self) -> list[Org]:
        return list(self.orgs.values())


class FakeLeaderReviews:
    def __init__(self, overdue: list[OpenItem]) -> None:
        self.overdue = overdue
        self.stored: list[dict[str, Any]] = []
        self.deadlines: list[tuple[list[int], date]] = []

    async def overdue_items(
        self, kind: str, person_id: int | None, org_id: int, today: date
    ) -> list[OpenItem]:
        return list(self.overdue) if person_id == MEMBER.id else []

    async def set_rectify_by(self, item_ids: list[int], rectify_by: date) -> None:
        self.deadlines.append((item_ids, rectify_by))

    async def add(self, **values: Any) -> int:
        self.stored.append(values)
        return len(self.stored)


class FakeOutbox:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def add(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows.extend(rows)


class FakeUow:
    """What submit touches of a unit of work; commits nothing, keeps everything in view."""

    def __init__(self, overdue: list[OpenItem]) -> None:
        self.people = FakePeople([SECRETARY, MEMBER, STRANGER])
        self.orgs = FakeOrgs([BRANCH, OTHER])
        self.leader_reviews = FakeLeaderReviews(overdue)
        self.outbox = FakeOutbox()

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class FakeDb:
    def __init__(self, uow: FakeUow) -> None:
        self._uow = uow

    def uow(self) -> FakeUow:
        return self._uow

    read = uow


def service(uow: FakeUow) -> LeaderReviewService:
    return LeaderReviewService(cast(Database, FakeDb(uow)), FakeClock(NOW))


async def test_a_secretary_grades_her_member_who_is_told_and_given_a_deadline() -> None:
    uow = FakeUow([OVERDUE])
    draft = ReviewDraft(
        subject=subject_key(SubjectKind.MEMBER, MEMBER.id),
        period="2026-07",
        grade="average",
        comment="进度落后，要抓紧",
        rectify_days=15,
        publish=True,
    )
    done = await service(uow).submit(actor(SECRETARY), draft)

    [stored] = uow.leader_reviews.stored
    assert stored["reviewer_id"] == SECRETARY.id and stored["subject_person_id"] == MEMBER.id
    assert (stored["grade"], stored["comment"], stored["published"]) == (
        "average",
        "进度落后，要抓紧",
        True,
    )
    assert uow.leader_reviews.deadlines == [([OVERDUE.item_id], date(2026, 7, 25))]
    assert (done.delivered, done.published, done.rectify_by, done.rectify_items) == (
        1,
        True,
        date(2026, 7, 25),
        1,
    )
    to_member = [r for r in uow.outbox.rows if r["chat_id"] == MEMBER.tg_user_id]
    [message] = to_member
    text = message["payload"]["text"]
    # In the member's language (English), with the item and its new deadline.
    assert "进度落后，要抓紧" in text and "修水渠" in text and "2026-07-25" in text
    answer, report = actions(read_rows(message["payload"]["buttons"]))
    assert (answer.feature, answer.name) == (features.LEADER_REVIEW, "resp")
    assert report == action(features.PROGRESS, "it", OVERDUE.item_id)  # the overdue item
    board = [r for r in uow.outbox.rows if r["chat_id"] == BRANCH.board_chat_id]
    assert len(board) == 1 and "王建国" in board[0]["payload"]["text"]


@pytest.mark.parametrize(
    ("reviewer", "subject", "refusal"),
    [
        (SECRETARY, STRANGER, "lr.out_of_scope"),  # a member of another branch
        (SECRETARY, SECRETARY, "lr.self"),
        (MEMBER, SECRETARY, "lr.role"),  # a member reviews nobody
    ],
)
async def test_a_review_out_of_the_reviewers_reach_is_refused_and_nothing_is_written(
    reviewer: Person, subject: Person, refusal: str
) -> None:
    uow = FakeUow([OVERDUE])
    draft = ReviewDraft(subject_key(SubjectKind.MEMBER, subject.id), "2026-07", "good", "好")
    with pytest.raises(Forbidden) as caught:
        await service(uow).submit(actor(reviewer), draft)
    assert caught.value.key == refusal
    assert uow.leader_reviews.stored == [] and uow.outbox.rows == []
    assert uow.leader_reviews.deadlines == []


async def test_an_actor_who_left_the_roster_is_not_registered() -> None:
    uow = FakeUow([])
    gone = Actor(99, "已调离", 2, Role.SECRETARY, "zh_CN")
    draft = ReviewDraft(subject_key(SubjectKind.MEMBER, MEMBER.id), "2026-07", "good", "好")
    with pytest.raises(NotRegistered):
        await service(uow).submit(gone, draft)
    assert uow.leader_reviews.stored == []
