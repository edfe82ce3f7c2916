"""Every role × every evaluation action, in one table, on a real database.

Roles come from the demo roster (黄思村党总支, XH-HS, is the branch under test); actions are
the services' own entry points: open, vote (own poll and someone else's), close early, leader
review (a member, the branch), accept a rectification plan (a member's, the branch's) and
confirm an award. A refusal raises a DomainError whose key is in the zh_CN catalog and writes
nothing; a vote that does not count is kept out of the ballots and its voter is told why."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import CursorResult, Table, insert, select

from bot.chat.intents import Sent
from bot.domain.clock import FakeClock
from bot.domain.errors import DomainError
from bot.domain.evaluation import Answer, EvaluationService, Verdict, remember_poll
from bot.domain.evaluation_models import EvalStatus
from bot.domain.evaluation_models import SubjectKind as EvalKind
from bot.domain.leader_review import LeaderReviewService, ReviewDraft, subject_key
from bot.domain.leader_review import SubjectKind as ReviewKind
from bot.domain.rectification import RectificationService, on_evaluation_closed
from bot.domain.rectification_models import RectificationStatus
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.domain.selection import SelectionService
from bot.i18n import CATALOGS
from config.settings import Settings
from storage import schema as s
from storage.db import Database
from tests.accounts import actor_for

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
TZ = ZoneInfo("Asia/Shanghai")
REASON = "a small test branch"  # a quorum under the rule's needs one
NOW = datetime(2026, 9, 25, 10, 0, tzinfo=TZ)
KEY = b"matrix-ballot-key"
ZH = CATALOGS["zh_CN"]

UNLINKED_LEADER = "周明远"  # not in the demo: a liaison leader linked to XH-JX only
TG = {
    "王建国": 8001,  # member of XH-HS
    "沈宝方": 8002,  # secretary of XH-HS
    "吴静": 8003,  # secretary of XH-DY
    "刘晓燕": 8004,  # committee clerk, 新华镇党委 (above XH-HS)
    "陈国平": 8005,  # liaison leader linked to XH-HS and XH-DY
    UNLINKED_LEADER: 8006,
    "张桂英": 8007,  # resident of XH-HS, phone confirmed
    "杨友林": 8010,  # another member of XH-HS: the subject of member actions
}
STRANGER_TG = 8999  # an account bound to nobody
ROLES = {
    "member": TG["王建国"],
    "own_secretary": TG["沈宝方"],
    "other_secretary": TG["吴静"],
    "committee": TG["刘晓燕"],
    "linked_leader": TG["陈国平"],
    "unlinked_leader": TG[UNLINKED_LEADER],
    "resident": TG["张桂英"],
    "stranger": STRANGER_TG,
}
TABLES: tuple[Table, ...] = (
    s.evaluations,
    s.evaluation_subjects,
    s.evaluation_participants,
    s.evaluation_polls,
    s.ballots,
    s.leader_reviews,
    s.rectifications,
    s.awards,
    s.item_progress,
    s.outbox,
)
OK = "ok"
ROLE_REQUIRED = "auth.role_required"
NOT_REGISTERED = "auth.not_registered"

# action → role → the outcome: OK, a refusal's catalog key, or (vote) the verdict
MATRIX: dict[str, dict[str, str]] = {
    "open": {
        "member": ROLE_REQUIRED,
        "own_secretary": OK,
        "other_secretary": "ev.not_your_branch",
        "committee": OK,
        "linked_leader": ROLE_REQUIRED,
        "unlinked_leader": ROLE_REQUIRED,
        "resident": ROLE_REQUIRED,
        "stranger": NOT_REGISTERED,
    },
    # each answers the poll addressed to them (or, without one, 杨友林's)
    "vote": {
        "member": Verdict.COUNTED,
        "own_secretary": Verdict.COUNTED,
        "other_secretary": Verdict.NOT_LISTED,
        "committee": Verdict.NOT_LISTED,
        "linked_leader": Verdict.NOT_LISTED,
        "unlinked_leader": Verdict.NOT_LISTED,
        "resident": Verdict.COUNTED,
        "stranger": Verdict.NOT_LISTED,
    },
    # each answers 杨友林's poll (forwarded to them)
    "vote_on_anothers_poll": {
        "member": Verdict.NOT_YOURS,
        "own_secretary": Verdict.NOT_YOURS,
        "other_secretary": Verdict.NOT_LISTED,
        "committee": Verdict.NOT_LISTED,
        "linked_leader": Verdict.NOT_LISTED,
        "unlinked_leader": Verdict.NOT_LISTED,
        "resident": Verdict.NOT_YOURS,
        "stranger": Verdict.NOT_LISTED,
    },
    "close_early": {
        "member": ROLE_REQUIRED,
        "own_secretary": OK,
        "other_secretary": "ev.not_your_branch",
        "committee": OK,
        "linked_leader": ROLE_REQUIRED,
        "unlinked_leader": ROLE_REQUIRED,
        "resident": ROLE_REQUIRED,
        "stranger": NOT_REGISTERED,
    },
    "review_member": {
        "member": "lr.role",
        "own_secretary": OK,
        "other_secretary": "lr.out_of_scope",
        "committee": OK,
        "linked_leader": OK,
        "unlinked_leader": "lr.out_of_scope",
        "resident": "lr.role",
        "stranger": NOT_REGISTERED,
    },
    "review_branch": {
        "member": "lr.role",
        "own_secretary": "lr.branch_by_secretary",
        "other_secretary": "lr.branch_by_secretary",
        "committee": OK,
        "linked_leader": OK,
        "unlinked_leader": "lr.out_of_scope",
        "resident": "lr.role",
        "stranger": NOT_REGISTERED,
    },
    "accept_member_plan": {
        "member": "rectify.not_acceptor",
        "own_secretary": OK,
        "other_secretary": "rectify.not_acceptor",
        "committee": OK,
        "linked_leader": "rectify.not_acceptor",
        "unlinked_leader": "rectify.not_acceptor",
        "resident": "rectify.not_acceptor",
        "stranger": NOT_REGISTERED,
    },
    "accept_branch_plan": {
        "member": "rectify.not_acceptor",
        "own_secretary": "rectify.not_acceptor",
        "other_secretary": "rectify.not_acceptor",
        "committee": OK,
        "linked_leader": "rectify.not_acceptor",
        "unlinked_leader": "rectify.not_acceptor",
        "resident": "rectify.not_acceptor",
        "stranger": NOT_REGISTERED,
    },
    "confirm_award": {
        "member": "selection.awards.not_allowed",
        "own_secretary": "selection.awards.not_allowed",
        "other_secretary": "selection.awards.not_allowed",
        "committee": OK,
        "linked_leader": "selection.awards.not_allowed",
        "unlinked_leader": "selection.awards.not_allowed",
        "resident": "selection.awards.not_allowed",
        "stranger": NOT_REGISTERED,
    },
}
CELLS = [
    (action, role, outcome) for action, row in MATRIX.items() for role, outcome in row.items()
]


@dataclass
class World:
    db: Database
    clock: FakeClock
    ids: dict[str, int]


async def _build_template(path: Path) -> dict[str, int]:
    """Migrate, import the demo district, bind the roles, add a liaison leader not linked to
    XH-HS; the ids by name and by org code."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.migrate()
        await import_roster(
            db, FakeClock(NOW), load_roster(DEMO / "orgs.csv", DEMO / "people.csv")
        )
        ids: dict[str, int] = {}
        async with db.uow() as uow:
            committee = await uow.orgs.by_code("XH")
            assert committee is not None
            await uow.people.insert_many(
                [
                    {
                        "name": UNLINKED_LEADER,
                        "org_id": committee.id,
                        "role": "leader",
                        "phone": "13800000009",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                ]
            )
            for org in await uow.orgs.all():
                ids[org.code] = org.id
                for person in await uow.people.in_org(org.id):
                    ids[person.name] = person.id
                    if person.name in TG:
                        await uow.people.bind(person.id, TG[person.name], "zh_CN")
            await uow.people.set_phone_confirmed(ids["张桂英"], True)
            await uow.leader_reviews.conn.execute(
                insert(s.leader_links).values(person_id=ids[UNLINKED_LEADER], org_id=ids["XH-JX"])
            )
        return ids
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """One migrated, seeded SQLite file for the module: migrating takes ~0.3 s, so each of the
    ~70 cells copies this file instead of migrating its own (same migrations, same rows)."""
    path = tmp_path_factory.mktemp("matrix") / "template.db"
    ids = asyncio.run(_build_template(path))
    return path, ids


@pytest.fixture
def store(tmp_path: Path, template: tuple[Path, dict[str, int]]) -> Path:
    """A fresh copy of the seeded database per cell: a success in one cannot change another."""
    source, _ = template
    target = tmp_path / "store.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


@pytest.fixture
async def world(store: Path, template: tuple[Path, dict[str, int]]) -> AsyncIterator[World]:
    db = Database(f"sqlite+aiosqlite:///{store}")
    try:
        yield World(db, FakeClock(NOW), dict(template[1]))
    finally:
        await db.dispose()


async def snapshot(db: Database, tables: tuple[Table, ...] = TABLES) -> dict[str, list[Any]]:
    """Every row of the tables an action could write."""
    async with db.engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in await conn.execute(select(table))), key=repr)
            for table in tables
        }


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


