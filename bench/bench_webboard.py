"""The public web board (网上晒) on a district-sized database (seed 004).

The district of bench/district.py (1,376 branches, 45,936 items) with each pledge's published
snapshot filled in, plus one large branch (200 members, 800 items). Measured: the tree page
(every organisation), the district committee's page (totals and the first 50 branches), a
township committee's page, and the large branch's first and last pages. Baseline, in the same
run: the bare SQL count of the district's published items.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, bindparam, func, insert, select, update

from bench.district import build_district
from bot.domain.clock import FakeClock
from bot.web.board import PublicBoard
from storage import schema as s
from storage.db import Database

TODAY = date(2026, 9, 15)
RUNS = 5
BIG_MEMBERS = 200
BIG_ITEMS_PER_PLEDGE = 4


async def _snapshots(db: Database) -> None:
    """Fill in every pledge's published snapshot (the district generator leaves it empty)."""
    async with db.engine.begin() as conn:
        rows = await conn.execute(
            select(
                s.pledge_items.c.id,
                s.pledge_items.c.pledge_id,
                s.pledge_items.c.category,
                s.pledge_items.c.content,
                s.pledge_items.c.target,
                s.pledge_items.c.deadline,
                s.pledge_items.c.responsible,
            ).order_by(s.pledge_items.c.pledge_id, s.pledge_items.c.position)
        )
        items: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            items.setdefault(int(r.pledge_id), []).append(
                {
                    "id": int(r.id),
                    "category": r.category,
                    "content": r.content,
                    "target": r.target,
                    "deadline": r.deadline.isoformat(),
                    "responsible": r.responsible,
                }
            )
        pledges = await conn.execute(select(s.pledges.c.id, s.pledges.c.number))
        params = [
            {
                "pid": int(pid),
                "snap": {
                    "number": number,
                    "pledger_name": f"党员{pid}",
                    "org_name": "支部",
                    "horizon": "annual",
                    "items": items.get(int(pid), []),
                },
            }
            for pid, number in pledges
        ]
        await conn.execute(
            update(s.pledges)
            .where(s.pledges.c.id == bindparam("pid"))
            .values(published_snapshot=bindparam("snap")),
            params,
        )


def _new_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an ``insert`` just added."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def _big_branch(db: Database) -> str:
    """A branch of 200 members with one 4-item pledge each; its code."""
    now = datetime(2026, 6, 10, tzinfo=UTC)
    async with db.engine.begin() as conn:
        org = _new_id(
            await conn.execute(
                insert(s.orgs).values(
                    code="BIG", name="大型社区党委", type="community", parent_id=2
                )
            )
        )
        people = [
            {
                "name": f"党员{n}",
                "org_id": org,
                "role": "member",
                "phone": f"139{n:08d}",
                "cadre": False,
                "oral": False,
                "is_admin": False,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(BIG_MEMBERS)
        ]
        await conn.execute(insert(s.people), people)
        ids = [
            int(i)
            for (i,) in await conn.execute(select(s.people.c.id).where(s.people.c.org_id == org))
        ]
        top = int((await conn.execute(select(func.max(s.pledge_items.c.id)))).scalar_one())
        for n, person in enumerate(ids):
            number = f"BIG-2026-{n + 1:04d}"
            pid = _new_id(
                await conn.execute(
                    insert(s.pledges).values(
                        number=number,
                        pledger_kind="member",
                        person_id=person,
                        org_id=org,
                        drafter_id=person,
                        horizon="annual",
                        status="published",
                        is_oral=False,
                        version=2,
                        created_at=now,
                        updated_at=now,
                        published_at=now,
                    )
                )
            )
            items: list[dict[str, Any]] = [
                {
                    "id": top + n * BIG_ITEMS_PER_PLEDGE + k + 1,
                    "pledge_id": pid,
                    "position": k,
                    "category": "serve",
                    "content": f"为居民办实事第{k + 1}项",
                    "target": "每月检查",
                    "deadline": date(2026, 12, 31) - timedelta(days=k * 60),
                    "responsible": f"党员{n}",
                }
                for k in range(BIG_ITEMS_PER_PLEDGE)
            ]
            await conn.execute(insert(s.pledge_items), items)
            snapshot = {
                "number": number,
                "pledger_name": f"党员{n}",
                "org_name": "大型社区党委",
                "horizon": "annual",
                "items": [{**i, "deadline": i["deadline"].isoformat()} for i in items],
            }
            await conn.execute(
                update(s.pledges).where(s.pledges.c.id == pid).values(published_snapshot=snapshot)
            )
    return "BIG"


def _best(samples: list[float]) -> str:
    return f"best {min(samples) * 1000:.0f} ms, median {statistics.median(samples) * 1000:.0f} ms"


async def _measure(board: PublicBoard, code: str | None, page: int = 1) -> tuple[list[float], int]:
    samples = []
    size = 0
    for _ in range(RUNS):
        start = time.perf_counter()
        result = await board.page(code, page)
        samples.append(time.perf_counter() - start)
        assert result.status == 200, (code, result.status)
        size = len(result.html.encode())
    return samples, size


async def main() -> None:
    """Build, then measure each page."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'district.db'}"
        start = time.perf_counter()
        counts = await build_district(url, TODAY)
        db = Database(url)
        await _snapshots(db)
        big = await _big_branch(db)
        print(f"district built in {time.perf_counter() - start:.1f}s: {counts}")
        clock = FakeClock(datetime(2026, 9, 15, 2, 0, tzinfo=UTC))
        board = PublicBoard(db, clock)
        base = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            async with db.engine.connect() as conn:
                await conn.execute(
                    select(func.count())
                    .select_from(s.pledge_items.join(s.pledges))
                    .where(s.pledges.c.number.is_not(None))
                )
            base.append(time.perf_counter() - t0)
        print(f"baseline: bare SQL count of published items: {_best(base)}")
        for label, code, page in (
            ("tree /board/ (all organisations)", None, 1),
            ("district committee /board/D (totals + 50 branches)", "D", 1),
            ("township committee /board/T1", "T1", 1),
            ("large branch /board/BIG page 1 (20 of 200 pledges, 800 items)", big, 1),
            ("large branch /board/BIG page 10", big, 10),
        ):
            samples, size = await _measure(board, code, page)
            print(f"{label}: {_best(samples)}, {size / 1024:.0f} KB")
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
