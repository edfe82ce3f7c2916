"""Leader review at district scale (seed 004: 1,376 branches, 37,199 members), plus one clerk
per committee and 50 liaison leaders linked to 5 branches each; a third of the members and
branches already reviewed.

Measured: the reminder tick that runs the quarterly slot sweep and the monthly nudge
sweep (20 Nov), the ordinary ticks after them (the baseline: a tick with nothing to sweep,
measured in the same run; the slot is 22 Mar, a day no campaign phase opens, so the sweep is
leader review's own), and the /comment subject list of the district clerk (every branch)
and of a secretary.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from bot.chat.actor import TELEGRAM, Account
from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.leader_review import LeaderReviewService, PeriodKind
from bot.domain.leader_review_reminders import leader_review_step
from bot.domain.onboarding import OnboardingService
from bot.domain.reminders import ReminderService, _Batch
from storage import schema as s
from storage.accounts import telegram_accounts, without_telegram
from storage.db import Database

TZ = ZoneInfo("Asia/Shanghai")
BUILD_DAY = date(2026, 9, 15)
LEADERS = 50
RUNS = 7


async def _enrich(db: Database) -> tuple[int, int]:
    """Clerks, leaders with links, and reviews of a third of everyone; (clerk tg, sec tg)."""
    rng = random.Random(5)
    now = datetime(2026, 9, 15, tzinfo=UTC)
    async with db.engine.begin() as conn:
        orgs = (await conn.execute(select(s.orgs.c.id, s.orgs.c.type))).all()
        people = (
            await conn.execute(select(s.people.c.id, s.people.c.org_id, s.people.c.role))
        ).all()
        top = max(p.id for p in people)
        committees = [o.id for o in orgs if o.type == "committee"]
        branches = [o.id for o in orgs if o.type != "committee"]
        staff = []
        for n, oid in enumerate(committees + [1] * LEADERS, start=1):
            role = "committee" if n <= len(committees) else "leader"
            staff.append(
                {
                    "id": top + n,
                    "name": f"干部{n}",
                    "org_id": oid,
                    "role": role,
                    "phone": f"137{n:08d}",
                    "cadre": True,
                    "oral": False,
                    "tg_user_id": 2 * 10**9 + n,
                    "locale": "zh_CN",
                    "is_admin": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        await conn.execute(insert(s.people), without_telegram(staff))
        await conn.execute(insert(s.accounts), telegram_accounts(staff))
        leaders = [p["id"] for p in staff if p["role"] == "leader"]
        links = [
            {"person_id": lid, "org_id": o} for lid in leaders for o in rng.sample(branches, 5)
        ]
        await conn.execute(insert(s.leader_links), links)
        reviewer = staff[0]["id"]
        reviews = []
        for person in people:
            if person.role == "member" and rng.random() < 1 / 3:
                for period in ("2027-Q1", "2026-11"):
                    reviews.append(
                        {
                            "reviewer_id": reviewer,
                            "subject_kind": "member",
                            "subject_person_id": person.id,
                            "subject_org_id": person.org_id,
                            "period": period,
                            "grade": "good",
                            "comment": "好",
                            "published": False,
                            "created_at": now,
                        }
                    )
        for oid in rng.sample(branches, len(branches) // 3):
            reviews.append(
                {
                    "reviewer_id": reviewer,
                    "subject_kind": "branch",
                    "subject_person_id": None,
                    "subject_org_id": oid,
                    "period": "2027-Q1",
                    "grade": "good",
                    "comment": "好",
                    "rectify_points": None,
                    "published": False,
                    "created_at": now,
                }
            )
        await conn.execute(insert(s.leader_reviews), reviews)
        clerk_tg = 2 * 10**9 + committees.index(1) + 1
        secretary_tg = next(10**9 + p.id for p in people if p.role == "secretary")
    return clerk_tg, secretary_tg


async def _timed(work: object) -> tuple[float, object]:
    started = time.perf_counter()
    result = await work  # type: ignore[misc]
    return (time.perf_counter() - started) * 1000, result


async def _sweep(service: ReminderService, clock: FakeClock, moment: datetime) -> None:
    """The leader-review step alone (read, then committed in chunks), then full ticks."""
    clock.set(moment)
    db = service.db
    started = time.perf_counter()
    async with db.read() as uow:
        batch = _Batch(db, moment, set(), await uow.reminders.muted())
        await leader_review_step(uow, moment, batch, service.calendar)
    await batch.finish()
    ms = (time.perf_counter() - started) * 1000
    lr = {k: v for k, v in batch.report.queued.items() if k.startswith("lr_")}
    await service.tick()  # the rest of that day's tick (deadline backlog), not measured
    after = []
    for _ in range(RUNS):
        clock.advance(timedelta(minutes=1))
        took, again = await _timed(service.tick())
        after.append(took)
        assert again.total == 0, "a tick after the sweep must queue nothing new"  # type: ignore[attr-defined]
    sys.stdout.write(
        f"{moment:%d %b} leader-review sweep alone: {ms:.0f} ms, messages {lr}; "
        f"full ticks after it: median {statistics.median(after):.1f} ms, "
        f"max {max(after):.1f} ms\n"
    )


async def _measure(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    clerk, secretary = await _enrich(db)
    clock = FakeClock(datetime(2026, 9, 18, 10, 0, tzinfo=TZ))
    service = ReminderService(db, clock, load_calendar())
    await service.tick()  # the deadline backlog, not measured
    baseline = []
    for _ in range(RUNS):
        clock.advance(timedelta(minutes=1))
        took, _ = await _timed(service.tick())
        baseline.append(took)
    base = statistics.median(baseline)
    sys.stdout.write(f"baseline: an ordinary tick, median {base:.1f} ms\n")
    await _sweep(service, clock, datetime(2027, 3, 22, 10, 0, tzinfo=TZ))  # no phase opens
    await _sweep(service, clock, datetime(2026, 11, 20, 10, 0, tzinfo=TZ))

    reviews = LeaderReviewService(db, clock)
    for who, tg in (("district clerk (all branches)", clerk), ("a secretary", secretary)):
        actor = await OnboardingService(db, clock, []).actor(Account(TELEGRAM, str(tg)), None)
        assert actor is not None
        runs = []
        count = 0
        for _ in range(RUNS):
            took, listing = await _timed(reviews.subjects(actor, PeriodKind.MONTH))
            runs.append(took)
            count = len(listing.subjects)  # type: ignore[attr-defined]
        median = statistics.median(runs)
        sys.stdout.write(f"/comment subjects for {who}: {count} listed, median {median:.1f} ms\n")
    await db.dispose()


def main() -> None:
    """Build the district in a child process, then measure here."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "district.db"
        subprocess.run(
            [sys.executable, "-m", "bench.district", str(path), "--today", BUILD_DAY.isoformat()],
            check=True,
        )
        asyncio.run(_measure(path))


if __name__ == "__main__":
    main()