# ---- the data each action needs, made before the "before" snapshot --------------------------


async def open_evaluation(w: World) -> tuple[EvaluationService, int, dict[int, str]]:
    """The secretary's evaluation of XH-HS (quorum 5), its polls recorded as sent."""
    service = EvaluationService(w.db, w.clock, KEY)
    opened = await service.open(
        await actor_for(w.db, TG["沈宝方"]),
        w.ids["XH-HS"],
        EvalKind.BRANCH,
        NOW + timedelta(days=2),
        5,
        REASON,
    )
    polls: dict[int, str] = {}
    async with w.db.uow() as uow:
        for row in await uow.outbox.due(datetime(2100, 1, 1, tzinfo=TZ), 1000):
            if row.kind == "ballot" and row.payload["evaluation_id"] == opened.evaluation_id:
                poll_id = f"poll-{row.id}"
                sent = Sent(message_id=row.id, ballot_id=poll_id)
                await remember_poll(uow, row.chat_id, row.payload, sent)
                polls[row.chat_id] = poll_id
    return service, opened.evaluation_id, polls


async def submitted_plan(w: World, person: str | None) -> tuple[RectificationService, int, int]:
    """A rectification of 杨友林 (or the branch) after a failed evaluation, its plan filed."""
    async with w.db.uow() as uow:
        conn = uow.rectifications.conn
        result = await conn.execute(
            insert(s.evaluations).values(
                org_id=w.ids["XH-HS"],
                subject_kind="branch" if person is None else "members",
                opened_by=w.ids["沈宝方"],
                status="closed",
                quorum=5,
                pass_permille=900,
                closes_at=NOW,
                created_at=NOW - timedelta(days=3),
                closed_at=NOW,
            )
        )
        evaluation_id = _new_id(result)
        await conn.execute(
            insert(s.evaluation_subjects).values(
                evaluation_id=evaluation_id,
                position=1,
                person_id=w.ids[person] if person else None,
                org_id=w.ids["XH-HS"],
                rate_permille=800,
                passed=False,
            )
        )
        await on_evaluation_closed(uow, w.clock, evaluation_id)
        [rect] = await uow.rectifications.in_progress(list(RectificationStatus))
    service = RectificationService(w.db, w.clock)
    filer = TG[person] if person else TG["沈宝方"]
    decided = await service.submit_plan(
        await actor_for(w.db, filer), rect.id, "提升满意度", "每周走访", date(2026, 10, 31)
    )
    assert decided.rect.status is RectificationStatus.SUBMITTED
    return service, decided.rect.id, decided.rect.version


