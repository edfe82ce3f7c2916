"""Opening a mass evaluation (群众评议) as a service call taking an Actor, on fakes: no database.

黄思村's secretary opens the evaluation of her branch's members. It is stored once, with her as
the opener; every member is a subject; every member and resident takes part; each who has
joined gets an introduction and a ballot about everyone but themselves, one who has not joined
gets nothing yet; the board group gets the live turnout. Whoever may not open it (a member, a
secretary of another branch, someone whose role changed since they tapped, someone who left
the roster) is refused, and nothing is written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, cast

import pytest

from bot.chat.actor import Actor
from bot.domain.clock import FakeClock
from bot.domain.enums import OrgType, Role
from bot.domain.errors import DomainError, Forbidden, NotRegistered
from bot.domain.evaluation import EvaluationService
from bot.domain.evaluation_models import EvalStatus, Evaluation, Subject, SubjectKind
from bot.domain.models import Org, Person
from storage.db import Database

NOW = datetime(2026, 9, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
CLOSES = NOW + timedelta(days=3)
COMMITTEE = Org(id=1, code="XH", name="新湖镇党委", type=OrgType.COMMITTEE)
BRANCH = Org(
    id=2, code="XH-HS", name="黄思村党支部", type=OrgType.RURAL, parent_id=1, board_chat_id=-100
)
OTHER = Org(id=3, code="XH-DY", name="东岳村党支部", type=OrgType.RURAL, parent_id=1)
SECRETARY = Person(id=10, name="沈宝方", org_id=2, role=Role.SECRETARY, tg_user_id=7010)
MEMBER = Person(id=11, name="王建国", org_id=2, role=Role.MEMBER, locale="en", tg_user_id=7011)
NOT_JOINED = Person(id=12, name="杨友林", org_id=2, role=Role.MEMBER)
RESIDENT = Person(id=13, name="张桂英", org_id=2, role=Role.RESIDENT, tg_user_id=7013)
ELSEWHERE = Person(id=20, name="吴静", org_id=3, role=Role.SECRETARY, tg_user_id=7020)
EVERYONE = (SECRETARY, MEMBER, NOT_JOINED, RESIDENT, ELSEWHERE)
REASON = "支部只有四人"


def actor(person: Person) -> Actor:
    """The actor the channel adapter resolves for this person's account."""
    return Actor(person.id, person.name, person.org_id, person.role, person.locale or "zh_CN")


class FakePeople:
    def __init__(self, people: Iterable[Person]) -> None:
        self.people = {p.id: p for p in people}

    async def get(self, person_id: int) -> Person | None:
        return self.people.get(person_id)

    async def in_org(self, org_id: int, roles: Iterable[str] | None = None) -> list[Person]:
        return [p for p in self.people.values() if p.org_id == org_id]

    async def by_ids(self, ids: Iterable[int]) -> dict[int, Person]:
        return {i: self.people[i] for i in ids if i in self.people}


class FakeOrgs:
    async def all(self) -> list[Org]:
        return [COMMITTEE, BRANCH, OTHER]


class FakeEvaluations:
    """Evaluations, subjects and participants as the service writes them."""

    def __init__(self) -> None:
        self.created: list[Evaluation] = []
        self.subject_rows: list[dict[str, Any]] = []
        self.participants: list[dict[str, Any]] = []

    async def for_orgs(self, org_ids: Sequence[int], limit: int = 20) -> list[Evaluation]:
        return [e for e in self.created if e.org_id in org_ids]

    async def create(self, **values: Any) -> int:
        self.created.append(Evaluation(id=len(self.created) + 1, **values))
        return len(self.created)

    async def add_subjects(self, rows: Sequence[dict[str, Any]]) -> None:
        self.subject_rows.extend(rows)

    async def subjects(self, evaluation_id: int) -> list[Subject]:
        return [
            Subject(id=n, **row)
            for n, row in enumerate(self.subject_rows, start=100)
            if row["evaluation_id"] == evaluation_id
        ]

    async def add_participants(self, rows: Sequence[dict[str, Any]]) -> None:
        self.participants.extend(rows)


