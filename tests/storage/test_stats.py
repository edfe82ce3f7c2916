"""/stats figures on a real SQLite file: exact counts from SQL aggregates, who sees what, the
empty case, and a committee of 300 branches read and drawn within the time limit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from bot.chat.actor import Actor
from bot.domain.clock import FakeClock
from bot.domain.enums import Role
from bot.domain.errors import DomainError
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from bot.domain.stats import (
    Audience,
    OrgChoice,
    StatsFigures,
    StatsService,
    choice_buttons,
    last_months,
    render,
)
from storage import schema as s
from storage.db import Database
from tests.accounts import actor_for
from tests.buttons import fit_telegram
from tests.fulfilment_data import PublishedPledge, insert_published, set_progress

DEMO = Path(__file__).resolve().parents[2] / "bot" / "playground" / "demo"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 5, 9, 30, tzinfo=SHANGHAI)
TODAY = NOW.date()
PAST = TODAY - timedelta(days=3)
FUTURE = TODAY + timedelta(days=30)

WANG, SHEN, LIU, ZHANG, CAO, WU = 101, 103, 104, 106, 107, 108
ACCOUNTS = {
    "王建国": WANG,  # member, 黄思村
    "沈宝方": SHEN,  # secretary, 黄思村
    "刘晓燕": LIU,  # committee, 新华镇党委
    "张桂英": ZHANG,  # resident, 黄思村
    "曹建军": CAO,  # secretary, 新华镇机关 (no data)
    "吴静": WU,  # secretary, 东园社区
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def people(db: Database, clock: FakeClock) -> dict[str, int]:
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    ids: dict[str, int] = {}
    async with db.uow() as uow:
        for org in await uow.orgs.all():
            for person in await uow.people.in_org(org.id):
                ids[person.name] = person.id
                if person.name in ACCOUNTS:
                    await uow.people.bind(person.id, ACCOUNTS[person.name], "zh_CN")
    return ids


async def org_id(db: Database, code: str) -> int:
    async with db.uow() as uow:
        org = await uow.orgs.by_code(code)
    assert org is not None
    return org.id


async def _insert(db: Database, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    async with db.engine.begin() as conn:
        ids = []
        for row in rows:  # few rows; ids are needed for the subjects
            result = await conn.execute(insert(table).values(**row))
            assert result.inserted_primary_key is not None
            ids.append(int(result.inserted_primary_key[0]))
        return ids


async def seed(db: Database, people: dict[str, int]) -> None:
    """黄思村: 王建国 4 items (fulfilled, claimed, overdue, in progress), the branch 2
    (fulfilled, in progress), a draft item that must not count; 东园社区: 2 fulfilled."""
    hs, dy = await org_id(db, "XH-HS"), await org_id(db, "XH-DY")
    wang, shen, sun = people["王建国"], people["沈宝方"], people["孙立新"]
    member = PublishedPledge(
        hs, "HS-1", wang, wang, [("a", PAST), ("b", FUTURE), ("c", PAST), ("d", FUTURE)]
    )
    branch = PublishedPledge(hs, "HS-2", None, shen, [("e", PAST), ("f", FUTURE)])
    other = PublishedPledge(dy, "DY-1", sun, sun, [("g", PAST), ("h", FUTURE)])
    await insert_published(db, [member, branch, other], NOW)
    await set_progress(
        db,
        [
            {"item_id": member.item_ids[0], "status": "fulfilled", "done_on": PAST},
            {"item_id": member.item_ids[1], "status": "claimed"},
            {"item_id": member.item_ids[2], "status": "open"},
            {"item_id": branch.item_ids[0], "status": "fulfilled", "done_on": PAST},
            {"item_id": other.item_ids[0], "status": "fulfilled", "done_on": PAST},
            {"item_id": other.item_ids[1], "status": "fulfilled", "done_on": TODAY},
        ],
    )
    # A draft (no number) with an item: never counted.
    draft = await _insert(
        db,
        s.pledges,
        [
            {
                "number": None,
                "pledger_kind": "member",
                "person_id": people["杨友林"],
                "org_id": hs,
                "drafter_id": people["杨友林"],
                "status": "draft",
                "created_at": NOW,
                "updated_at": NOW,
            }
        ],
    )
    await _insert(
        db,
        s.pledge_items,
        [
            {
                "pledge_id": draft[0],
                "position": 1,
                "category": "serve",
                "content": "草稿",
                "target": "t",
                "deadline": PAST,
                "responsible": "本人",
            }
        ],
    )
    entry = {
        "item_id": member.item_ids[0],
        "text": "做了",
        "evidence": [],
        "created_at": NOW,
    }
    async with db.engine.begin() as conn:
        pledge_id = (
            await conn.execute(select(s.pledges.c.id).where(s.pledges.c.number == "HS-1"))
        ).scalar_one()
        months = ["2026-06"] * 3 + ["2026-01"] + ["2025-06"] * 2  # 2025-06: over a year ago
        rows = [
            {**entry, "pledge_id": pledge_id, "org_id": hs, "author_id": wang, "month": m}
            for m in months
        ]
        rows += [
            {**entry, "pledge_id": pledge_id, "org_id": dy, "author_id": sun, "month": "2026-05"}
        ] * 2
        await conn.execute(insert(s.progress_entries), rows)

    def evaluation(org: int, kind: str, status: str, days_ago: int) -> dict[str, Any]:
        at = NOW - timedelta(days=days_ago)
        return {
            "org_id": org,
            "subject_kind": kind,
            "opened_by": shen,
            "status": status,
            "quorum": 30,
            "pass_permille": 900,
            "closes_at": at,
            "created_at": at - timedelta(days=7),
            "closed_at": at if status == "closed" else None,
        }

    evs = await _insert(
        db,
        s.evaluations,
        [
            evaluation(hs, "branch", "closed", 60),
            evaluation(hs, "members", "closed", 10),
            evaluation(hs, "branch", "open", 0),
            evaluation(hs, "branch", "void", 5),
            evaluation(dy, "branch", "closed", 20),
        ],
    )

    def subject(ev: int, pos: int, org: int, counts: tuple[int, int, int]) -> dict[str, Any]:
        sat, basic, uns = counts
        return {
            "evaluation_id": ev,
            "position": pos,
            "org_id": org,
            "satisfied": sat,
            "basic": basic,
            "unsatisfied": uns,
        }

    await _insert(
        db,
        s.evaluation_subjects,
        [
            subject(evs[0], 1, hs, (30, 4, 1)),
            subject(evs[1], 1, hs, (20, 5, 5)),
            subject(evs[1], 2, hs, (2, 1, 0)),  # 3 votes: secret, left out
            {"evaluation_id": evs[2], "position": 1, "org_id": hs},
            subject(evs[4], 1, dy, (3, 1, 0)),  # 4 votes: secret
        ],
    )


def test_last_months_cross_the_year() -> None:
    months = last_months(date(2026, 3, 31))
    assert months[0] == (2025, 4) and months[-1] == (2026, 3) and len(months) == 12
    assert (2025, 12) in months and (2026, 1) in months


async def test_secretary_gets_exact_branch_figures(
    db: Database, clock: FakeClock, people: dict[str, int]
) -> None:
    await seed(db, people)
    f = await StatsService(db, clock).figures(await actor_for(db, SHEN))
    assert isinstance(f, StatsFigures)
    assert f.audience is Audience.BRANCH and f.org.name == "黄思村党总支"
    st = f.status
    assert (st.fulfilled, st.claimed, st.overdue, st.in_progress) == (2, 1, 1, 2)
    assert st.total == 6
    by_name = {r.name: (r.fulfilled, r.total) for r in f.fulfilment}
    assert by_name == {"王建国": (1, 4), "黄思村党总支": (1, 2)}
    months = {(y, m): c for y, m, c in f.months}
    assert len(f.months) == 12 and f.months[-1] == (2026, 6, 3)
    assert months[(2026, 1)] == 1 and months[(2026, 5)] == 0 and (2025, 6) not in months
    assert sum(months.values()) == 4
    # Closed evaluations only, oldest first; the 3-vote subject is left out of the sums.
    assert [(e.subject_kind, e.good, e.votes) for e in f.evaluations] == [
        ("branch", 34, 35),
        ("members", 25, 30),
    ]
    assert f.evaluations_total == 2


async def test_committee_gets_every_branch_below(
    db: Database, clock: FakeClock, people: dict[str, int]
) -> None:
    await seed(db, people)
    f = await StatsService(db, clock).figures(await actor_for(db, LIU))
    assert isinstance(f, StatsFigures)
    assert f.audience is Audience.DISTRICT
    st = f.status
    assert (st.fulfilled, st.claimed, st.overdue, st.in_progress) == (4, 1, 1, 2)
    by_name = {r.name: (r.fulfilled, r.total) for r in f.fulfilment}
    assert by_name == {
        "黄思村党总支": (2, 6),
        "东园社区党支部": (2, 2),
        "新华精密机械有限公司党支部": (0, 0),
        "新华镇机关党支部": (0, 0),
    }
    assert sum(c for _, _, c in f.months) == 6
    assert [(e.org_name, e.good, e.votes) for e in f.evaluations] == [
        ("黄思村党总支", 34, 35),
        ("东园社区党支部", 0, 0),  # listed, but its 4 votes stay secret
        ("黄思村党总支", 25, 30),
    ]


@pytest.mark.parametrize("account", [WANG, ZHANG])
async def test_members_and_residents_get_public_aggregates_only(
    db: Database, clock: FakeClock, people: dict[str, int], account: int
) -> None:
    await seed(db, people)
    f = await StatsService(db, clock).figures(await actor_for(db, account))
    assert isinstance(f, StatsFigures)
    assert f.audience is Audience.PUBLIC
    assert f.fulfilment == []  # nobody's personal fulfilment
    assert f.status.total == 6
    kinds = [c.kind for c in render("zh_CN", f, 90.0)]
    assert kinds == ["status", "monthly", "evaluations"]


async def test_branch_without_data_is_told_so(
    db: Database, clock: FakeClock, people: dict[str, int]
) -> None:
    await seed(db, people)
    with pytest.raises(DomainError) as err:
        await StatsService(db, clock).figures(await actor_for(db, CAO))
    assert err.value.key == "stats.empty"
    assert "新华镇机关党支部" in err.value.render("zh_CN")
    with pytest.raises(DomainError) as unknown:
        # someone who has left the roster since they sent /stats
        await StatsService(db, clock).figures(Actor(999, "已调离", 1, Role.MEMBER, "zh_CN"))
    assert unknown.value.key == "auth.not_registered"


async def test_branch_with_items_but_no_evaluation(
    db: Database, clock: FakeClock, people: dict[str, int]
) -> None:
    await seed(db, people)
    f = await StatsService(db, clock).figures(await actor_for(db, WU))
    assert isinstance(f, StatsFigures)
    assert f.evaluations and f.evaluations[0].votes == 0
    charts = render("zh_CN", f, 90.0)
    assert [c.kind for c in charts] == ["status", "fulfilment", "monthly", "evaluations"]
    status = charts[0].caption
    assert "承诺事项共 2 项，已兑现 2 项（兑现率 100.0%）" in status
    assert all(len(c.caption) <= 1024 for c in charts)


async def test_committee_of_300_branches_is_read_and_drawn_whole(
    db: Database, clock: FakeClock, people: dict[str, int]
) -> None:
    root = await org_id(db, "XH")
    clerk = people["刘晓燕"]
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.orgs),
            [
                {"code": f"B{n:03d}", "name": f"第{n}村党支部", "type": "rural", "parent_id": root}
                for n in range(300)
            ],
        )
        branch_ids = [
            int(i)
            for (i,) in await conn.execute(
                select(s.orgs.c.id).where(s.orgs.c.code.like("B%")).order_by(s.orgs.c.code)
            )
        ]
    pledges = [
        PublishedPledge(
            org,
            f"P{n:03d}",
            None,
            clerk,
            [(f"事项{k}", PAST if k % 2 else FUTURE) for k in range(10)],
        )
        for n, org in enumerate(branch_ids)
    ]
    await insert_published(db, pledges, NOW)
    await set_progress(
        db,
        [
            {"item_id": item, "status": "fulfilled", "done_on": PAST}
            for n, p in enumerate(pledges)
            for item in p.item_ids[: n % 11]
        ],
    )
    service = StatsService(db, clock)
    f = await service.figures(await actor_for(db, LIU))
    assert isinstance(f, StatsFigures)
    charts = render("zh_CN", f, 90.0)
    assert len([r for r in f.fulfilment if r.total]) == 300
    assert f.status.total == 3000
    assert f.status.fulfilled == sum(n % 11 for n in range(300))
    assert [c.kind for c in charts] == ["status", "fulfilment"]
    assert "只列出最好和最差的共 30 个" in charts[1].caption
    # How fast (< 3 s) is bench/bench_stats.py's target: timed here, it failed under load.


async def test_committee_names_a_branch_or_picks_among_matches(
    db: Database, clock: FakeClock, people: dict[str, int]
) -> None:
    await seed(db, people)
    service = StatsService(db, clock)
    one = await service.figures(await actor_for(db, LIU), " 黄思 ")
    assert isinstance(one, StatsFigures) and one.audience is Audience.BRANCH
    assert one.org.name == "黄思村党总支" and {r.name for r in one.fulfilment} == {
        "王建国",
        "黄思村党总支",
    }
    by_code = await service.figures(await actor_for(db, LIU), "XH-DY")
    assert isinstance(by_code, StatsFigures) and by_code.org.name == "东园社区党支部"
    many = await service.figures(await actor_for(db, LIU), "党支部")
    assert isinstance(many, OrgChoice) and many.total == 3
    assert [o.name for o in many.matches] == [
        "东园社区党支部",
        "新华镇机关党支部",
        "新华精密机械有限公司党支部",
    ]  # by code: XH-DY, XH-JG, XH-JX
    buttons = choice_buttons("zh_CN", many)
    assert fit_telegram(buttons)
    for query in ("不存在的村", "%", "_"):
        with pytest.raises(DomainError) as none:
            await service.figures(await actor_for(db, LIU), query)
        assert none.value.key == "stats.no_match"
    # Own organisation by name: the usual view.
    own = await service.figures(await actor_for(db, LIU), "新华镇党委")
    assert isinstance(own, StatsFigures) and own.audience is Audience.DISTRICT


async def test_only_committees_look_at_other_organisations(
    db: Database, clock: FakeClock, people: dict[str, int]
) -> None:
    await seed(db, people)
    service = StatsService(db, clock)
    dy = await org_id(db, "XH-DY")
    for account in (SHEN, WANG, ZHANG):
        with pytest.raises(DomainError) as err:
            await service.figures(await actor_for(db, account), "东园")
        assert err.value.key == "stats.only_own"
        with pytest.raises(DomainError) as tapped:
            await service.figures_of(await actor_for(db, account), dy)
        assert tapped.value.key == "stats.only_own"
    mine = await service.figures(await actor_for(db, SHEN), "黄思村党总支")
    assert isinstance(mine, StatsFigures) and mine.audience is Audience.BRANCH
    picked = await service.figures_of(await actor_for(db, LIU), dy)
    assert picked.org.name == "东园社区党支部" and picked.audience is Audience.BRANCH
    # An organisation outside the committee's tree, and one that does not exist.
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.orgs).values(code="OTHER", name="别的镇党委", type="committee")
        )
    other = await org_id(db, "OTHER")
    with pytest.raises(DomainError) as outside:
        await service.figures_of(await actor_for(db, LIU), other)
    assert outside.value.key == "stats.not_in_scope"
    with pytest.raises(DomainError) as gone:
        await service.figures_of(await actor_for(db, LIU), 99999)
    assert gone.value.key == "stats.no_such_org"
    with pytest.raises(DomainError) as none:
        await service.figures(await actor_for(db, LIU), "别的镇")
    assert none.value.key == "stats.no_match"


async def test_english_captions(db: Database, clock: FakeClock, people: dict[str, int]) -> None:
    await seed(db, people)
    f = await StatsService(db, clock).figures(await actor_for(db, SHEN))
    assert isinstance(f, StatsFigures)
    captions = [c.caption for c in render("en", f, 90.0)]
    assert "6 pledge items, 2 fulfilled (33.3%)" in captions[0]
    assert "pass mark 90%" in captions[3]