async def proposed_award(w: World) -> int:
    """An excellent-member proposal for 杨友林 awaiting the committee's decision."""
    async with w.db.uow() as uow:
        result = await uow.selection.conn.execute(
            insert(s.awards).values(
                kind="excellent_member",
                year=2026,
                scope_org_id=w.ids["XH"],
                person_id=w.ids["杨友林"],
                org_id=w.ids["XH-HS"],
                status="proposed",
                figures={"id": w.ids["杨友林"], "name": "杨友林", "fulfilment": 100.0},
                proposed_at=NOW,
                version=1,
            )
        )
        return _new_id(result)


# ---- each action: prepare, then the act itself, and what must hold after success -----------

Act = Callable[[int], Awaitable[Any]]
Check = Callable[[], Awaitable[None]]


async def prepare(w: World, action: str) -> tuple[Act, Check]:
    if action == "open":
        service = EvaluationService(w.db, w.clock, KEY)

        async def do_open(tg: int) -> Any:
            return await service.open(
                await actor_for(w.db, tg),
                w.ids["XH-HS"],
                EvalKind.BRANCH,
                NOW + timedelta(days=2),
                5,
                REASON,
            )

        async def opened() -> None:
            async with w.db.uow() as uow:
                [evaluation] = await uow.evaluations.for_orgs([w.ids["XH-HS"]])
                assert evaluation.status is EvalStatus.OPEN
                assert len(await uow.evaluations.participants(evaluation.id)) == 9

        return do_open, opened

    if action == "close_early":
        ev_service, evaluation_id, _ = await open_evaluation(w)

        async def do_close(tg: int) -> Any:
            return await ev_service.close_early(await actor_for(w.db, tg), evaluation_id)

        async def closed() -> None:
            async with w.db.uow() as uow:
                evaluation = await uow.evaluations.get(evaluation_id)
            assert evaluation is not None and evaluation.status is not EvalStatus.OPEN

        return do_close, closed

    if action in ("review_member", "review_branch"):
        lr_service = LeaderReviewService(w.db, w.clock)
        subject = (
            subject_key(ReviewKind.MEMBER, w.ids["杨友林"])
            if action == "review_member"
            else subject_key(ReviewKind.BRANCH, w.ids["XH-HS"])
        )
        draft = ReviewDraft(subject, "2026-Q3", "good", "认真履诺")

        async def do_review(tg: int) -> Any:
            return await lr_service.submit(await actor_for(w.db, tg), draft)

        async def reviewed() -> None:
            rows = (await snapshot(w.db, (s.leader_reviews,)))["leader_reviews"]
            assert len(rows) == 1

        return do_review, reviewed

    if action in ("accept_member_plan", "accept_branch_plan"):
        plan_of = "杨友林" if action == "accept_member_plan" else None
        rc_service, rect_id, version = await submitted_plan(w, plan_of)

        async def do_accept(tg: int) -> Any:
            return await rc_service.accept(await actor_for(w.db, tg), rect_id, version)

        async def accepted() -> None:
            async with w.db.uow() as uow:
                rect = await uow.rectifications.get(rect_id)
            assert rect is not None and rect.status is RectificationStatus.ACCEPTED

        return do_accept, accepted

    assert action == "confirm_award"
    award_id = await proposed_award(w)
    settings = Settings(_env_file=None)
    sel_service = SelectionService(w.db, w.clock, settings)

    async def do_confirm(tg: int) -> Any:
        return await sel_service.decide(await actor_for(w.db, tg), award_id, 1, True, 0)

    async def confirmed() -> None:
        async with w.db.uow() as uow:
            award = await uow.selection.award(award_id)
        assert award is not None and award.status.value == "confirmed"

    return do_confirm, confirmed


