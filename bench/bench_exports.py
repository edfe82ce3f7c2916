"""Exports: the statistics form of a whole district (seed 004's size: 1,376 branches, 45,936
items), the ledger of its largest branch, and every file of a branch of 200 members with 800
items (the issue's target: under 5 s each).

The baseline, measured in the same run, is the bare SQL count of the district's published
items: the floor any aggregate over them must pay.
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.domain.clock import FakeClock
from bot.domain.exports import ExportFile, ExportKind, ExportService
from bot.domain.roster import load_roster
from bot.domain.roster_import import import_roster
from storage import schema as s
from storage.db import Database
from tests.export_data import big_branch

TODAY = date(2026, 9, 15)
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 9, 15, 10, 0, tzinfo=TZ)
RUNS = 3
TARGET_S = 5.0
DEMO = Path(__file__).resolve().parents[1] / "bot" / "playground" / "demo"


async def _median(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


async def _district(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    service = ExportService(db, FakeClock(NOW))
    out = sys.stdout.write

    async def count() -> int:
        async with db.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(s.pledge_items.join(s.pledges))
                        .where(s.pledges.c.number.is_not(None))
                    )
                ).scalar_one()
            )

    base, items = await _median(count)
    form_s, form = await _median(
        lambda: service.export_for_operator(ExportKind.STATS, "D", None, "zh_CN")
    )
    assert isinstance(form, ExportFile)
    async with db.engine.connect() as conn:
        code, n = (
            await conn.execute(
                select(s.orgs.c.code, func.count(s.pledge_items.c.id).label("n"))
                .select_from(
                    s.orgs.join(s.pledges, s.pledges.c.org_id == s.orgs.c.id).join(
                        s.pledge_items, s.pledge_items.c.pledge_id == s.pledges.c.id
                    )
                )
                .group_by(s.orgs.c.code)
                .order_by(func.count(s.pledge_items.c.id).desc())
                .limit(1)
            )
        ).one()
    ledger_s, _ = await _median(
        lambda: service.export_for_operator(ExportKind.LEDGER, code, None, "zh_CN")
    )
    await db.dispose()
    out(f"district: {items} published items\n")
    out(f"baseline (bare SQL count of published items): median {base * 1000:.1f} ms\n")
    out(
        f"statistics form of the district (XLSX with one row per organisation + message): "
        f"median {form_s * 1000:.0f} ms, {len(form.data) // 1024} KB, "
        f"ratio to baseline {form_s / base:.1f}x\n"
    )
    out(f"ledger of the largest branch ({code}, {n} items): median {ledger_s * 1000:.0f} ms\n")


async def _branch(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.migrate()
    clock = FakeClock(NOW)
    await import_roster(db, clock, load_roster(DEMO / "orgs.csv", DEMO / "people.csv"))
    async with db.uow() as uow:
        jx = await uow.orgs.by_code("XH-JX")
    assert jx is not None
    pledges = await big_branch(db, jx.id, "XH-JX", 200, 4, NOW)
    service = ExportService(db, clock)
    out = sys.stdout.write
    out("branch of 200 members, 800 items (target < 5 s each):\n")
    for kind in (ExportKind.PUBLICITY_XLSX, ExportKind.PUBLICITY_PDF, ExportKind.LEDGER):
        took, export = await _median(
            functools.partial(service.export_for_operator, kind, "XH-JX", None, "zh_CN")
        )
        verdict = "met" if took < TARGET_S else "MISSED"
        out(
            f"  {kind.name:15} median {took * 1000:5.0f} ms, {len(export.data) // 1024} KB "
            f"({verdict})\n"
        )
    took, export = await _median(
        lambda: service.export_for_operator(ExportKind.LETTER, "XH", pledges[0].number, "zh_CN")
    )
    out(f"  LETTER          median {took * 1000:5.0f} ms, {len(export.data) // 1024} KB\n")
    await db.dispose()


def main() -> None:
    """Build the district in a child process, then measure here; then the 800-item branch."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "district.db"
        subprocess.run(
            [sys.executable, "-m", "bench.district", str(path), "--today", TODAY.isoformat()],
            check=True,
        )
        asyncio.run(_district(path))
        asyncio.run(_branch(Path(tmp) / "branch.db"))


if __name__ == "__main__":
    main()
