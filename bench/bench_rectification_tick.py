"""The rectification step of the reminder tick on a district-sized database (seed 004).

    python -m bench.bench_rectification_tick

One branch in five failed its mass evaluation and 1,500 members failed theirs: about 1,775
rectifications, a third with late plans, a third accepted with the deadline a few days away,
a third accepted with the deadline far off. Measured in the same run:

* baseline: the whole reminder tick with the rectification step switched off;
* the same tick with the step: its first run (queues the backlog of nudges and reminders)
  and its steady state (every key known: nothing new). Target: the step adds < 20 ms to a
  steady tick, and the tick stays under the reminder tick's own 200 ms budget.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from bot.domain import rectification_tick
from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.reminders import ReminderService
from storage import schema as s
from storage.db import Database

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 10, 20)
NOW = datetime(2026, 10, 20, 10, 0, tzinfo=TZ)
MEMBER_RECTS = 1_500
TARGET_ADDED_MS = 20.0
TICK_BUDGET_MS = 200.0
RUNS = 7


async def _seed(db: Database) -> int:
    """Evaluations, failed subjects and rectifications in their three situations."""
    opened = NOW - timedelta(days=30)  # plans were due two weeks ago
    async with db.uow() as uow:
        conn = uow.rectifications.conn
        branches = [
            (int(r[0]), int(r[1]))
            for r in await conn.execute(
                select(s.orgs.c.id, s.people.c.id)
                .join(s.people, s.people.c.org_id == s.orgs.c.id)
                .where(s.orgs.c.type != "committee", s.people.c.role == "secretary")
            )
        ]
        members = [
            (int(r[0]), int(r[1]))
            for r in await conn.execute(
                select(s.people.c.org_id, s.people.c.id)
                .where(s.people.c.role == "member")
                .limit(MEMBER_RECTS)
            )
        ]
        by_org = dict(branches)
        subjects: list[tuple[int, int | None, int]] = [
            (org, None, sec) for org, sec in branches[::5]
        ] + [(org, pid, by_org.get(org, pid)) for org, pid in members]
        rows: list[dict[str, Any]] = []
        for n, (org, person, opener) in enumerate(subjects):
            result = await conn.execute(
                insert(s.evaluations).values(
                    org_id=org,
                    subject_kind="branch" if person is None else "members",
                    opened_by=opener,
                    status="closed",
                    quorum=30,
                    pass_permille=900,
                    closes_at=opened,
                    created_at=opened - timedelta(days=3),
                    closed_at=opened,
                )
            )
            assert result.inserted_primary_key is not None
            evaluation_id = int(result.inserted_primary_key[0])
            subject = await conn.execute(
                insert(s.evaluation_subjects).values(
                    evaluation_id=evaluation_id,
                    position=1,
                    person_id=person,
                    org_id=org,
                    rate_permille=800,
                    passed=False,
                )
            )
            assert subject.inserted_primary_key is not None
            situation = n % 3
            rows.append(
                {
                    "kind": "satisfaction",
                    "evaluation_id": evaluation_id,
                    "subject_id": int(subject.inserted_primary_key[0]),
                    "org_id": org,
                    "person_id": person,
                    "status": "due" if situation == 0 else "accepted",
                    "round": 1,
                    "previous_id": None,
                    "version": 1,
                    "goals": None if situation == 0 else "提升满意度",
                    "measures": None if situation == 0 else "每周走访",
                    "deadline": None
                    if situation == 0
                    else TODAY + timedelta(days=3 if situation == 1 else 60),
                    "created_at": opened,
                }
            )
        await uow.rectifications.add_many(rows)
    return len(rows)


async def _ticks(service: ReminderService, clock: FakeClock) -> list[float]:
    times = []
    for _ in range(RUNS):
        clock.advance(timedelta(minutes=1))
        started = time.perf_counter()
        report = await service.tick()
        times.append((time.perf_counter() - started) * 1000)
        assert report.total == 0, f"a steady tick must queue nothing new: {dict(report.queued)}"
    return times


async def _measure(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    clock = FakeClock(NOW)
    service = ReminderService(db, clock, load_calendar())
    await service.tick()  # the district's own backlog first: not ours
    count = await _seed(db)

    real_step = rectification_tick.step

    async def no_step(uow: Any, clock: Any) -> dict[str, int]:
        return {}

    rectification_tick.step = no_step
    baseline = await _ticks(service, clock)
    rectification_tick.step = real_step

    started = time.perf_counter()
    first = await service.tick()
    first_ms = (time.perf_counter() - started) * 1000
    steady = await _ticks(service, clock)
    await db.dispose()

    base, tick = statistics.median(baseline), statistics.median(steady)
    added = tick - base
    out = sys.stdout.write
    out(f"rectifications in progress: {count}\n")
    queued = {k: v for k, v in first.queued.items() if k.startswith("rectify")}
    out(f"first tick with the step (queues {queued}): {first_ms:.0f} ms\n")
    out(f"baseline: steady tick without the step: median {base:.1f} ms\n")
    out(
        f"steady tick with the step: median {tick:.1f} ms, max {max(steady):.1f} ms; "
        f"added {added:.1f} ms (target < {TARGET_ADDED_MS:.0f} ms: "
        f"{'met' if added < TARGET_ADDED_MS else 'MISSED'}); ratio {tick / base:.2f}x; "
        f"budget {TICK_BUDGET_MS:.0f} ms: {'met' if max(steady) < TICK_BUDGET_MS else 'MISSED'}\n"
    )


def main() -> None:
    """Build the district in a child process, then seed rectifications and measure here."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "district.db"
        subprocess.run(
            [sys.executable, "-m", "bench.district", str(path), "--today", TODAY.isoformat()],
            check=True,
        )
        asyncio.run(_measure(path))


if __name__ == "__main__":
    main()