def test_the_matrix_is_complete_and_its_keys_are_in_the_catalog() -> None:
    for action, row in MATRIX.items():
        assert set(row) == set(ROLES), action
        for outcome in row.values():
            if action.startswith("vote"):
                if outcome != Verdict.COUNTED:
                    assert f"ev.vote.{outcome}" in ZH, outcome
            elif outcome != OK:
                assert outcome in ZH, outcome


@pytest.mark.parametrize(("action", "role", "outcome"), CELLS)
async def test_each_role_each_action(world: World, action: str, role: str, outcome: str) -> None:
    tg = ROLES[role]
    if action.startswith("vote"):
        await _vote_cell(world, action, tg, outcome)
        return
    act, succeeded = await prepare(world, action)
    before = await snapshot(world.db)
    if outcome == OK:
        await act(tg)
        await succeeded()
        return
    with pytest.raises(DomainError) as refused:
        await act(tg)
    assert refused.value.key == outcome
    assert refused.value.key in ZH
    assert await snapshot(world.db) == before  # nothing written, not even a notice


async def _vote_cell(w: World, action: str, tg: int, outcome: str) -> None:
    service, _, polls = await open_evaluation(w)
    assert set(polls) == {TG[n] for n in ("王建国", "沈宝方", "杨友林", "张桂英")}
    poll = polls[TG["杨友林"]]
    if action == "vote" and tg in polls:
        poll = polls[tg]
    kept = (s.ballots, s.evaluation_participants, s.evaluations, s.evaluation_subjects)
    before = await snapshot(w.db, kept)
    outbox_before = len((await snapshot(w.db, (s.outbox,)))["outbox"])
    verdict = await service.vote(Answer(1, tg, poll, (0,)))
    assert verdict == outcome
    after = await snapshot(w.db, kept)
    if outcome == Verdict.COUNTED:
        assert len(after["ballots"]) == len(before["ballots"]) + 1
        voted = [row for row in after["evaluation_participants"] if row[3]]
        assert len(voted) == 1
        return
    assert after == before  # counts for nothing: no ballot, nobody marked as having voted
    async with w.db.engine.connect() as conn:
        rows = list(await conn.execute(select(s.outbox.c.chat_id).order_by(s.outbox.c.id)))
    told = [row.chat_id for row in rows[outbox_before:]]
    assert told and set(told) == {tg}  # the person, and only they, is told why
