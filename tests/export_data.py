"""Data for export tests: members and their published pledges with the snapshots publication
writes (pledger name, items with their ids), inserted in batches; suggestions; evaluations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from storage import schema as s
from storage.db import Database

CATEGORIES = ("study", "excellence", "serve", "discipline", "integrity")


@dataclass
class Published:
    """A published pledge to insert (person None: the branch's own pledge)."""

    org_id: int
    number: str
    person_id: int | None
    pledger_name: str
    items: Sequence[tuple[str, date]]
    drafter_id: int | None = None
    is_oral: bool = False
    status: str = "published"
    id: int = 0
    item_ids: list[int] = field(default_factory=list)


async def add_members(
    db: Database, org_id: int, names: Sequence[str], at: datetime, phone_prefix: str = "139"
) -> list[int]:
    """Roster members of a branch (each with a phone number that must never be exported)."""
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.people),
            [
                {
                    "name": name,
                    "org_id": org_id,
                    "role": "member",
                    "phone": f"{phone_prefix}{n:08d}",
                    "cadre": False,
                    "oral": False,
                    "is_admin": False,
                    "created_at": at,
                    "updated_at": at,
                }
                for n, name in enumerate(names)
            ],
        )
        rows = await conn.execute(
            select(s.people.c.name, s.people.c.id).where(s.people.c.org_id == org_id)
        )
        ids = dict(rows.all())
    return [int(ids[name]) for name in names]


async def publish(db: Database, pledges: Sequence[Published], at: datetime) -> None:
    """Insert published pledges, their items, and the snapshot publication keeps."""
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.pledges),
            [
                {
                    "number": p.number,
                    "pledger_kind": "member" if p.person_id is not None else "branch",
                    "person_id": p.person_id,
                    "org_id": p.org_id,
                    "drafter_id": p.drafter_id or p.person_id,
                    "horizon": "annual",
                    "status": p.status,
                    "is_oral": p.is_oral,
                    "version": 2,
                    "created_at": at,
                    "updated_at": at,
                    "published_at": at,
                }
                for p in pledges
            ],
        )
        ids = dict(
            (
                await conn.execute(
                    select(s.pledges.c.number, s.pledges.c.id).where(
                        s.pledges.c.number.in_([p.number for p in pledges])
                    )
                )
            ).all()
        )
        rows: list[dict[str, Any]] = []
        for p in pledges:
            p.id = int(ids[p.number])
            for position, (content, deadline) in enumerate(p.items, start=1):
                rows.append(
                    {
                        "pledge_id": p.id,
                        "position": position,
                        "category": CATEGORIES[position % 5] if p.person_id else "performance",
                        "content": content,
                        "target": f"目标：{content}",
                        "deadline": deadline,
                        "responsible": "本人" if p.person_id else "支部委员会",
                    }
                )
        await conn.execute(insert(s.pledge_items), rows)
        found = await conn.execute(
            select(s.pledge_items).where(s.pledge_items.c.pledge_id.in_([p.id for p in pledges]))
        )
        items: dict[int, list[dict[str, Any]]] = {}
        for r in found:
            items.setdefault(int(r.pledge_id), []).append(dict(r._mapping))
        snapshots = []
        for p in pledges:
            mine = sorted(items[p.id], key=lambda i: i["position"])
            p.item_ids = [int(i["id"]) for i in mine]
            snapshots.append(
                {
                    "pid": p.id,
                    "snap": {
                        "number": p.number,
                        "pledger_name": p.pledger_name,
                        "org_name": "",
                        "horizon": "annual",
                        "is_oral": p.is_oral,
                        "amended": False,
                        "items": [
                            {
                                "id": i["id"],
                                "category": i["category"],
                                "content": i["content"],
                                "target": i["target"],
                                "deadline": i["deadline"].isoformat(),
                                "responsible": i["responsible"],
                            }
                            for i in mine
                        ],
                        "published_at": at.isoformat(),
                    },
                }
            )
        await conn.execute(
            update(s.pledges)
            .where(s.pledges.c.id == bindparam("pid"))
            .values(published_snapshot=bindparam("snap")),
            snapshots,
        )


async def big_branch(
    db: Database, org_id: int, code: str, members: int, items_each: int, at: datetime
) -> list[Published]:
    """``members`` new members of a branch, each with one published pledge of ``items_each``."""
    names = [f"党员{n:03d}" for n in range(members)]
    ids = await add_members(db, org_id, names, at)
    today = at.date()
    pledges = [
        Published(
            org_id,
            f"{code}-{at.year}-{n + 1:03d}",
            pid,
            name,
            [
                (
                    f"{name}承诺第{k + 1}项：每月走访联系户，帮助解决实际困难并做好记录",
                    today + timedelta(days=30 * (k + 1) - 45),
                )
                for k in range(items_each)
            ],
        )
        for n, (pid, name) in enumerate(zip(ids, names, strict=True))
    ]
    await publish(db, pledges, at)
    return pledges


async def add_suggestions(
    db: Database, org_id: int, author_id: int, count: int, solved: int, at: datetime
) -> None:
    """Residents' suggestions to a branch; the first ``solved`` are solved."""
    async with db.engine.begin() as conn:
        await conn.execute(
            insert(s.suggestions),
            [
                {
                    "org_id": org_id,
                    "author_id": author_id,
                    "text": f"建议{n}",
                    "status": "solved" if n < solved else "open",
                    "solved_at": at if n < solved else None,
                    "created_at": at,
                }
                for n in range(count)
            ],
        )


async def add_evaluation(
    db: Database,
    org_id: int,
    opened_by: int,
    tallies: Sequence[tuple[int, int, int]],
    at: datetime,
    status: str = "closed",
) -> None:
    """A mass evaluation with its subjects' tallies (satisfied, basic, unsatisfied)."""
    async with db.engine.begin() as conn:
        result = await conn.execute(
            insert(s.evaluations).values(
                org_id=org_id,
                subject_kind="branch",
                opened_by=opened_by,
                status=status,
                quorum=20,
                pass_permille=900,
                closes_at=at,
                valid_voters=max(sum(t) for t in tallies) if status == "closed" else None,
                created_at=at,
                closed_at=at if status == "closed" else None,
            )
        )
        assert result.inserted_primary_key is not None
        evaluation_id = int(result.inserted_primary_key[0])
        rows = []
        for position, (sat, basic, unsat) in enumerate(tallies, start=1):
            total = sat + basic + unsat
            rate = (sat + basic) * 1000 // total if status == "closed" else None
            rows.append(
                {
                    "evaluation_id": evaluation_id,
                    "position": position,
                    "org_id": org_id,
                    "satisfied": sat if status == "closed" else None,
                    "basic": basic if status == "closed" else None,
                    "unsatisfied": unsat if status == "closed" else None,
                    "rate_permille": rate,
                    "passed": (rate >= 900) if rate is not None else None,
                }
            )
        await conn.execute(insert(s.evaluation_subjects), rows)