class FakeOutbox:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def add(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows.extend(rows)


class FakeUow:
    """What opening touches of a unit of work; commits nothing, keeps everything in view."""

    def __init__(self, people: Iterable[Person] = EVERYONE) -> None:
        self.people = FakePeople(people)
        self.orgs = FakeOrgs()
        self.evaluations = FakeEvaluations()
        self.outbox = FakeOutbox()

    async def __aenter__(self) -> FakeUow:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def nothing_written(self) -> bool:
        written = self.evaluations.created or self.evaluations.subject_rows
        return not (written or self.evaluations.participants or self.outbox.rows)


class FakeDb:
    def __init__(self, uow: FakeUow) -> None:
        self._uow = uow

    def uow(self) -> FakeUow:
        return self._uow

    read = uow


def service(uow: FakeUow) -> EvaluationService:
    return EvaluationService(cast(Database, FakeDb(uow)), FakeClock(NOW), b"k" * 32)


def keyed(uow: FakeUow, prefix: str) -> list[str]:
    """The outbox rows' dedupe keys starting with this (they name evaluation and person)."""
    return sorted(
        k for r in uow.outbox.rows if (k := r["dedupe_key"]) is not None and k.startswith(prefix)
    )


async def test_a_secretary_opens_her_branchs_evaluation_and_those_who_joined_get_ballots() -> None:
    uow = FakeUow()
    opened = await service(uow).open(
        actor(SECRETARY), BRANCH.id, SubjectKind.MEMBERS, CLOSES, quorum=3, reason=REASON
    )

    [evaluation] = uow.evaluations.created
    assert evaluation.id == opened.evaluation_id
    assert (evaluation.org_id, evaluation.opened_by, evaluation.status) == (
        BRANCH.id,
        SECRETARY.id,
        EvalStatus.OPEN,
    )
    assert (evaluation.quorum, evaluation.quorum_reason, evaluation.closes_at) == (
        3,
        REASON,
        CLOSES,
    )
    subjects = await uow.evaluations.subjects(evaluation.id)
    assert [s.person_id for s in subjects] == [SECRETARY.id, MEMBER.id, NOT_JOINED.id]
    taking_part = {(p["person_id"], p["kind"]) for p in uow.evaluations.participants}
    assert taking_part == {
        (SECRETARY.id, "member"),
        (MEMBER.id, "member"),
        (NOT_JOINED.id, "member"),
        (RESIDENT.id, "resident"),
    }
    e = evaluation.id
    # One introduction to each participant who has joined; 杨友林 gets his once he joins.
    assert keyed(uow, f"ev:{e}:intro:") == [
        f"ev:{e}:intro:{p.id}:0" for p in (SECRETARY, MEMBER, RESIDENT)
    ]
    # A ballot about each member but oneself: the secretary and 王建国 two, the resident three.
    sid = {s.person_id: s.id for s in subjects}
    assert keyed(uow, f"ev:{e}:poll:") == sorted(
        f"ev:{e}:poll:{sid[about.id]}:{voter.id}"
        for voter in (SECRETARY, MEMBER, RESIDENT)
        for about in (SECRETARY, MEMBER, NOT_JOINED)
        if about.id != voter.id
    )
    board = [r for r in uow.outbox.rows if r["chat_id"] == BRANCH.board_chat_id]
    assert [r["ref"] for r in board] == [f"ev:{e}:turnout"]
    assert (opened.plan.participants, opened.plan.reachable, opened.plan.subjects) == (4, 3, 3)


@pytest.mark.parametrize(
    ("who", "people", "refusal"),
    [
        (actor(MEMBER), EVERYONE, "auth.role_required"),  # a member opens nothing
        (actor(ELSEWHERE), EVERYONE, "ev.not_your_branch"),
        # Tapped as secretary, moved to plain member since: the roster decides, not the tap.
        (
            actor(SECRETARY),
            (SECRETARY.model_copy(update={"role": Role.MEMBER}), MEMBER, RESIDENT),
            "auth.role_required",
        ),
    ],
)
async def test_who_may_not_open_it_is_refused_and_nothing_is_written(
    who: Actor, people: tuple[Person, ...], refusal: str
) -> None:
    uow = FakeUow(people)
    with pytest.raises(Forbidden) as refused:
        await service(uow).open(who, BRANCH.id, SubjectKind.BRANCH, CLOSES, 3, REASON)
    assert refused.value.key == refusal
    assert uow.nothing_written()


async def test_someone_who_left_the_roster_is_not_registered() -> None:
    uow = FakeUow((MEMBER, RESIDENT))
    with pytest.raises(NotRegistered):
        await service(uow).open(actor(SECRETARY), BRANCH.id, SubjectKind.BRANCH, CLOSES, 3, REASON)
    assert uow.nothing_written()


async def test_a_quorum_below_the_rule_needs_a_reason_and_one_open_evaluation_at_a_time() -> None:
    uow = FakeUow()
    with pytest.raises(DomainError) as refused:
        await service(uow).open(actor(SECRETARY), BRANCH.id, SubjectKind.BRANCH, CLOSES, 3)
    assert (refused.value.key, refused.value.params) == ("ev.quorum.reason_needed", {"rule": 30})
    assert uow.nothing_written()

    box = service(uow)
    await box.open(actor(SECRETARY), BRANCH.id, SubjectKind.BRANCH, CLOSES, 3, REASON)
    written = len(uow.outbox.rows)
    with pytest.raises(DomainError) as refused:
        await box.open(actor(SECRETARY), BRANCH.id, SubjectKind.BRANCH, CLOSES, 3, REASON)
    assert refused.value.key == "ev.already_open"
    assert len(uow.evaluations.created) == 1 and len(uow.outbox.rows) == written
