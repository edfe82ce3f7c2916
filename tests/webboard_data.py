"""Data for the web board tests: the demo district with published pledges, a draft, a pledge
under review, people with phone numbers, and a closed evaluation with secret ballots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, insert, select

from bot.domain.clock import SystemClock
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema as s
from storage.db import Database
from tests.e2e.harness import DEMO

NOW = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
SCRIPT = "<script>alert('x')</script>调解邻里纠纷"
TYPED_PHONE = "13912345678"
DRAFT_TEXT = "草稿事项不应公开"
SUBMITTED_TEXT = "待审核事项不应公开"
VOTER_HASH = "f00dfeedbeefcafe0123456789abcdef"
HIDDEN_SUBJECT = "沈红梅"  # a member subject with too few votes to be shown


@dataclass
class Seeded:
    """Ids and facts the tests assert on."""

    hs: int
    dy: int
    numbers: list[str]
    phones: list[str]


def _new_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an ``insert`` just added."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def _ids(db: Database) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    async with db.engine.connect() as conn:
        orgs = dict((await conn.execute(select(s.orgs.c.code, s.orgs.c.id))).all())
        people = dict((await conn.execute(select(s.people.c.name, s.people.c.id))).all())
        phones = dict((await conn.execute(select(s.people.c.name, s.people.c.phone))).all())
    return orgs, people, phones


def _pledge(
    number: str | None, org: int, person: int | None, status: str, items: list[dict[str, object]]
) -> dict[str, object]:
    return {
        "number": number,
        "pledger_kind": "member" if person is not None else "branch",
        "person_id": person,
        "org_id": org,
        "drafter_id": person or 1,
        "horizon": "annual",
        "status": status,
        "is_oral": False,
        "version": 2,
        "published_snapshot": None,
        "created_at": NOW,
        "updated_at": NOW,
        "published_at": NOW if number else None,
    }


async def seed(db: Database, extra_pledges: int = 0) -> Seeded:
    """The demo roster and the board's data (``extra_pledges`` more published in 黄思村)."""
    await db.migrate()
    await import_roster(db, SystemClock(), load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    orgs, people, phones = await _ids(db)
    hs, dy = orgs["XH-HS"], orgs["XH-DY"]
    wang = people["王建国"]
    numbers = ["XH-HS-2026-0001", *(f"XH-HS-2026-{n + 2:04d}" for n in range(extra_pledges))]
    async with db.engine.begin() as conn:
        # 王建国's published pledge: two items, the first fulfilled.
        pid = _new_id(
            await conn.execute(
                insert(s.pledges).values(**_pledge(numbers[0], hs, wang, "published", []))
            )
        )
        item_ids = []
        for position, (content, responsible) in enumerate(
            [("每月参加支部学习", "王建国"), (SCRIPT, f"王建国 {TYPED_PHONE}")]
        ):
            item_ids.append(
                _new_id(
                    await conn.execute(
                        insert(s.pledge_items).values(
                            pledge_id=pid,
                            position=position,
                            category="study" if position == 0 else "integrity",
                            content=content,
                            target="全年不少于12次",
                            deadline=date(2026, 12, 31) if position == 0 else date(2026, 6, 30),
                            responsible=responsible,
                        )
                    )
                )
            )
        snapshot = {
            "number": numbers[0],
            "pledger_name": "王建国",
            "org_name": "黄思村党总支",
            "horizon": "annual",
            "is_oral": False,
            "amended": False,
            "items": [
                {
                    "id": item_ids[0],
                    "category": "study",
                    "content": "每月参加支部学习",
                    "target": "全年不少于12次",
                    "deadline": "2026-12-31",
                    "responsible": "王建国",
                },
                {
                    "id": item_ids[1],
                    "category": "integrity",
                    "content": SCRIPT,
                    "target": "全年调解5起",
                    "deadline": "2026-06-30",
                    "responsible": f"王建国 {TYPED_PHONE}",
                },
            ],
        }
        await conn.execute(
            s.pledges.update().where(s.pledges.c.id == pid).values(published_snapshot=snapshot)
        )
        await conn.execute(
            insert(s.item_progress).values(
                item_id=item_ids[0],
                status="fulfilled",
                last_progress_at=NOW - timedelta(days=3),
                fulfilled_at=NOW - timedelta(days=2),
                done_on=date(2026, 9, 27),
            )
        )
        # More published pledges (paging), one item each.
        for number in numbers[1:]:
            other = _new_id(
                await conn.execute(
                    insert(s.pledges).values(
                        **_pledge(number, hs, people["杨友林"], "published", [])
                    )
                )
            )
            iid = _new_id(
                await conn.execute(
                    insert(s.pledge_items).values(
                        pledge_id=other,
                        position=0,
                        category="serve",
                        content=f"帮扶困难户 {number}",
                        target="每月走访",
                        deadline=date(2026, 12, 31),
                        responsible="杨友林",
                    )
                )
            )
            await conn.execute(
                s.pledges.update()
                .where(s.pledges.c.id == other)
                .values(
                    published_snapshot={
                        "number": number,
                        "pledger_name": "杨友林",
                        "org_name": "黄思村党总支",
                        "horizon": "annual",
                        "items": [
                            {
                                "id": iid,
                                "category": "serve",
                                "content": f"帮扶困难户 {number}",
                                "target": "每月走访",
                                "deadline": "2026-12-31",
                                "responsible": "杨友林",
                            }
                        ],
                    }
                )
            )
        # A draft and a pledge under review: never public.
        for status, text in (("draft", DRAFT_TEXT), ("submitted", SUBMITTED_TEXT)):
            hidden = _new_id(
                await conn.execute(
                    insert(s.pledges).values(**_pledge(None, hs, people["沈红梅"], status, []))
                )
            )
            await conn.execute(
                insert(s.pledge_items).values(
                    pledge_id=hidden,
                    position=0,
                    category="serve",
                    content=text,
                    target="—",
                    deadline=date(2026, 12, 31),
                    responsible="沈红梅",
                )
            )
    await seed_evaluation(db)
    return Seeded(hs, dy, numbers, [p for p in phones.values() if p])


async def seed_evaluation(db: Database) -> None:
    """A closed evaluation of 黄思村: the branch (26 votes, shown) and a member (3, hidden),
    a participant and a secret ballot (neither ever shown)."""
    orgs, people, _phones = await _ids(db)
    hs = orgs["XH-HS"]
    async with db.engine.begin() as conn:
        # A closed evaluation: the branch (26 votes, shown) and a member (3 votes, hidden).
        eid = _new_id(
            await conn.execute(
                insert(s.evaluations).values(
                    org_id=hs,
                    subject_kind="branch",
                    opened_by=people["沈宝方"],
                    status="closed",
                    quorum=20,
                    pass_permille=900,
                    closes_at=NOW - timedelta(days=1),
                    valid_voters=26,
                    created_at=NOW - timedelta(days=8),
                    closed_at=NOW - timedelta(days=1),
                )
            )
        )
        branch_subject = _new_id(
            await conn.execute(
                insert(s.evaluation_subjects).values(
                    evaluation_id=eid,
                    position=0,
                    org_id=hs,
                    satisfied=20,
                    basic=5,
                    unsatisfied=1,
                    rate_permille=962,
                    passed=True,
                )
            )
        )
        await conn.execute(
            insert(s.evaluation_subjects).values(
                evaluation_id=eid,
                position=1,
                org_id=hs,
                person_id=people[HIDDEN_SUBJECT],
                satisfied=1,
                basic=1,
                unsatisfied=1,
                rate_permille=667,
                passed=False,
            )
        )
        await conn.execute(
            insert(s.evaluation_participants).values(
                evaluation_id=eid, person_id=people["张桂英"], kind="resident", has_voted=True
            )
        )
        await conn.execute(
            insert(s.ballots).values(
                subject_id=branch_subject,
                voter=VOTER_HASH,
                evaluation_id=eid,
                choice="unsatisfied",
            )
        )
