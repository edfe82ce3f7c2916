"""Ranking figures in SQL: components, missing data, the score against its Python reference,
paging, award thresholds, and a district-sized ranking in a few statements."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert

from bot.domain.selection import year_span
from bot.domain.selection_models import (
    LeaderGrade,
    SubjectFigures,
    SubjectKind,
    Weights,
    compute_score,
)
from storage import schema as s
from storage.db import Database
from storage.selection_repo import Scope
from tests.accounts import actor_for, set_telegram
from tests.fulfilment_data import PublishedPledge, insert_published, set_progress

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
YEAR = year_span(2026, TZ)
W = Weights(fulfilment=0.4, on_time=0.2, grade=0.2, satisfaction=0.2)


async def _rows(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(insert(table), rows)


def _person(pid: int, org: int, role: str, name: str) -> dict[str, Any]:
    return {
        "id": pid,
        "name": name,
        "org_id": org,
        "role": role,
        "phone": f"1{pid:010d}",
        "cadre": False,
        "oral": False,
        "is_admin": False,
        "created_at": NOW,
        "updated_at": NOW,
    }


async def _small_world(db: Database) -> None:
    """A committee with two branches; members with every mix of figures."""
    await _rows(
        db,
        s.orgs,
        [
            {"id": 1, "code": "C", "name": "镇党委", "type": "committee", "parent_id": None},
            {"id": 2, "code": "C-A", "name": "甲村", "type": "rural", "parent_id": 1},
            {"id": 3, "code": "C-B", "name": "乙社区", "type": "community", "parent_id": 1},
        ],
    )
    await _rows(
        db,
        s.people,
        [
            _person(1, 1, "committee", "干事"),
            _person(10, 2, "secretary", "书记甲"),
            _person(11, 2, "member", "全优"),  # all four components
            _person(12, 2, "member", "无评议"),  # items and a grade, no evaluation
            _person(13, 2, "member", "只有点评"),  # a grade only
            _person(14, 2, "member", "什么都没有"),  # nothing: no score
            _person(15, 2, "resident", "群众"),  # never ranked
            _person(20, 3, "secretary", "书记乙"),
        ],
    )
    d = date(2026, 9, 30)
    pledges = [
        PublishedPledge(2, "A-11", 11, 11, [(f"a{k}", d) for k in range(4)]),
        PublishedPledge(2, "A-12", 12, 12, [(f"b{k}", d) for k in range(5)]),
        # an item due next year: an item, as in the ledger, but not due in 2026 (no rate)
        PublishedPledge(2, "A-12b", 12, 12, [("later", date(2027, 3, 1))]),
        PublishedPledge(2, "A-BR", None, 10, [("branch", d), ("branch2", d)]),
        PublishedPledge(3, "B-20", 20, 20, [("c", d)]),
    ]
    await insert_published(db, pledges, NOW)
    a11, a12, br = pledges[0].item_ids, pledges[1].item_ids, pledges[3].item_ids
    await set_progress(
        db,
        [
            # 全优: 4 items, 3 fulfilled, 2 on time
            {"item_id": a11[0], "status": "fulfilled", "done_on": d},
            {"item_id": a11[1], "status": "fulfilled", "done_on": d},
            {"item_id": a11[2], "status": "fulfilled", "done_on": d + timedelta(days=3)},
            {"item_id": a11[3], "status": "claimed"},
            # 无评议: 5 items, 5 fulfilled, 5 on time
            *({"item_id": i, "status": "fulfilled", "done_on": d} for i in a12),
            {"item_id": br[0], "status": "fulfilled", "done_on": d},
        ],
    )
    review = {
        "reviewer_id": 10,
        "subject_org_id": 2,
        "comment": "好",
        "published": True,
    }
    await _rows(
        db,
        s.leader_reviews,
        [
            # an older review is superseded by the newer one
            {
                **review,
                "subject_kind": "member",
                "subject_person_id": 11,
                "period": "2026-Q2",
                "grade": "poor",
                "created_at": NOW - timedelta(days=100),
            },
            {
                **review,
                "subject_kind": "member",
                "subject_person_id": 11,
                "period": "2026-Q3",
                "grade": "fairly_good",
                "created_at": NOW - timedelta(days=10),
            },
            {
                **review,
                "subject_kind": "member",
                "subject_person_id": 12,
                "period": "2026-Q3",
                "grade": "good",
                "created_at": NOW - timedelta(days=10),
            },
            {
                **review,
                "subject_kind": "member",
                "subject_person_id": 13,
                "period": "2026-Q3",
                "grade": "average",
                "created_at": NOW - timedelta(days=10),
            },
            # last year's review does not count
            {
                **review,
                "subject_kind": "member",
                "subject_person_id": 14,
                "period": "2025",
                "grade": "good",
                "created_at": datetime(2025, 12, 20, tzinfo=UTC),
            },
            {
                **review,
                "subject_kind": "branch",
                "subject_person_id": None,
                "period": "2026-Q3",
                "grade": "good",
                "created_at": NOW - timedelta(days=5),
                "reviewer_id": 1,
            },
        ],
    )
    evaluation = {
        "org_id": 2,
        "opened_by": 10,
        "quorum": 30,
        "pass_permille": 900,
        "closes_at": NOW,
        "created_at": NOW - timedelta(days=60),
    }
    await _rows(
        db,
        s.evaluations,
        [
            {
                **evaluation,
                "id": 1,
                "subject_kind": "members",
                "status": "closed",
                "closed_at": NOW - timedelta(days=50),
            },
            {
                **evaluation,
                "id": 2,
                "subject_kind": "members",
                "status": "closed",
                "closed_at": NOW - timedelta(days=20),
            },
            # still open: no result yet
            {
                **evaluation,
                "id": 3,
                "subject_kind": "members",
                "status": "open",
                "closed_at": None,
            },
            {
                **evaluation,
                "id": 4,
                "subject_kind": "branch",
                "status": "closed",
                "closed_at": NOW - timedelta(days=20),
            },
        ],
    )
    await _rows(
        db,
        s.evaluation_subjects,
        [
            {
                "evaluation_id": 1,
                "position": 1,
                "person_id": 11,
                "org_id": 2,
                "satisfied": 8,
                "basic": 0,
                "unsatisfied": 2,
                "rate_permille": 800,
            },
            {
                "evaluation_id": 2,
                "position": 1,
                "person_id": 11,
                "org_id": 2,
                "satisfied": 150,
                "basic": 41,
                "unsatisfied": 9,
                "rate_permille": 955,
            },
            # four votes: the result stays secret, so no satisfaction for 只有点评
            {
                "evaluation_id": 2,
                "position": 2,
                "person_id": 13,
                "org_id": 2,
                "satisfied": 4,
                "basic": 0,
                "unsatisfied": 0,
                "rate_permille": 1000,
            },
            {
                "evaluation_id": 3,
                "position": 1,
                "person_id": 12,
                "org_id": 2,
                "satisfied": None,
                "basic": None,
                "unsatisfied": None,
                "rate_permille": None,
            },
            {
                "evaluation_id": 4,
                "position": 1,
                "person_id": None,
                "org_id": 2,
                "satisfied": 40,
                "basic": 6,
                "unsatisfied": 4,
                "rate_permille": 920,
            },
        ],
    )


def _reference(f: SubjectFigures) -> float | None:
    return compute_score(
        W,
        fulfilment=f.fulfilment,
        on_time=f.on_time_rate,
        grade=f.grade,
        satisfaction=f.satisfaction,
    )


async def test_member_figures_and_score_match_the_reference(db: Database) -> None:
    await _small_world(db)
    async with db.uow() as uow:
        total, rows = await uow.selection.ranking(Scope(SubjectKind.MEMBER, 2), YEAR, W)
    assert total == 5  # secretary and four members; the resident is not ranked
    by = {r.name: r for r in rows}
    full = by["全优"]
    assert (full.items, full.fulfilled, full.on_time) == (4, 3, 2)
    assert full.grade is LeaderGrade.FAIRLY_GOOD and full.grade_period == "2026-Q3"
    assert full.satisfaction_permille == 955
    # 0.4·75 + 0.2·50 + 0.2·85 + 0.2·95.5 = 76.1
    assert full.score == pytest.approx(76.1)
    no_eval = by["无评议"]
    assert (no_eval.items, no_eval.due) == (6, 5) and no_eval.satisfaction_permille is None
    # satisfaction's weight is shared: (0.4·100 + 0.2·100 + 0.2·100) / 0.8 = 100
    assert no_eval.score == pytest.approx(100.0)
    grade_only = by["只有点评"]
    assert grade_only.items == 0 and grade_only.score == pytest.approx(70.0)
    assert grade_only.satisfaction_permille is None  # 4 votes: hidden, never shown
    nothing = by["什么都没有"]
    assert nothing.grade is None and nothing.score is None and nothing.position is None
    for row in rows:
        expected = _reference(row)
        assert (row.score is None) == (expected is None)
        if expected is not None:
            assert row.score == pytest.approx(expected)
    assert [r.name for r in rows] == ["无评议", "全优", "只有点评", "书记甲", "什么都没有"]
    assert [r.position for r in rows[:3]] == [1, 2, 3]


async def test_branch_figures_paging_and_award_bar(db: Database) -> None:
    await _small_world(db)
    async with db.uow() as uow:
        total, rows = await uow.selection.ranking(Scope(SubjectKind.BRANCH, 1), YEAR, W)
        assert total == 2
        a = rows[0]
        assert a.name == "甲村" and (a.items, a.due, a.fulfilled) == (12, 11, 9)  # all items
        assert a.grade is LeaderGrade.GOOD and a.satisfaction_permille == 920
        assert a.score == pytest.approx(_reference(a))
        _, page2 = await uow.selection.ranking(
            Scope(SubjectKind.BRANCH, 1), YEAR, W, limit=1, offset=1
        )
        assert [r.name for r in page2] == ["乙社区"] and page2[0].score == pytest.approx(0.0)
        # award bar: members of every branch below the committee, fulfilment ≥ 95 and
        # satisfaction (where measured) ≥ 95
        _, stars = await uow.selection.ranking(
            Scope(SubjectKind.MEMBER, 1, below=True), YEAR, W, min_fulfilment=95.0
        )
        assert [r.name for r in stars] == ["无评议"]
        card = await uow.selection.subject(SubjectKind.MEMBER, 11, YEAR, W)
        assert card is not None and card.score == pytest.approx(76.1) and card.position is None
        assert await uow.selection.subject(SubjectKind.MEMBER, 15, YEAR, W) is None
        assert await uow.selection.in_scope(1, 3) and not await uow.selection.in_scope(2, 3)


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", before)


async def test_district_ranking_is_a_few_aggregate_statements(tmp_path: Any) -> None:
    """1,376 branches, 37,199 members, 45,936 items (bench/district.py): the committee's
    branch ranking and a district-wide member ranking each take one statement."""
    from bench.district import build_district

    url = f"sqlite+aiosqlite:///{tmp_path / 'district.db'}"
    counts = await build_district(url, date(2026, 9, 15))
    assert counts["orgs"] == 1 + 25 + 1376
    db = Database(url)
    try:
        async with db.uow() as uow:
            with counting(db) as statements:
                started = time.perf_counter()
                total, page = await uow.selection.ranking(
                    Scope(SubjectKind.BRANCH, 1), YEAR, W, limit=20
                )
                branch_seconds = time.perf_counter() - started
            assert total == 1376 and len(page) == 20
            # One statement is the guard against N+1; its time is bench/bench_ranking.py's
            # target (a timed assertion here failed on a loaded machine).
            assert len(statements) == 1, statements
            scores = [r.score for r in page]
            assert all(x is not None for x in scores)
            assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
            with counting(db) as statements:
                started = time.perf_counter()
                total, top = await uow.selection.ranking(
                    Scope(SubjectKind.MEMBER, 1, below=True),
                    YEAR,
                    W,
                    limit=10,
                    min_fulfilment=95.0,
                )
                member_seconds = time.perf_counter() - started
            assert len(statements) == 1 and len(top) == 10
            print(f"district: branches {branch_seconds:.3f} s, members {member_seconds:.3f} s")
    finally:
        await db.dispose()


async def test_publication_reminders_skip_who_published_and_come_once(db: Database) -> None:
    from sqlalchemy import select

    from bot.domain.campaign_calendar import load_calendar
    from bot.domain.clock import FakeClock
    from bot.domain.reminders import ReminderService

    await _small_world(db)
    async with db.engine.begin() as conn:
        for pid in (1, 10, 20):  # the clerk and both secretaries have joined the bot
            await set_telegram(conn, pid, 5000 + pid)
    async with db.uow() as uow:  # 甲村 published October already
        await uow.selection.publish("members", 2, "2026-10", [], NOW)
    clock = FakeClock(datetime(2026, 11, 1, 9, 0, tzinfo=TZ))
    service = ReminderService(db, clock, load_calendar())
    first = await service.tick()
    assert first.queued["ranking"] == 2  # 乙社区's secretary and the clerk
    async with db.engine.connect() as conn:
        texts = {
            chat: row["text"]
            for chat, row in await conn.execute(select(s.outbox.c.chat_id, s.outbox.c.payload))
            if "排名" in row["text"]
        }
    assert set(texts) == {5020, 5001}
    assert "2026年10月 的党员月度排名" in texts[5020]
    assert "2026年9–10月 的支部双月排名" in texts[5001]
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=TZ))
    assert (await service.tick()).queued["ranking"] == 0
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=TZ))  # even month: secretaries only
    assert (await service.tick()).queued["ranking"] == 2  # both secretaries, for November


async def test_publishing_and_proposing_read_their_figures_holding_no_writer(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A committee's ranking (a district's 1,376 branches) is read while everyone else may
    write: the figures are read in a read-only unit of work; the snapshot, its messages and
    the proposals commit after, in a short one."""
    from bot.domain.clock import FakeClock
    from bot.domain.selection import SelectionService, period_for
    from config.settings import Settings
    from storage.selection_repo import SelectionRepo

    await _small_world(db)
    async with db.engine.begin() as conn:
        await set_telegram(conn, 1, 5001)
    held: list[bool] = []
    ranking = SelectionRepo.ranking

    async def watched(self: SelectionRepo, *args: Any, **kwargs: Any) -> Any:
        held.append(db._lock is not None and db._lock.locked())
        return await ranking(self, *args, **kwargs)

    monkeypatch.setattr(SelectionRepo, "ranking", watched)
    clock = FakeClock(datetime(2026, 11, 20, 10, 0, tzinfo=TZ))
    service = SelectionService(db, clock, Settings(_env_file=None))
    period = period_for(SubjectKind.BRANCH, clock.now().date())
    published = await service.publish(await actor_for(db, 5001), SubjectKind.BRANCH, period)
    assert published.total == 2
    proposed, view = await service.propose(await actor_for(db, 5001), 2026)
    assert proposed == len(view.awards)
    assert held and not any(held), held
