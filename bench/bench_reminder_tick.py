"""The reminder tick on a district-sized database (seed 004): < 200 ms per tick, < 150 MB.

The database is built by a child process so that its generation does not count towards
this process's memory. The baseline, measured in the same run, is the bare SQL scan of the
same due items: the floor any tick must pay.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bot.domain.campaign_calendar import load_calendar
from bot.domain.clock import FakeClock
from bot.domain.reminders import ReminderService
from storage.db import Database

TODAY = date(2026, 9, 15)  # mid-campaign: many items due, overdue, fulfilled
TARGET_MS = 200.0
TARGET_MB = 150.0
RUNS = 7


async def _measure(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    clock = FakeClock(
        datetime(TODAY.year, TODAY.month, TODAY.day, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    service = ReminderService(db, clock, load_calendar())

    baseline = []
    for _ in range(RUNS):
        started = time.perf_counter()
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT id, deadline FROM pledge_items WHERE deadline <= :d"),
                {"d": TODAY + timedelta(days=7)},
            )
            due = len(rows.all())
        baseline.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    first = await service.tick()
    first_ms = (time.perf_counter() - started) * 1000

    steady = []
    for _ in range(RUNS):
        clock.advance(timedelta(minutes=1))
        started = time.perf_counter()
        report = await service.tick()
        steady.append((time.perf_counter() - started) * 1000)
        assert report.total == 0, "a steady tick must queue nothing new"
    # The 1st of a month: the self-check sweep over every pledger, then ordinary ticks.
    clock.set(datetime(2026, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    started = time.perf_counter()
    sweep = await service.tick()
    sweep_ms = (time.perf_counter() - started) * 1000
    after = []
    for _ in range(RUNS):
        clock.advance(timedelta(minutes=1))
        started = time.perf_counter()
        await service.tick()
        after.append((time.perf_counter() - started) * 1000)
    await db.dispose()

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base = statistics.median(baseline)
    tick = statistics.median(steady)
    out = sys.stdout.write
    out(f"items due within 7 days (incl. overdue): {due}\n")
    out(f"baseline (bare SQL scan of due items): median {base:.1f} ms\n")
    out(f"first tick (queues the backlog: {first.total} messages): {first_ms:.0f} ms\n")
    out(
        f"steady tick: median {tick:.1f} ms, max {max(steady):.1f} ms "
        f"(target < {TARGET_MS:.0f} ms: {'met' if max(steady) < TARGET_MS else 'MISSED'}); "
        f"ratio to baseline {tick / base:.1f}x\n"
    )
    out(
        f"1 Oct sweep (monthly self-check + quarter, {sweep.total} messages): "
        f"{sweep_ms:.0f} ms; ticks after it: median {statistics.median(after):.1f} ms, "
        f"max {max(after):.1f} ms\n"
    )
    out(
        f"peak resident memory: {rss_mb:.0f} MB "
        f"(target < {TARGET_MB:.0f} MB: {'met' if rss_mb < TARGET_MB else 'MISSED'})\n"
    )


def main() -> None:
    """Build the district in a child process, then measure ticks here."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "district.db"
        subprocess.run(
            [sys.executable, "-m", "bench.district", str(path), "--today", TODAY.isoformat()],
            check=True,
        )
        asyncio.run(_measure(path))


if __name__ == "__main__":
    main()
