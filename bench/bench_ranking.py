"""Rankings on a district-sized database (seed 004): 1,376 branches, 37,199 members.

Adds a leader review for every second member and branch and a closed evaluation for every
third branch's members, then times (median of RUNS) the queries behind /ranking, publishing
and award proposals, and counts their statements. Baseline, measured in the same run: the
ledger's page of 16 branches below the district committee (the existing aggregate view).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, select

from bench.district import build_district
from bot.domain.selection import year_span
from bot.domain.selection_models import SubjectKind, Weights
from storage import schema as s
from storage.db import Database
from storage.selection_repo import Scope

TODAY = date(2026, 11, 2)
RUNS = 5
TARGET_S = 1.0
W = Weights()


async def _enrich(db: Database) -> None:
    """Reviews and closed evaluations so every join of the ranking has rows to find."""
    now = datetime(2026, 10, 20, tzinfo=UTC)
    async with db.engine.begin() as conn:
        people = (
            await conn.execute(select(s.people.c.id, s.people.c.org_id, s.people.c.role))
        ).all()
        branches = sorted({int(o) for _, o, _ in people})
        grades = ("good", "fairly_good", "average", "poor")
        reviews: list[dict[str, Any]] = [
            {
                "reviewer_id": 1,
                "subject_kind": "member",
                "subject_person_id": pid,
                "subject_org_id": oid,
                "period": "2026-Q3",
                "grade": grades[pid % 4],
                "comment": "",
                "published": False,
                "created_at": now,
            }
            for pid, oid, role in people
            if role == "member" and pid % 2 == 0
        ]
        reviews += [
            {
                "reviewer_id": 1,
                "subject_kind": "branch",
                "subject_person_id": None,
                "subject_org_id": oid,
                "period": "2026-Q3",
                "grade": grades[oid % 4],
                "comment": "",
                "published": False,
                "created_at": now,
            }
            for oid in branches[::2]
        ]
        await conn.execute(insert(s.leader_reviews), reviews)
        evaluations = [
            {
                "id": n + 1,
                "org_id": oid,
                "subject_kind": "members",
                "opened_by": 1,
                "status": "closed",
                "quorum": 30,
                "pass_permille": 900,
                "closes_at": now,
                "created_at": now,
                "closed_at": now,
            }
            for n, oid in enumerate(branches[::3])
        ]
        await conn.execute(insert(s.evaluations), evaluations)
        evaluation_of = {e["org_id"]: e["id"] for e in evaluations}
        subjects = []
        position: dict[int, int] = {}
        for pid, oid, role in people:
            if oid in evaluation_of and role == "member":
                position[oid] = position.get(oid, 0) + 1
                subjects.append(
                    {
                        "evaluation_id": evaluation_of[oid],
                        "position": position[oid],
                        "person_id": pid,
                        "org_id": oid,
                        "satisfied": 40,
                        "basic": 5,
                        "unsatisfied": 5,
                        "rate_permille": 800 + pid % 200,
                    }
                )
        await conn.execute(insert(s.evaluation_subjects), subjects)


async def _time(db: Database, work: Callable[[], Awaitable[Any]]) -> tuple[float, int]:
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    times = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        for _ in range(RUNS):
            statements = 0
            started = time.perf_counter()
            await work()
            times.append(time.perf_counter() - started)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return statistics.median(times), statements


async def _measure(path: Path) -> None:
    counts = await build_district(f"sqlite+aiosqlite:///{path}", TODAY)
    db = Database(f"sqlite+aiosqlite:///{path}")
    await _enrich(db)
    span = year_span(2026, ZoneInfo("Asia/Shanghai"))
    print(f"district: {counts}")

    async def ledger_page() -> None:
        async with db.uow() as uow:
            await uow.ledger.district_branches(1, TODAY, 16, 0)

    def ranking(scope: Scope, **kw: Any) -> Callable[[], Awaitable[Any]]:
        async def run() -> None:
            async with db.uow() as uow:
                await uow.selection.ranking(scope, span, W, **kw)

        return run

    cases = {
        "ledger page, 16 branches (baseline)": ledger_page,
        "branch ranking page, district (1,376)": ranking(Scope(SubjectKind.BRANCH, 1), limit=20),
        "branch snapshot, district (all rows)": ranking(Scope(SubjectKind.BRANCH, 1)),
        "branch ranking page, a township": ranking(Scope(SubjectKind.BRANCH, 2), limit=20),
        "member ranking, one branch": ranking(Scope(SubjectKind.MEMBER, 100)),
        "star candidates, district members": ranking(
            Scope(SubjectKind.MEMBER, 1, below=True), limit=10, min_fulfilment=95.0
        ),
    }
    baseline = None
    worst = 0.0
    for name, work in cases.items():
        seconds, statements = await _time(db, work)
        baseline = baseline or seconds
        if "baseline" not in name:
            worst = max(worst, seconds)
        print(
            f"{name:42s} {seconds * 1000:8.1f} ms  {statements} statement(s)  "
            f"×{seconds / baseline:.1f} of baseline"
        )
    await db.dispose()
    print(
        f"slowest ranking query {worst:.3f} s (target < {TARGET_S:.1f} s): "
        f"{'OK' if worst < TARGET_S else 'OVER'}"
    )


def main() -> None:
    """Build a district in a temporary file and time the ranking queries."""
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_measure(Path(tmp) / "district.db"))


if __name__ == "__main__":
    main()
