"""/stats on a district-sized database (seed 004): the district committee's figures (SQL
aggregates over 1,376 branches and 45,936 items, plus progress entries and closed evaluations
added here) and drawing the four charts.

The baseline, measured in the same run, is the bare SQL count of the district's published
items: the floor any aggregate over them must pay. Drawing is measured cold (the first chart
in the process loads matplotlib and the font) and warm.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bench.actors import actor_for
from bot.domain.clock import FakeClock
from bot.domain.stats import StatsFigures, StatsService, render
from storage import schema as s
from storage.accounts import telegram_accounts
from storage.db import Database

TODAY = date(2026, 9, 15)
TZ = ZoneInfo("Asia/Shanghai")
CLERK_TG = 9_000_001
ENTRIES = 60_000
RUNS = 5
TARGET_S = 3.0  # a committee's /stats, read and drawn


async def _enrich(db: Database) -> None:
    """A committee clerk at the top, progress entries over 14 months, one closed evaluation
    per branch."""
    rng = random.Random(6)
    now = datetime(TODAY.year, TODAY.month, TODAY.day, 10, 0, tzinfo=TZ)
    async with db.engine.begin() as conn:
        clerk = await conn.execute(
            insert(s.people).values(
                name="区委工作人员",
                org_id=1,
                role="committee",
                phone="13900000000",
                created_at=now,
                updated_at=now,
            )
        )
        assert clerk.inserted_primary_key is not None
        clerk_id = int(clerk.inserted_primary_key[0])
        await conn.execute(
            insert(s.accounts),
            telegram_accounts([{"id": clerk_id, "tg_user_id": CLERK_TG, "created_at": now}]),
        )
        items = (
            await conn.execute(
                select(
                    s.pledge_items.c.id, s.pledges.c.id, s.pledges.c.org_id, s.pledges.c.person_id
                ).join(s.pledges, s.pledges.c.id == s.pledge_items.c.pledge_id)
            )
        ).all()
        rows: list[dict[str, Any]] = []
        for _ in range(ENTRIES):
            item, pledge, org, person = rng.choice(items)
            month = TODAY.replace(day=1) - timedelta(days=30 * rng.randrange(0, 14))
            rows.append(
                {
                    "item_id": item,
                    "pledge_id": pledge,
                    "org_id": org,
                    "author_id": person,
                    "text": "进展",
                    "evidence": [],
                    "month": month.strftime("%Y-%m"),
                    "created_at": now,
                }
            )
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(s.progress_entries), rows[start : start + 5000])
        branches = [
            int(i) for (i,) in await conn.execute(select(s.orgs.c.id).where(s.orgs.c.id >= 100))
        ]
        evaluations = [
            {
                "org_id": org,
                "subject_kind": "branch",
                "opened_by": clerk_id,
                "status": "closed",
                "quorum": 30,
                "pass_permille": 900,
                "closes_at": now - timedelta(days=rng.randrange(1, 200)),
                "created_at": now - timedelta(days=210),
                "closed_at": now - timedelta(days=rng.randrange(1, 200)),
            }
            for org in branches
        ]
        await conn.execute(insert(s.evaluations), evaluations)
        ids = (await conn.execute(select(s.evaluations.c.id, s.evaluations.c.org_id))).all()
        subjects = []
        for ev, org in ids:
            total = rng.randrange(0, 50)
            sat = rng.randrange(0, total + 1)
            basic = rng.randrange(0, total - sat + 1)
            subjects.append(
                {
                    "evaluation_id": ev,
                    "position": 1,
                    "org_id": org,
                    "satisfied": sat,
                    "basic": basic,
                    "unsatisfied": total - sat - basic,
                }
            )
        await conn.execute(insert(s.evaluation_subjects), subjects)


async def _measure(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await _enrich(db)
    service = StatsService(db, FakeClock(datetime(2026, 9, 15, 10, 0, tzinfo=TZ)))

    baseline = []
    for _ in range(RUNS):
        started = time.perf_counter()
        async with db.engine.connect() as conn:
            (
                await conn.execute(
                    select(func.count())
                    .select_from(s.pledge_items.join(s.pledges))
                    .where(s.pledges.c.number.is_not(None))
                )
            ).scalar_one()
        baseline.append(time.perf_counter() - started)

    clerk = await actor_for(db, CLERK_TG)  # the adapter's one read per update, not timed
    reads = []
    figures: StatsFigures | None = None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = await service.figures(clerk)
        reads.append(time.perf_counter() - started)
        assert isinstance(result, StatsFigures)
        figures = result
    assert figures is not None
    await db.dispose()

    started = time.perf_counter()
    charts = render("zh_CN", figures, 90.0)
    cold = time.perf_counter() - started
    draws = []
    for _ in range(RUNS):
        started = time.perf_counter()
        render("zh_CN", figures, 90.0)
        draws.append(time.perf_counter() - started)

    base, read, draw = (statistics.median(x) for x in (baseline, reads, draws))
    total = read + draw
    out = sys.stdout.write
    out(
        f"district: {len(figures.fulfilment)} branches, {figures.status.total} items, "
        f"{sum(c for *_, c in figures.months)} progress entries in 12 months, "
        f"{figures.evaluations_total} closed evaluations\n"
    )
    out(f"baseline (bare SQL count of published items): median {base * 1000:.1f} ms\n")
    out(
        f"figures (all aggregates of /stats): median {read * 1000:.1f} ms, "
        f"ratio to baseline {read / base:.1f}x\n"
    )
    out(
        f"drawing {len(charts)} charts: cold {cold * 1000:.0f} ms (loads matplotlib), "
        f"warm median {draw * 1000:.0f} ms; PNG sizes "
        f"{', '.join(f'{len(c.png) // 1024} KB' for c in charts)}\n"
    )
    out(
        f"/stats for the district committee, warm: {total * 1000:.0f} ms "
        f"(target < {TARGET_S:.0f} s: {'met' if total < TARGET_S else 'MISSED'})\n"
    )


def main() -> None:
    """Build the district in a child process, then measure here."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "district.db"
        subprocess.run(
            [sys.executable, "-m", "bench.district", str(path), "--today", TODAY.isoformat()],
            check=True,
        )
        asyncio.run(_measure(path))


if __name__ == "__main__":
    main()
