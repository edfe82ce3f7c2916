"""The archive for inspection (issue 20) on the district of seed 004 (bench/district.py with a
year of progress records and the published snapshots: 1,402 organisations, 37,199 members,
34,479 published pledges, 45,936 items, ~215,000 progress records).

Each figure is measured in a fresh child process (so its peak memory, VmHWM, is its own):

- the district committee's archive (every organisation's items streamed into the publicity
  table and ledger, monthly records per organisation and month, the statistics form …), with
  the event loop's longest stall while it was built;
- baseline, same run: the existing single export of the same scope, the district's statistics
  form, built alone;
- the archive of the district's largest branch, against its single exports built one by one
  (publicity table XLSX and PDF, ledger, each pledge letter), the way a secretary gets them today.

Targets (issue 20): the district's archive in under 30 s and under 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.domain.archive import ArchiveService
from bot.domain.clock import FakeClock
from bot.domain.exports import ExportKind, ExportService
from storage import schema as s
from storage.db import Database

TODAY = date(2026, 12, 20)
NOW = datetime(2026, 12, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TARGET_S = 30.0
TARGET_MB = 300.0


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _lag_sampler(stop: asyncio.Event, worst: list[float]) -> None:
    """The event loop's longest stall: how late a 10 ms sleep wakes up."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        worst[0] = max(worst[0], time.perf_counter() - started - 0.01)


async def _child(path: str, task: str, code: str) -> dict[str, Any]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    clock = FakeClock(NOW)
    exports = ExportService(db, clock)
    archive = ArchiveService(db, clock, exports)
    stop, worst = asyncio.Event(), [0.0]
    sampler = asyncio.create_task(_lag_sampler(stop, worst))
    started = time.perf_counter()
    size, files = 0, 0
    if task == "archive":
        built = await archive.build_for_operator(code, "zh_CN", TODAY.year)
        size, files = built.size, built.files
        built.discard()
    elif task == "stats":
        form = await exports.export_for_operator(ExportKind.STATS, code, None, "zh_CN")
        size, files = len(form.data), 1
    else:  # the branch's single exports, one by one
        for kind in (ExportKind.PUBLICITY_XLSX, ExportKind.PUBLICITY_PDF, ExportKind.LEDGER):
            size += len((await exports.export_for_operator(kind, code, None, "zh_CN")).data)
            files += 1
        async with db.read() as uow:
            org = await uow.orgs.by_code(code)
            assert org is not None
            numbers = [p["number"] for p in await uow.exports.published_pledges(org.id)]
        for number in numbers:
            letter = await exports.export_for_operator(ExportKind.LETTER, code, number, "zh_CN")
            size += len(letter.data)
            files += 1
    took = time.perf_counter() - started
    stop.set()
    await sampler
    await db.dispose()
    return {"s": took, "mb": _peak_mb(), "size": size, "files": files, "lag": worst[0]}


def _run(path: Path, task: str, code: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_archive", "--child", str(path), task, code],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def _largest_branch(path: Path) -> tuple[str, int, int]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.engine.connect() as conn:
        code, pledges = (
            await conn.execute(
                select(s.orgs.c.code, func.count(s.pledges.c.id))
                .select_from(s.orgs.join(s.pledges, s.pledges.c.org_id == s.orgs.c.id))
                .group_by(s.orgs.c.code)
                .order_by(func.count(s.pledges.c.id).desc())
                .limit(1)
            )
        ).one()
        entries = int(
            (await conn.execute(select(func.count()).select_from(s.progress_entries))).scalar_one()
        )
    await db.dispose()
    return str(code), int(pledges), entries


def main() -> None:
    """Build the district once, then each figure in a child process of its own."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=3, metavar=("DB", "TASK", "CODE"))
    parser.add_argument("--db", type=Path, help="a district built before (bench.district)")
    args = parser.parse_args()
    if args.child:
        path, task, code = args.child
        print(json.dumps(asyncio.run(_child(path, task, code))))
        return
    out = sys.stdout.write
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "district.db"
        if args.db is None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.district",
                    str(path),
                    "--today",
                    TODAY.isoformat(),
                    "--year-of-progress",
                    "--published-snapshots",
                ],
                check=True,
            )
        branch, pledges, entries = asyncio.run(_largest_branch(path))
        stats = _run(path, "stats", "D")
        district = _run(path, "archive", "D")
        one_by_one = _run(path, "singles", branch)
        branch_archive = _run(path, "archive", branch)
    out(f"district: 1,402 organisations, 45,936 items, {entries:,} progress records\n")

    def line(label: str, r: dict[str, Any]) -> None:
        out(
            f"{label:58} {r['s']:7.2f} s  peak {r['mb']:6.0f} MB  "
            f"{r['size'] / 1024 / 1024:6.2f} MB in {r['files']:>4} files  "
            f"loop stall max {r['lag'] * 1000:5.0f} ms\n"
        )

    line("baseline: the district's statistics form alone", stats)
    line("the district committee's archive (ZIP)", district)
    out(
        f"  ratio to the baseline: {district['s'] / stats['s']:.1f}x time, "
        f"{district['mb'] / stats['mb']:.2f}x peak memory\n"
    )
    met = district["s"] < TARGET_S and district["mb"] < TARGET_MB
    out(f"  targets < {TARGET_S:.0f} s and < {TARGET_MB:.0f} MB: {'met' if met else 'MISSED'}\n")
    line(f"baseline: branch {branch}'s single exports one by one ({pledges} letters)", one_by_one)
    line(f"branch {branch}'s archive (ZIP)", branch_archive)
    out(f"  ratio to the baseline: {branch_archive['s'] / one_by_one['s']:.2f}x time\n")
    if not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
