"""A district-sized database (seed 004): 1,376 branches, 37,199 members, 45,936 items.

Written with bulk inserts straight into the tables, in a few seconds. Deterministic (seeded).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from storage import schema as s
from storage.db import Database

BRANCHES = 1_376
MEMBERS = 37_199
ITEMS = 45_936
TOWNSHIPS = 25  # 22 townships + 3 sub-districts
CHUNK = 5_000
BRANCH_TYPES = ["rural", "community", "organ", "soe", "private", "school", "health", "social"]
CATEGORIES = ["study", "excellence", "serve", "discipline", "integrity"]


async def _bulk(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with db.uow() as uow:
            await uow.orgs.conn.execute(insert(table), rows[start : start + CHUNK])


async def build_district(url: str, today: date, seed: int = 4) -> dict[str, int]:
    """Create and fill the database; returns the row counts."""
    rng = random.Random(seed)
    db = Database(url)
    await db.migrate()
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    # Every row carries every column: a bulk insert takes its columns from the first row.
    orgs: list[dict[str, Any]] = [
        {
            "id": 1,
            "code": "D",
            "name": "区委",
            "type": "committee",
            "parent_id": None,
            "board_chat_id": None,
        }
    ]
    for t in range(TOWNSHIPS):
        orgs.append(
            {
                "id": 2 + t,
                "code": f"T{t}",
                "name": f"镇{t}党委",
                "type": "committee",
                "parent_id": 1,
                "board_chat_id": None,
            }
        )
    branch_ids = []
    for b in range(BRANCHES):
        oid = 100 + b
        branch_ids.append(oid)
        orgs.append(
            {
                "id": oid,
                "code": f"B{b}",
                "name": f"第{b}支部",
                "type": BRANCH_TYPES[b % 8],
                "parent_id": 2 + b % TOWNSHIPS,
                "board_chat_id": -(10**12) - oid,
            }
        )
    await _bulk(db, s.orgs, orgs)
    people: list[dict[str, Any]] = []
    pid = 0
    for oid in branch_ids:  # one secretary per branch
        pid += 1
        people.append(_person(pid, oid, "secretary", now))
    members_of: dict[int, list[int]] = {oid: [] for oid in branch_ids}
    for _ in range(MEMBERS - BRANCHES):
        pid += 1
        oid = rng.choice(branch_ids)
        members_of[oid].append(pid)
        people.append(_person(pid, oid, "member", now))
    await _bulk(db, s.people, people)
    pledges: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    progress: list[dict[str, Any]] = []
    item_id = 0
    member_ids = [p["id"] for p in people if p["role"] == "member"]
    rng.shuffle(member_ids)
    org_of = {p["id"]: p["org_id"] for p in people}
    # About one item in four of a published pledge is fulfilled; deadlines spread Jun–Dec.
    for pledge_id, member in enumerate(member_ids, start=1):
        if item_id >= ITEMS:
            break
        oid = org_of[member]
        pledges.append(
            {
                "id": pledge_id,
                "number": f"B{oid}-{today.year}-{pledge_id:06d}",
                "pledger_kind": "member",
                "person_id": member,
                "org_id": oid,
                "drafter_id": member,
                "horizon": "annual",
                "status": "published",
                "is_oral": False,
                "version": 2,
                "created_at": now,
                "updated_at": now,
                "published_at": now,
            }
        )
        for position in range(1, rng.choice((1, 1, 2)) + 1):
            if item_id >= ITEMS:
                break
            item_id += 1
            deadline = date(today.year, 6, 15) + timedelta(days=rng.randrange(0, 200))
            items.append(
                {
                    "id": item_id,
                    "pledge_id": pledge_id,
                    "position": position,
                    "category": rng.choice(CATEGORIES),
                    "content": f"承诺事项{item_id}",
                    "target": "可检查的目标",
                    "deadline": deadline,
                    "responsible": "本人",
                }
            )
            if deadline < today and rng.random() < 0.5:
                progress.append(
                    {
                        "item_id": item_id,
                        "status": "fulfilled",
                        "fulfilled_at": now,
                        "last_progress_at": now,
                    }
                )
    await _bulk(db, s.pledges, pledges)
    await _bulk(db, s.pledge_items, items)
    await _bulk(db, s.item_progress, progress)
    await db.dispose()
    return {
        "orgs": len(orgs),
        "people": len(people),
        "pledges": len(pledges),
        "items": len(items),
        "fulfilled": len(progress),
    }


def _person(pid: int, oid: int, role: str, now: datetime) -> dict[str, Any]:
    return {
        "id": pid,
        "name": f"党员{pid}",
        "org_id": oid,
        "role": role,
        "phone": f"139{pid:08d}",
        "cadre": pid % 5 == 0,
        "oral": False,
        "tg_user_id": 10**9 + pid,
        "locale": "zh_CN",
        "is_admin": False,
        "created_at": now,
        "updated_at": now,
    }


def main() -> None:
    """Write a district database to a file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 9, 15))
    args = parser.parse_args()
    args.path.unlink(missing_ok=True)
    started = time.perf_counter()
    counts = asyncio.run(build_district(f"sqlite+aiosqlite:///{args.path}", args.today))
    print(f"built {counts} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
